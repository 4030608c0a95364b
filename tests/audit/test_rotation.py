"""Key rotation: new records use the new key; old ones stay readable and verifiable."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from audit import AuditQuery, append, search, verify_chain
from tests.audit.conftest import AuditDB
from tests.audit.support import sample_record


def test_old_records_stay_readable_and_verifiable_after_rotation(db: AuditDB) -> None:
    with db.engine.begin() as conn:
        for i in range(3):
            append(conn, sample_record(i), db.keys, db.tables)
    rotated = db.keys.rotated()
    with db.engine.begin() as conn:
        for i in range(3, 6):
            append(conn, sample_record(i), rotated, db.tables)
    with db.engine.connect() as conn:
        versions = conn.execute(select(db.tables.events.c.key_version).order_by("seq")).scalars().all()
        assert versions == [1, 1, 1, 2, 2, 2]
        assert verify_chain(conn, rotated, db.tables).ok
        page = search(conn, rotated, db.tables, AuditQuery(newest_first=False))
        assert [s.record.request_id for s in page.records] == [f"req-{i}" for i in range(6)]
        # Patient search spans both key versions: the blind-index key does not rotate.
        by_patient = search(conn, rotated, db.tables, AuditQuery(patient="pat-0"))
        assert [s.seq for s in by_patient.records] == [5, 1]


def test_verify_names_records_whose_key_is_missing(db: AuditDB) -> None:
    with db.engine.begin() as conn:
        append(conn, sample_record(0), db.keys, db.tables)
    rotated = db.keys.rotated()
    with db.engine.begin() as conn:
        append(conn, sample_record(1), rotated, db.tables)
    # A keyring that lost version 1: the chain still links (MAC key unchanged) but record 1 is unreadable.
    lost_v1 = replace(rotated, encryption_keys={2: rotated.encryption_key(2)})
    with db.engine.connect() as conn:
        verdict = verify_chain(conn, lost_v1, db.tables)
        assert verify_chain(conn, lost_v1, db.tables, decrypt=False).ok
    assert verdict.first_bad_seq == 1
    assert "key version 1" in (verdict.reason or "")
