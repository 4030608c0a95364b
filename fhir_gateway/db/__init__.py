"""Persistence: SQLAlchemy 2 tables, engine/session factory, Alembic migrations, unit of work."""
