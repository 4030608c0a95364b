"""Alembic environment: runs on a connection handed in by `fhir_gateway.db.engine.migrate`,
or on `sqlalchemy.url` when called from the alembic CLI."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from fhir_gateway.db.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
