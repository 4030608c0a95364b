"""Wiring the audit trail into every request.

Each route opens an `AuditScope` naming the interaction before it authenticates. A successful
unit of work appends its record in the same transaction as its data (so a committed change is
never without its record, and a rolled-back one leaves none). Any failure (401, 403, 4xx, 5xx)
is recorded by the error handlers in a transaction of its own, since the request's own was
rolled back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from audit import AuditKeys, AuditRecord, Companion, Interaction, append
from fhir_gateway.db.tables import AUDIT_TABLES
from fhir_gateway.fhir.search_index import patient_reference
from fhir_gateway.security.tokens import Principal
from fhir_gateway.store.resource_store import StoredResource

log = logging.getLogger("fhir_gateway.audit")


@dataclass
class AuditScope:
    interaction: Interaction
    resource_type: str | None = None
    resource_id: str | None = None
    version_id: str | None = None
    patient: str | None = None
    operation: str | None = None
    query: str | None = None
    principal: Principal | None = None
    request_id: str | None = None
    source_address: str | None = None
    status: int = 200  # the success status the route will answer with
    recorded: bool = False

    def describe(self, stored: StoredResource) -> None:
        """Take resource type, id, version and patient from what the operation touched."""
        self.resource_type = stored.resource_type
        self.resource_id = stored.resource_id
        self.version_id = str(stored.version_id)
        self.patient = self.patient or patient_reference(stored.resource)

    def record(self, http_status: int, reason: str | None = None) -> AuditRecord:
        p = self.principal
        interaction = Interaction.LOGIN if http_status == 401 else self.interaction
        return AuditRecord.from_http(
            interaction,
            http_status,
            agent_sub=p.sub if p else None,
            agent_role=p.role if p else None,
            client_id=p.client_id if p else None,
            source_address=self.source_address,
            request_id=self.request_id,
            resource_type=self.resource_type,
            resource_id=self.resource_id,
            version_id=self.version_id,
            patient=self.patient,
            operation=self.operation,
            query=self.query,
            outcome_description=reason,
        )


def open_scope(
    request: Request, interaction: Interaction, resource_type: str | None = None, **details: str | None
) -> AuditScope:
    scope = AuditScope(
        interaction=interaction,
        resource_type=resource_type,
        request_id=getattr(request.state, "request_id", None),
        source_address=request.client.host if request.client else None,
        **details,  # type: ignore[arg-type]
    )
    request.state.audit_scope = scope
    return scope


def current_scope(request: Request) -> AuditScope | None:
    return getattr(request.state, "audit_scope", None)


def append_success(
    bind: Session | Connection, scope: AuditScope, keys: AuditKeys, companion: Companion | None = None
) -> None:
    """Inside the unit of work, just before it commits (the chain lane stays locked until then).
    `companion`: the unit of work's queued writes, sent in the same statement (PostgreSQL).
    The caller marks the scope recorded once the commit has succeeded."""
    append(bind, scope.record(scope.status), keys, AUDIT_TABLES, companion)


def append_failure(
    connection_factory,
    scope: AuditScope,
    keys: AuditKeys,
    http_status: int,  # type: ignore[no-untyped-def]
    reason: str,
) -> None:
    """In a transaction of its own; a failure to audit is logged (without PHI), never raised over
    the client's error."""
    if scope.recorded:
        return
    try:
        with connection_factory() as conn:
            append(conn, scope.record(http_status, reason), keys, AUDIT_TABLES)
        scope.recorded = True
    except Exception as exc:  # the client still gets its original error
        log.error("could not write audit record for a failed request: %s", type(exc).__name__)
