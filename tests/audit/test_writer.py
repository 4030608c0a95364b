"""Appending: the chain, the caller's transaction, and what reaches the disk in the clear."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from audit import Interaction, append, search, verify_chain
from audit.reader import AuditQuery
from tests.audit.conftest import AuditDB
from tests.audit.support import sample_record

# Values that must never appear in the clear: a patient id, a user id, a search query.
SECRET_PATIENT = "Patient/MRN-4711-ZEBRA"
SECRET_SUB = "dr.jane.doe@hospital.example"
SECRET_QUERY = "patient=MRN-4711-ZEBRA&name=Zebrowski"


def _seqs(db: AuditDB) -> list[int]:
    with db.engine.connect() as conn:
        return list(conn.execute(select(db.tables.events.c.seq).order_by(db.tables.events.c.seq)).scalars())


def test_appends_form_a_valid_gap_free_chain(db: AuditDB) -> None:
    for i in range(12):
        with db.engine.begin() as conn:
            result = append(conn, sample_record(i), db.keys, db.tables)
            assert (result.seq, result.lane, result.position) == (i + 1, 0, i + 1)
    assert _seqs(db) == list(range(1, 13))
    with db.engine.connect() as conn:
        verdict = verify_chain(conn, db.keys, db.tables)
    assert verdict.ok, verdict.problems
    assert (verdict.count, verdict.lanes, verdict.first_bad) == (12, 1, None)


def test_empty_log_verifies(db: AuditDB) -> None:
    with db.engine.connect() as conn:
        verdict = verify_chain(conn, db.keys, db.tables)
    assert verdict.ok and verdict.count == 0


def test_rollback_of_callers_transaction_leaves_no_record(db: AuditDB) -> None:
    with db.engine.begin() as conn:
        append(conn, sample_record(1), db.keys, db.tables)
    with db.engine.connect() as conn:
        tx = conn.begin()
        append(conn, sample_record(2), db.keys, db.tables)
        tx.rollback()
    with pytest.raises(RuntimeError, match="data change failed"), db.engine.begin() as conn:
        append(conn, sample_record(3), db.keys, db.tables)
        raise RuntimeError("data change failed")
    assert _seqs(db) == [1]
    # The rolled-back appends left no hole in the chain: the next record takes position 2.
    # (PostgreSQL's sequence may skip global numbers; completeness rests on positions.)
    with db.engine.begin() as conn:
        appended = append(conn, sample_record(4), db.keys, db.tables)
    assert (appended.lane, appended.position) == (0, 2)
    if db.backend == "sqlite":
        assert appended.seq == 2
    with db.engine.connect() as conn:
        assert verify_chain(conn, db.keys, db.tables).ok


def test_record_commits_with_the_data_change_through_an_orm_session(db: AuditDB) -> None:
    data = f"{db.prefix}data"  # stands in for the service's resource table
    with db.engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {data} (id INTEGER PRIMARY KEY, body VARCHAR(20))"))
    try:
        with Session(db.engine) as session, session.begin():
            session.execute(text(f"INSERT INTO {data} (id, body) VALUES (1, 'x')"))
            append(
                session, sample_record(1, interaction=Interaction.CREATE, http_status=201), db.keys, db.tables
            )
        with Session(db.engine) as session, session.begin():
            session.execute(text(f"INSERT INTO {data} (id, body) VALUES (2, 'y')"))
            append(
                session, sample_record(2, interaction=Interaction.CREATE, http_status=201), db.keys, db.tables
            )
            session.rollback()
        with db.engine.connect() as conn:
            assert conn.execute(text(f"SELECT id FROM {data}")).scalars().all() == [1]
        assert _seqs(db) == [1]
    finally:
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {data}"))


def test_nothing_identifying_is_stored_in_the_clear(db: AuditDB) -> None:
    record = sample_record(
        1,
        agent_sub=SECRET_SUB,
        patient=SECRET_PATIENT,
        resource_id="obs-secret-77",
        interaction=Interaction.SEARCH_TYPE,
        query=SECRET_QUERY,
        source_address="192.0.2.77",
    )
    with db.engine.begin() as conn:
        append(conn, record, db.keys, db.tables)
    needles = ["MRN-4711", "ZEBRA", "Zebrowski", "jane.doe", "obs-secret-77", "192.0.2.77", "ehr-app"]
    with db.engine.connect() as conn:
        row = conn.execute(select(db.tables.events)).one()
        stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
        for needle in needles:
            assert needle.encode() not in stored, needle
        # Yet the auditor-side search finds it by patient and by agent.
        page = search(conn, db.keys, db.tables, AuditQuery(patient="MRN-4711-ZEBRA", agent=SECRET_SUB))
        assert [s.record for s in page.records] == [record]
    if db.sqlite_path is not None:
        # Whatever SQLite has written so far: the main file plus the write-ahead log.
        files = [db.sqlite_path, db.sqlite_path.with_name(db.sqlite_path.name + "-wal")]
        raw = b"".join(f.read_bytes() for f in files if f.exists())
        assert len(raw) > 4096
        for needle in needles:
            assert needle.encode() not in raw, needle


def test_body_is_bound_to_its_sequence_number(db: AuditDB) -> None:
    """Moving a ciphertext to another row breaks decryption, not just the MAC."""
    from audit.chain import DecryptError, open_sealed

    with db.engine.begin() as conn:
        append(conn, sample_record(1), db.keys, db.tables)
        row = conn.execute(select(db.tables.events)).one()
    assert open_sealed(1, row.key_version, row.nonce, row.ciphertext, db.keys).request_id == "req-1"
    with pytest.raises(DecryptError):
        open_sealed(2, row.key_version, row.nonce, row.ciphertext, db.keys)
