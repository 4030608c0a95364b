"""FHIR creates through the service's own unit of work, in this process and without HTTP: what
bench/audit_instructions.py counts and bench/audit_breakdown.py and bench/audit_commit_cost.py
time, with the command line and scratch databases those two timing benches share."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from audit import Interaction
from bench.audit_throughput import BODIES
from fhir_gateway.auditing import AuditScope
from fhir_gateway.config import Settings
from fhir_gateway.operations import create
from fhir_gateway.operations.context import RequestContext
from fhir_gateway.runtime import Runtime
from fhir_gateway.security.scopes import parse_scopes
from fhir_gateway.security.tokens import Principal


class InProcessCreates:
    """A started runtime on `database_url` (its own data directory, removed by `close`)."""

    def __init__(self, database_url: str | None = None, resource: str = "Patient") -> None:
        self.data_dir = Path(tempfile.mkdtemp())
        url = database_url or f"sqlite:///{self.data_dir / 'bench.db'}"
        self.runtime = Runtime.start(Settings(data_dir=self.data_dir, database_url=url, jwt_secret="b" * 40))
        self.resource = resource
        self.principal = Principal(
            sub="bench",
            role="system",
            scopes=parse_scopes("system/*.cruds"),
            client_id="bench",
            patient=None,
            token_id=None,
        )
        self.ctx = RequestContext(
            principal=self.principal,
            base_url="http://bench/fhir",
            request_id="r",
            source_address="127.0.0.1",
        )

    def one(self, audited: bool) -> None:
        """One create in one unit of work, audited as a request would be, or with no audit scope."""
        rt = self.runtime
        scope = None
        if audited:
            scope = AuditScope(
                Interaction.CREATE,
                self.resource,
                principal=self.principal,
                request_id="r",
                source_address="127.0.0.1",
                status=201,
            )
        with rt.unit_of_work(audit=scope) as session:
            stored = create.create(rt.store(session), self.ctx, self.resource, dict(BODIES[self.resource]))
            if scope is not None:
                scope.describe(stored)

    def close(self) -> None:
        self.runtime.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def add_timing_arguments(ap: argparse.ArgumentParser, creates: int, rounds: int) -> None:
    ap.add_argument("--creates", type=int, default=creates, help="creates per variant per round")
    ap.add_argument("--rounds", type=int, default=rounds)
    ap.add_argument("--resource", choices=["Patient", "Observation"], default="Patient")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-pg", action="store_true")


def backends(args: argparse.Namespace) -> list[tuple[str, str | None]]:
    """(name, PostgreSQL server URL or None for SQLite) for each database the bench covers."""
    return [("sqlite", None)] + ([] if args.no_pg else [("postgresql", args.pg_url)])


@contextmanager
def two_empty_databases(server_url: str | None) -> Iterator[tuple[str | None, str | None]]:
    """Two fresh PostgreSQL databases on `server_url`, dropped afterwards; for SQLite (None), two
    Nones: InProcessCreates then makes a temporary file each."""
    from tests.conftest import create_pg_database, drop_pg_database

    if server_url is None:
        yield None, None
        return
    databases = [create_pg_database(server_url) for _ in range(2)]
    try:
        yield databases[0][1], databases[1][1]
    finally:
        for name, _url in databases:
            drop_pg_database(server_url, name)
