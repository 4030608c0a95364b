"""FHIR search and read of AuditEvent, for the auditor role only (IHE BALP-shaped events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection

from audit import AuditKeys, AuditQuery, DateFilter, get, search, to_audit_event_dict
from fhir_gateway.db.tables import AUDIT_TABLES
from fhir_gateway.fhir.outcome import FhirError, not_found
from fhir_gateway.operations.context import RequestContext, authorize

PARAMS = (
    "date",
    "agent",
    "entity",
    "patient",
    "action",
    "outcome",
    "subtype",
    "_count",
    "_offset",
    "_format",
)
ACTIONS = {"C", "R", "U", "D", "E"}
OUTCOMES = {"0", "4", "8", "12"}
MAX_COUNT = 200


def _parse(items: Sequence[tuple[str, str]], default_count: int) -> AuditQuery:
    dates: list[DateFilter] = []
    kw: dict[str, Any] = {}
    count, offset = default_count, 0
    for key, value in items:
        if key not in PARAMS:
            raise FhirError(
                400,
                "not-supported",
                f"search parameter '{key}' is not supported for AuditEvent; supported: {', '.join(PARAMS)}",
            )
        values = [v for v in value.split(",") if v]
        if not values and key != "_format":
            raise FhirError(400, "invalid", f"search parameter '{key}' has no value")
        try:
            if key == "date":
                dates.append(DateFilter.parse(value))
            elif key == "agent":
                kw["agent"] = value
            elif key == "entity":
                kw["entity"] = value
            elif key == "patient":
                kw["patient"] = value
            elif key == "action":
                if not set(values) <= ACTIONS:
                    raise FhirError(400, "invalid", "action is one of C, R, U, D, E")
                kw["action"] = values
            elif key == "outcome":
                if not set(values) <= OUTCOMES:
                    raise FhirError(400, "invalid", "outcome is one of 0, 4, 8, 12")
                kw["outcome"] = [int(v) for v in values]
            elif key == "subtype":
                kw["interaction"] = [v.rsplit("|", 1)[-1] for v in values]
            elif key == "_count":
                count = min(int(value), MAX_COUNT)
                if count < 1:
                    raise ValueError
            elif key == "_offset":
                offset = int(value)
                if not 0 <= offset <= 1_000_000:
                    raise ValueError
        except ValueError as exc:
            raise FhirError(400, "invalid", f"'{key}' has an invalid value") from exc
    return AuditQuery(date=dates, limit=count, offset=offset, **kw)


def search_audit_events(
    conn: Connection,
    keys: AuditKeys,
    ctx: RequestContext,
    items: Sequence[tuple[str, str]],
    *,
    default_count: int,
) -> dict[str, Any]:
    authorize(ctx, "AuditEvent", "s")
    query = _parse(items, default_count)
    try:
        page = search(conn, keys, AUDIT_TABLES, query, with_total=True)
    except ValueError as exc:  # e.g. an unknown interaction code
        raise FhirError(400, "invalid", "invalid AuditEvent search value") from exc
    params = [(k, v) for k, v in items if k not in ("_count", "_offset")]

    def link(offset: int) -> str:
        paging = [("_count", str(query.limit)), ("_offset", str(offset))]
        return f"{ctx.base_url}/AuditEvent?{urlencode([*params, *paging])}"

    links = [{"relation": "self", "url": link(query.offset)}]
    if page.next_cursor is not None:
        links.append({"relation": "next", "url": link(query.offset + query.limit)})
    if query.offset:
        links.append({"relation": "previous", "url": link(max(0, query.offset - query.limit))})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": links,
    }
    if page.records:
        bundle["entry"] = [
            {
                "fullUrl": f"{ctx.base_url}/AuditEvent/{r.seq}",
                "resource": to_audit_event_dict(r),
                "search": {"mode": "match"},
            }
            for r in page.records
        ]
    return bundle


def read_audit_event(conn: Connection, keys: AuditKeys, ctx: RequestContext, event_id: str) -> dict[str, Any]:
    authorize(ctx, "AuditEvent", "r")
    if not event_id.isdigit() or len(event_id) > 18:
        raise not_found("AuditEvent", event_id)
    stored = get(conn, keys, AUDIT_TABLES, int(event_id))
    if stored is None:
        raise not_found("AuditEvent", event_id)
    return to_audit_event_dict(stored)
