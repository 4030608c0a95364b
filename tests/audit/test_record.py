from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from audit import Action, AuditRecord, Interaction, Outcome, action_for, outcome_for_status
from audit.record import normalize_reference


@pytest.mark.parametrize(
    ("interaction", "action"),
    [
        (Interaction.CREATE, Action.CREATE),
        (Interaction.READ, Action.READ),
        (Interaction.VREAD, Action.READ),
        (Interaction.UPDATE, Action.UPDATE),
        (Interaction.DELETE, Action.DELETE),
        (Interaction.SEARCH_TYPE, Action.EXECUTE),
        (Interaction.OPERATION, Action.EXECUTE),
        (Interaction.TRANSACTION, Action.EXECUTE),
        (Interaction.LOGIN, Action.EXECUTE),
    ],
)
def test_action_follows_interaction(interaction: Interaction, action: Action) -> None:
    assert action_for(interaction) is action


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SUCCESS),
        (201, Outcome.SUCCESS),
        (304, Outcome.SUCCESS),
        (401, Outcome.MINOR_FAILURE),
        (403, Outcome.MINOR_FAILURE),
        (404, Outcome.MINOR_FAILURE),
        (500, Outcome.SERIOUS_FAILURE),
    ],
)
def test_outcome_follows_http_status(status: int, outcome: Outcome) -> None:
    assert outcome_for_status(status) is outcome


def test_json_round_trip_keeps_every_field() -> None:
    record = AuditRecord.from_http(
        "vread",
        200,
        agent_sub="u1",
        agent_role="clinician",
        client_id="c",
        source_address="::1",
        request_id="r",
        resource_type="Observation",
        resource_id="o1",
        version_id="3",
        patient="p9",
        operation=None,
        query=None,
        outcome_description="ok",
    )
    again = AuditRecord.from_json_bytes(record.to_json_bytes())
    assert again == record
    assert again.patient == "Patient/p9"


def test_json_body_is_deterministic_and_omits_empty_fields() -> None:
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    record = AuditRecord(action="R", interaction="read", outcome=0, recorded=when)
    assert record.to_json_bytes() == (
        b'{"action":"R","format":1,"interaction":"read","outcome":0,"recorded":"2024-05-01T12:00:00.000000+00:00"}'
    )


def test_naive_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        AuditRecord(action="R", interaction="read", outcome=0, recorded=datetime(2024, 1, 1))


def test_unknown_body_fields_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown"):
        AuditRecord.from_json_bytes(
            b'{"format":1,"action":"R","interaction":"read","outcome":0,'
            b'"recorded":"2024-01-01T00:00:00+00:00","value":"13.2 g/dL"}'
        )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("123", "Patient/123"),
        ("Patient/123", "Patient/123"),
        ("https://x.org/fhir/Patient/123/_history/4", "Patient/123"),
    ],
)
def test_patient_references_normalise_to_one_form(given: str, expected: str) -> None:
    record = AuditRecord.from_http("read", 200, patient=given)
    assert record.patient == expected


@pytest.mark.parametrize(
    "given", ["Patient/", "/123", "a//b", " Patient/7 ", "x/Patient/7", "Patient/1/_history/2"]
)
def test_unusual_references_normalise_as_the_general_rule_says(given: str) -> None:
    parts = [p for p in given.strip().split("/_history/")[0].split("/") if p]
    assert normalize_reference(given, "Patient") == "/".join(parts[-2:])


def test_record_is_immutable_and_replace_still_validates() -> None:
    record = AuditRecord.from_http("read", 200, patient="p1")
    with pytest.raises(FrozenInstanceError):
        record.patient = "Patient/p2"  # type: ignore[misc]
    other = replace(
        record, patient="p2", recorded=datetime(2024, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    )
    assert other.patient == "Patient/p2"
    assert other.recorded == datetime(2024, 1, 1, tzinfo=UTC) and other.recorded.tzinfo is UTC
    assert other.action is Action.READ and hash(replace(other)) == hash(other)
