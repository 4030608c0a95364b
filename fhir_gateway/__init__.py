"""CBC FHIR Gateway service: FastAPI app, FHIR operations, OCR adapter, persistence, security, CLI."""

__version__ = "0.1.0"
