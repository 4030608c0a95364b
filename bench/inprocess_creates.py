"""FHIR creates through the service's own unit of work, in this process and without HTTP: what
bench/audit_instructions.py counts and bench/audit_breakdown.py times."""

from __future__ import annotations

import shutil
import tempfile
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
