"""HTTP edge: thin FastAPI routers, request parsing, responses and error rendering."""
