"""NDJSON export for a SIEM: one AuditEvent (or one plain record) per line, oldest first.

The "record" format also carries each row's chain place and MAC. A SIEM that keeps the last
exported (lane, position, mac) of every lane holds an external anchor: someone able to rewrite
the whole database, heads included, still cannot make it agree with an earlier export without
the MAC key.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, TextIO

from sqlalchemy import Connection

from audit.fhir import to_audit_event_dict
from audit.keys import AuditKeys
from audit.reader import iter_since
from audit.record import AuditRecord
from audit.schema import AuditTables

ExportFormat = Literal["fhir", "record"]


def export_ndjson(
    conn: Connection,
    keys: AuditKeys,
    tables: AuditTables,
    out: TextIO,
    *,
    since: datetime | None = None,
    fmt: ExportFormat = "fhir",
    observer: str = "cbc-fhir-gateway",
) -> int:
    """Write every record recorded at or after `since`; returns the number of lines written."""
    written = 0
    for stored in iter_since(conn, keys, tables, since):
        if fmt == "fhir":
            line: dict[str, Any] = to_audit_event_dict(stored, observer=observer)
        else:
            place = {
                "seq": stored.seq,
                "lane": stored.lane,
                "position": stored.position,
                "mac": stored.mac.hex(),
            }
            line = {**place, **_record_dict(stored.record)}
        out.write(json.dumps(line, separators=(",", ":"), ensure_ascii=False))
        out.write("\n")
        written += 1
    return written


def _record_dict(record: AuditRecord) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(record.to_json_bytes())
    body.pop("format", None)
    return body
