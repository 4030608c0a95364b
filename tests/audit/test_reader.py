"""Searching the log the way GET /fhir/AuditEvent does: dates with prefixes, agent, patient, paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from audit import Action, AuditQuery, DateFilter, Interaction, Outcome, append, get, search
from tests.audit.conftest import AuditDB
from tests.audit.support import sample_record

DAY = [datetime(2024, 3, d, 10, 30, tzinfo=UTC) for d in range(1, 11)]  # 1..10 March 2024


@pytest.fixture
def filled(db: AuditDB) -> AuditDB:
    """Ten records, one per day; even days are searches that failed with 403."""
    with db.engine.begin() as conn:
        for i, when in enumerate(DAY):
            overrides = {"recorded": when, "agent_sub": "alice" if i < 4 else "bob"}
            if (i + 1) % 2 == 0:
                overrides |= {
                    "interaction": Interaction.SEARCH_TYPE,
                    "http_status": 403,
                    "query": "code=718-7",
                }
            append(conn, sample_record(i, **overrides), db.keys, db.tables)
    return db


def _seqs(db: AuditDB, **criteria: Any) -> list[int]:
    with db.engine.connect() as conn:
        return [s.seq for s in search(conn, db.keys, db.tables, AuditQuery(**criteria)).records]


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2024", datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
        ("ge2024-12", datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
        ("lt2024-02-29", datetime(2024, 2, 29, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC)),
        (
            "eq2024-03-05T10:30",
            datetime(2024, 3, 5, 10, 30, tzinfo=UTC),
            datetime(2024, 3, 5, 10, 31, tzinfo=UTC),
        ),
        (
            "gt2024-03-05T12:30:00+02:00",
            datetime(2024, 3, 5, 10, 30, tzinfo=UTC),
            datetime(2024, 3, 5, 10, 30, 1, tzinfo=UTC),
        ),
    ],
)
def test_date_values_name_a_range(value: str, start: datetime, end: datetime) -> None:
    parsed = DateFilter.parse(value)
    assert (parsed.start, parsed.end) == (start, end)


@pytest.mark.parametrize("bad", ["2024-3", "yesterday", "xx2024", "2024-03-05T10"])
def test_malformed_dates_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        DateFilter.parse(bad)


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["2024-03-03"], [3]),
        (["ge2024-03-08"], [10, 9, 8]),
        (["gt2024-03-08"], [10, 9]),
        (["le2024-03-02"], [2, 1]),
        (["lt2024-03-02"], [1]),
        (["ge2024-03-04", "lt2024-03-06"], [5, 4]),
        (["ne2024-03"], []),
        (["2024-03-05T10:30:00Z"], [5]),
    ],
)
def test_date_prefixes(filled: AuditDB, dates: list[str], expected: list[int]) -> None:
    assert _seqs(filled, date=dates) == expected


def test_filters_by_agent_patient_entity_action_outcome(filled: AuditDB) -> None:
    assert _seqs(filled, agent="alice") == [4, 3, 2, 1]
    assert _seqs(filled, agent="nobody") == []
    assert _seqs(filled, patient="pat-1") == [10, 6, 2]  # records 2, 6, 10 (i = 1, 5, 9)
    assert _seqs(filled, patient="Patient/pat-1") == [10, 6, 2]
    assert _seqs(filled, entity="Observation/obs-2") == [3]
    assert _seqs(filled, action=[Action.EXECUTE]) == [10, 8, 6, 4, 2]
    assert _seqs(filled, outcome=[Outcome.MINOR_FAILURE], agent="alice") == [4, 2]
    assert _seqs(filled, action=["R"], outcome=[0], date=["ge2024-03-07"]) == [9, 7]
    assert _seqs(
        filled, interaction=["search-type"], agent_role="clinician", resource_type="Observation"
    ) == [10, 8, 6, 4, 2]


def test_offset_paging_with_total(filled: AuditDB) -> None:
    with filled.engine.connect() as conn:
        first = search(conn, filled.keys, filled.tables, AuditQuery(limit=4), with_total=True)
        third = search(conn, filled.keys, filled.tables, AuditQuery(limit=4, offset=8), with_total=True)
    assert [s.seq for s in first.records] == [10, 9, 8, 7] and first.total == 10
    assert [s.seq for s in third.records] == [2, 1] and third.next_cursor is None


def test_keyset_paging_is_stable_while_records_arrive(filled: AuditDB) -> None:
    seen: list[int] = []
    query = AuditQuery(limit=3)
    with filled.engine.connect() as conn:
        page = search(conn, filled.keys, filled.tables, query)
    with filled.engine.begin() as conn:  # a new record lands between page fetches
        append(conn, sample_record(99), filled.keys, filled.tables)
    while True:
        seen.extend(s.seq for s in page.records)
        if page.next_cursor is None:
            break
        with filled.engine.connect() as conn:
            page = search(conn, filled.keys, filled.tables, AuditQuery(limit=3, cursor=page.next_cursor))
    assert seen == list(range(10, 0, -1))


def test_get_decrypts_one_record(filled: AuditDB) -> None:
    with filled.engine.connect() as conn:
        stored = get(conn, filled.keys, filled.tables, 4)
        missing = get(conn, filled.keys, filled.tables, 404)
    assert stored is not None and stored.record.query == "code=718-7" and stored.record.http_status == 403
    assert missing is None


def test_entity_needs_a_type(filled: AuditDB) -> None:
    with pytest.raises(ValueError, match="Observation/123"):
        _seqs(filled, entity="obs-2")
