"""AuditEvent rendering: valid R4, shaped after IHE BALP, and nothing clinical in it."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.auditevent import AuditEvent

from audit import AuditRecord, Interaction, to_audit_event, to_audit_event_dict
from audit.fhir import DCM, OBJECT_ROLE, RESTFUL_INTERACTION
from audit.reader import StoredRecord

WHEN = datetime(2024, 6, 1, 8, 15, 30, 123456, tzinfo=UTC)
BASE: dict[str, Any] = {
    "agent_sub": "dr.who",
    "agent_role": "clinician",
    "client_id": "ehr-app",
    "source_address": "10.0.0.8",
    "request_id": "req-42",
    "recorded": WHEN,
}


def _event(interaction: Interaction | str, status: int = 200, **details: Any) -> dict[str, Any]:
    record = AuditRecord.from_http(interaction, status, **(BASE | details))
    rendered = to_audit_event_dict(
        StoredRecord(seq=7, lane=0, position=7, key_version=1, mac=bytes(32), record=record)
    )
    # Valid R4 (fhir.resources R4B shares R4's AuditEvent) after a JSON round trip.
    AuditEvent.model_validate(json.loads(json.dumps(rendered)))
    return rendered


def _entity(event: dict[str, Any], role_code: str) -> dict[str, Any]:
    return next(e for e in event["entity"] if e.get("role", {}).get("code") == role_code)


def _agent(event: dict[str, Any], code: str) -> dict[str, Any]:
    return next(a for a in event["agent"] if a["type"]["coding"][0]["code"] == code)


def test_create_shape() -> None:
    event = _event(Interaction.CREATE, 201, resource_type="Observation", resource_id="o1", patient="p1")
    assert event["type"]["code"] == "rest"
    assert event["subtype"] == [{"system": RESTFUL_INTERACTION, "code": "create"}]
    assert (event["action"], event["outcome"], event["id"]) == ("C", "0", "7")
    assert event["recorded"].startswith("2024-06-01T08:15:30.123456")
    user = _agent(event, "AGNT")
    assert user["who"]["identifier"]["value"] == "dr.who" and user["requestor"] is True
    assert user["role"] == [{"text": "clinician"}]
    client = _agent(event, "110153")
    assert client["who"]["identifier"]["value"] == "ehr-app"
    assert client["network"] == {"address": "10.0.0.8", "type": "2"}
    assert _agent(event, "110152")["requestor"] is False
    assert _entity(event, "4")["what"]["reference"] == "Observation/o1"
    assert _entity(event, "1")["what"]["reference"] == "Patient/p1"
    assert event["source"]["type"][0]["code"] == "4"


def test_read_and_patient_read_shapes() -> None:
    read = _event(Interaction.VREAD, resource_type="DiagnosticReport", resource_id="d1", version_id="2")
    assert read["action"] == "R" and read["subtype"][0]["code"] == "vread"
    assert _entity(read, "4")["what"]["reference"] == "DiagnosticReport/d1/_history/2"
    assert not any(e.get("role", {}).get("code") == "1" for e in read["entity"])
    assert _agent(read, "IRCP")["requestor"] is True
    patient_read = _event(
        Interaction.READ, resource_type="Observation", resource_id="o1", patient="Patient/p1"
    )
    patient = _entity(patient_read, "1")
    assert patient["type"]["code"] == "1" and patient["role"]["system"] == OBJECT_ROLE


def test_query_shape_carries_the_query_base64() -> None:
    event = _event(
        Interaction.SEARCH_TYPE, resource_type="Observation", query="patient=p1&code=718-7", patient="p1"
    )
    assert event["action"] == "E" and event["subtype"][0]["code"] == "search-type"
    query = _entity(event, "24")
    assert base64.b64decode(query["query"]).decode() == "patient=p1&code=718-7"
    assert "name" not in query  # R4 sev-1: name and query are exclusive


def test_operation_shape_names_the_operation() -> None:
    event = _event(
        Interaction.OPERATION, operation="$analyze", resource_type="DocumentReference", resource_id="x"
    )
    assert event["subtype"][0]["code"] == "operation"
    details = [d for e in event["entity"] for d in e.get("detail", [])]
    assert {"type": "operation", "valueString": "$analyze"} in details


def test_login_failure_shape() -> None:
    event = _event(
        Interaction.LOGIN,
        401,
        agent_sub=None,
        agent_role=None,
        client_id=None,
        source_address="scanner.lab.local",
        outcome_description="token expired",
    )
    assert event["type"] == {"system": DCM, "code": "110114", "display": "User Authentication"}
    assert event["subtype"][0]["code"] == "110122"
    assert (event["outcome"], event["outcomeDesc"]) == ("4", "HTTP 401; token expired")
    assert event["agent"][0]["who"] == {"display": "unauthenticated"}
    assert _agent(event, "110153")["network"] == {"address": "scanner.lab.local", "type": "1"}


def test_denied_read_is_a_minor_failure() -> None:
    event = _event(Interaction.READ, 403, resource_type="AuditEvent", resource_id="1")
    assert event["outcome"] == "4" and event["outcomeDesc"] == "HTTP 403"


def test_request_id_is_an_entity() -> None:
    event = _event(Interaction.READ, resource_type="Observation", resource_id="o1")
    request = next(e for e in event["entity"] if e["type"]["code"] == "XrequestId")
    assert request["what"]["identifier"]["value"] == "req-42"


@pytest.mark.parametrize("interaction", list(Interaction))
def test_every_interaction_renders_valid(interaction: Interaction) -> None:
    model = to_audit_event(
        StoredRecord(
            seq=1,
            lane=0,
            position=1,
            key_version=1,
            mac=bytes(32),
            record=AuditRecord.from_http(interaction, 200, recorded=WHEN),
        )
    )
    assert isinstance(model, AuditEvent) and model.agent and model.source.observer.display


VALIDATOR = Path(__file__).resolve().parents[1] / "validators" / "validate.js"


@pytest.mark.skipif(
    shutil.which("node") is None or not (VALIDATOR.parent / "node_modules").is_dir(),
    reason="node validators not installed",
)
def test_independent_validators_accept_every_shape() -> None:
    """The official R4 JSON schema and FHIR.js, which share no code with fhir.resources."""
    shapes = [
        _event(Interaction.CREATE, 201, resource_type="Observation", resource_id="o1", patient="p1"),
        _event(Interaction.VREAD, resource_type="DiagnosticReport", resource_id="d1", version_id="2"),
        _event(
            Interaction.SEARCH_TYPE, resource_type="Observation", query="patient=p1&code=718-7", patient="p1"
        ),
        _event(
            Interaction.OPERATION, operation="$analyze", resource_type="DocumentReference", resource_id="x"
        ),
        _event(Interaction.LOGIN, 401, agent_sub=None, client_id=None, outcome_description="token expired"),
        _event(Interaction.READ, 403, resource_type="AuditEvent", resource_id="1"),
    ]
    lines = "".join(json.dumps(shape) + "\n" for shape in shapes)
    done = subprocess.run(
        ["node", str(VALIDATOR)], input=lines, capture_output=True, text=True, timeout=60, check=True
    )
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(shapes)
    for shape, result in zip(shapes, results, strict=True):
        assert result == {"schema": [], "fhirjs": []}, (shape["subtype"], result)
