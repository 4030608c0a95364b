from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from fhir.resources.R4B.auditevent import AuditEvent

from audit import append, export_ndjson
from tests.audit.conftest import AuditDB
from tests.audit.support import sample_record

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _fill(db: AuditDB) -> None:
    with db.engine.begin() as conn:
        for i in range(6):
            append(conn, sample_record(i, recorded=T0 + timedelta(hours=i)), db.keys, db.tables)


def test_fhir_ndjson_since_a_timestamp(db: AuditDB) -> None:
    _fill(db)
    out = io.StringIO()
    with db.engine.connect() as conn:
        written = export_ndjson(conn, db.keys, db.tables, out, since=T0 + timedelta(hours=3, minutes=30))
    lines = out.getvalue().splitlines()
    assert written == len(lines) == 2
    events = [AuditEvent.model_validate_json(line) for line in lines]
    assert [e.id for e in events] == ["5", "6"]


def test_record_ndjson_carries_the_chain_mac_for_anchoring(db: AuditDB) -> None:
    _fill(db)
    out = io.StringIO()
    with db.engine.connect() as conn:
        assert export_ndjson(conn, db.keys, db.tables, out, fmt="record") == 6
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["seq"], r["lane"], r["position"]) for r in rows] == [(i, 0, i) for i in range(1, 7)]
    assert all(len(bytes.fromhex(r["mac"])) == 32 for r in rows)
    assert rows[0]["patient"] == "Patient/pat-0" and rows[0]["request_id"] == "req-0"
