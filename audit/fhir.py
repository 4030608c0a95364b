"""Render a stored record as an R4 AuditEvent shaped after IHE Basic Audit Log Patterns (BALP).

Shapes: RESTful interactions use type `rest` with the restful-interaction code as subtype (BALP
Create / Read / Query / Update / Delete, and their Patient* variants when a patient is named);
token failures use DICOM "User Authentication" / "Login" (the shape of a security event). Agents
follow BALP: the user (requestor), the client application at its network address (DICOM Source
Role ID) and this server (Destination Role ID). The record holds identifiers only, so nothing
clinical can reach the auditor through this rendering.

BALP profiles are not claimed in `meta.profile`: a claim would need validation against the IG,
which this package does not do.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from typing import Any

from fhir.resources.R4B.auditevent import AuditEvent

from audit.reader import StoredRecord
from audit.record import Action, AuditRecord, Interaction

DCM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
BALP_ENTITY_TYPE = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"

_SYSTEM_OBJECT = {"system": ENTITY_TYPE, "code": "2", "display": "System Object"}
_PERSON = {"system": ENTITY_TYPE, "code": "1", "display": "Person"}


def to_audit_event(
    stored: StoredRecord,
    *,
    observer: str = "cbc-fhir-gateway",
    site: str | None = None,
    identity_system: str | None = None,
) -> AuditEvent:
    """`observer` names this gateway; `identity_system` is the token issuer, qualifying `sub`."""
    record = stored.record
    data: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(stored.seq),
        "action": record.action.value,
        "recorded": record.recorded.isoformat(),
        "outcome": str(int(record.outcome)),
        "agent": _agents(record, observer, identity_system),
        "source": _source(observer, site),
        **_type_and_subtype(record),
    }
    description = _outcome_description(record)
    if description:
        data["outcomeDesc"] = description
    entities = _entities(record)
    if entities:
        data["entity"] = entities
    return AuditEvent.model_validate(data)


def to_audit_event_dict(stored: StoredRecord, **options: Any) -> dict[str, Any]:
    """JSON-ready dict (FHIR JSON, no nulls)."""
    result: dict[str, Any] = json.loads(to_audit_event(stored, **options).model_dump_json(exclude_none=True))
    return result


def _type_and_subtype(record: AuditRecord) -> dict[str, Any]:
    if record.interaction is Interaction.LOGIN:
        return {
            "type": {"system": DCM, "code": "110114", "display": "User Authentication"},
            "subtype": [{"system": DCM, "code": "110122", "display": "Login"}],
        }
    return {
        "type": {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "Restful Operation"},
        "subtype": [{"system": RESTFUL_INTERACTION, "code": record.interaction.value}],
    }


def _outcome_description(record: AuditRecord) -> str | None:
    parts = []
    if record.http_status is not None:
        parts.append(f"HTTP {record.http_status}")
    if record.outcome_description:
        parts.append(record.outcome_description)
    return "; ".join(parts) or None


def _agents(record: AuditRecord, observer: str, identity_system: str | None) -> list[dict[str, Any]]:
    # BALP: IRCP (information recipient) for reads and queries, AGNT for pushes (create, update, delete).
    user_type = (
        {"system": ROLE_CLASS, "code": "AGNT", "display": "agent"}
        if record.action in (Action.CREATE, Action.UPDATE, Action.DELETE)
        else {"system": PARTICIPATION_TYPE, "code": "IRCP", "display": "information recipient"}
    )
    if record.agent_sub:
        who: dict[str, Any] = {"identifier": {"value": record.agent_sub}}
        if identity_system:
            who["identifier"]["system"] = identity_system
    else:
        who = {"display": "unauthenticated"}
    user: dict[str, Any] = {"type": {"coding": [user_type]}, "who": who, "requestor": True}
    if record.agent_role:
        user["role"] = [{"text": record.agent_role}]

    client: dict[str, Any] = {
        "type": {"coding": [{"system": DCM, "code": "110153", "display": "Source Role ID"}]},
        "requestor": False,
    }
    if record.client_id:
        client["who"] = {"identifier": {"value": record.client_id}}
    if record.source_address:
        client["network"] = {"address": record.source_address, "type": _network_type(record.source_address)}

    server = {
        "type": {"coding": [{"system": DCM, "code": "110152", "display": "Destination Role ID"}]},
        "who": {"display": observer},
        "requestor": False,
    }
    return [user, client, server]


def _network_type(address: str) -> str:
    """audit-event-network-type: 2 = IP address, 1 = machine name."""
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return "1"
    return "2"


def _source(observer: str, site: str | None) -> dict[str, Any]:
    source: dict[str, Any] = {
        "observer": {"display": observer},
        "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
    }
    if site:
        source["site"] = site
    return source


def _entities(record: AuditRecord) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    reference = record.entity_reference
    if reference:
        if record.version_id:
            reference = f"{reference}/_history/{record.version_id}"
        entities.append(
            {
                "what": {"reference": reference},
                "type": _SYSTEM_OBJECT,
                "role": {"system": OBJECT_ROLE, "code": "4", "display": "Domain Resource"},
            }
        )
    if record.query is not None:
        # BALP carries the whole query, base64-encoded, in a Query-role entity.
        query = {
            "type": _SYSTEM_OBJECT,
            "role": {"system": OBJECT_ROLE, "code": "24", "display": "Query"},
            "query": base64.b64encode(record.query.encode()).decode(),
        }
        if record.resource_type:
            query["description"] = f"search of {record.resource_type}"
        entities.append(query)
    if record.operation:
        entities.append(
            {
                "type": _SYSTEM_OBJECT,
                "description": "FHIR operation",
                "detail": [{"type": "operation", "valueString": record.operation}],
            }
        )
    if record.patient:
        entities.append(
            {
                "what": {"reference": record.patient},
                "type": _PERSON,
                "role": {"system": OBJECT_ROLE, "code": "1", "display": "Patient"},
            }
        )
    if record.request_id:
        entities.append(
            {
                "what": {"identifier": {"value": record.request_id}},
                "type": {"system": BALP_ENTITY_TYPE, "code": "XrequestId", "display": "X-Request-Id"},
            }
        )
    return entities
