"""The audit record: one typed value per audited interaction, and its JSON body.

The JSON body is what gets encrypted, so every field may carry PHI-adjacent data (patient
references, search queries). Only the derived, non-identifying columns in `audit.schema` are
stored in the clear.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from functools import lru_cache
from typing import Any

import orjson

BODY_FORMAT = 1  # bump when the JSON body changes incompatibly; readers dispatch on it


class Action(StrEnum):
    """FHIR AuditEvent.action (http://hl7.org/fhir/audit-event-action)."""

    CREATE = "C"
    READ = "R"
    UPDATE = "U"
    DELETE = "D"
    EXECUTE = "E"


class Outcome(IntEnum):
    """FHIR AuditEvent.outcome (http://hl7.org/fhir/audit-event-outcome)."""

    SUCCESS = 0
    MINOR_FAILURE = 4  # the request was refused or found nothing: 401, 403, 404, 4xx
    SERIOUS_FAILURE = 8  # the server failed: 5xx
    MAJOR_FAILURE = 12  # the service became unavailable


class Interaction(StrEnum):
    """What was attempted. All but LOGIN are codes of http://hl7.org/fhir/restful-interaction."""

    CREATE = "create"
    READ = "read"
    VREAD = "vread"
    UPDATE = "update"
    PATCH = "patch"
    DELETE = "delete"
    HISTORY_INSTANCE = "history-instance"
    HISTORY_TYPE = "history-type"
    SEARCH_TYPE = "search-type"
    SEARCH_SYSTEM = "search-system"
    CAPABILITIES = "capabilities"
    OPERATION = "operation"  # e.g. $analyze; the name goes in AuditRecord.operation
    TRANSACTION = "transaction"
    BATCH = "batch"
    LOGIN = "login"  # bearer-token authentication; audited on failure (401)


_ACTION_OF: dict[Interaction, Action] = {
    Interaction.CREATE: Action.CREATE,
    Interaction.READ: Action.READ,
    Interaction.VREAD: Action.READ,
    Interaction.HISTORY_INSTANCE: Action.READ,
    Interaction.HISTORY_TYPE: Action.READ,
    Interaction.CAPABILITIES: Action.READ,
    Interaction.UPDATE: Action.UPDATE,
    Interaction.PATCH: Action.UPDATE,
    Interaction.DELETE: Action.DELETE,
    # BALP codes searches as Execute: the server runs a query rather than returning one known object.
    Interaction.SEARCH_TYPE: Action.EXECUTE,
    Interaction.SEARCH_SYSTEM: Action.EXECUTE,
    Interaction.OPERATION: Action.EXECUTE,
    Interaction.TRANSACTION: Action.EXECUTE,
    Interaction.BATCH: Action.EXECUTE,
    Interaction.LOGIN: Action.EXECUTE,
}


def action_for(interaction: Interaction) -> Action:
    return _ACTION_OF[interaction]


def outcome_for_status(http_status: int) -> Outcome:
    if http_status < 400:
        return Outcome.SUCCESS
    if http_status < 500:
        return Outcome.MINOR_FAILURE
    return Outcome.SERIOUS_FAILURE


def utc_now() -> datetime:
    return datetime.now(UTC)


def normalize_reference(value: str, default_type: str) -> str:
    """`123` → `Patient/123`; absolute or typed references are kept, so lookups hash one form."""
    value = value.strip()
    if value.count("/") == 1 and value[0] != "/" and value[-1] != "/":
        return value  # already Type/id (the common case): the same answer as below, cheaper
    if "/" in value:
        # Keep only the last Type/id pair of e.g. https://host/fhir/Patient/123/_history/2.
        parts = [p for p in value.split("/_history/")[0].split("/") if p]
        return "/".join(parts[-2:])
    return f"{default_type}/{value}"


@dataclass(frozen=True, init=False, kw_only=True)
class AuditRecord:
    """Who did what to which resource of which patient, when, from where, and how it ended.

    Never put clinical values here: the record becomes an AuditEvent shown to auditors, who
    must see who/what/when and nothing clinical. `outcome_description` is free text — keep it
    to a reason such as "token expired", never a message that echoes request content.
    """

    action: Action
    interaction: Interaction
    outcome: Outcome
    recorded: datetime = field(default_factory=utc_now)
    http_status: int | None = None
    agent_sub: str | None = None  # None when the token was missing or did not verify
    agent_role: str | None = None
    client_id: str | None = None
    source_address: str | None = None
    request_id: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    version_id: str | None = None
    patient: str | None = None  # "Patient/123"; PHI, hence only encrypted + blind-indexed
    operation: str | None = None  # "$analyze"
    query: str | None = None  # search query string; may hold identifiers, so encrypted only
    outcome_description: str | None = None

    def __init__(
        self,
        *,
        action: Action | str,
        interaction: Interaction | str,
        outcome: Outcome | int,
        recorded: datetime | None = None,
        http_status: int | None = None,
        agent_sub: str | None = None,
        agent_role: str | None = None,
        client_id: str | None = None,
        source_address: str | None = None,
        request_id: str | None = None,
        resource_type: str | None = None,
        resource_id: str | None = None,
        version_id: str | None = None,
        patient: str | None = None,
        operation: str | None = None,
        query: str | None = None,
        outcome_description: str | None = None,
    ) -> None:
        # Written by hand: a frozen dataclass's generated __init__ sets each of the 17 fields
        # through a call to object.__setattr__, which was most of the cost of a record (one per
        # request). Filling the instance dict at once gives the same object; assignment after
        # construction still raises FrozenInstanceError.
        if recorded is None:
            recorded = utc_now()
        elif recorded.tzinfo is None:
            raise ValueError("AuditRecord.recorded must be timezone-aware")
        elif recorded.tzinfo is not UTC:
            recorded = recorded.astimezone(UTC)
        # Coerce plain strings/ints from callers into the enums, so equality and JSON are stable
        # (only when needed: an enum's constructor is a slow Python call, and the service already
        # passes enums).
        self.__dict__.update(
            {
                "action": action if type(action) is Action else Action(action),
                "interaction": interaction if type(interaction) is Interaction else Interaction(interaction),
                "outcome": outcome if type(outcome) is Outcome else Outcome(outcome),
                "recorded": recorded,
                "http_status": http_status,
                "agent_sub": agent_sub,
                "agent_role": agent_role,
                "client_id": client_id,
                "source_address": source_address,
                "request_id": request_id,
                "resource_type": resource_type,
                "resource_id": resource_id,
                "version_id": version_id,
                "patient": None if patient is None else normalize_reference(patient, "Patient"),
                "operation": operation,
                "query": query,
                "outcome_description": outcome_description,
            }
        )

    @classmethod
    def from_http(cls, interaction: Interaction | str, http_status: int, **details: Any) -> AuditRecord:
        """Derive action and outcome the usual way; the service calls this once per request."""
        if type(interaction) is not Interaction:
            interaction = Interaction(interaction)
        return cls(
            action=_ACTION_OF[interaction],
            interaction=interaction,
            outcome=outcome_for_status(http_status),
            http_status=http_status,
            **details,
        )

    @property
    def entity_reference(self) -> str | None:
        """`Type/id` of the resource acted on, when there is one."""
        if self.resource_type and self.resource_id:
            return f"{self.resource_type}/{self.resource_id}"
        return None

    def to_json_bytes(self) -> bytes:
        # orjson writes the enums as their values (they subclass str and int); the instant is
        # spelled by format_instant, always to the microsecond. The instance dict holds exactly
        # the fields (see __init__), and reading it is cheaper than a getattr per field.
        body: dict[str, Any] = {name: value for name, value in self.__dict__.items() if value is not None}
        body["recorded"] = format_instant(self.recorded)
        body["format"] = BODY_FORMAT
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)  # compact UTF-8, stable key order

    @classmethod
    def from_json_bytes(cls, data: bytes) -> AuditRecord:
        body = json.loads(data)
        if body.pop("format", None) != BODY_FORMAT:
            raise ValueError("unsupported audit record body format")
        known = {f.name for f in fields(cls)}
        unknown = set(body) - known
        if unknown:
            raise ValueError(f"unknown audit record fields: {sorted(unknown)}")
        body["recorded"] = datetime.fromisoformat(body["recorded"])
        return cls(**body)


@lru_cache(maxsize=256)
def format_instant(value: datetime) -> str:
    """One fixed spelling of an instant (UTC, microseconds), used in JSON and in the MAC input.

    Cached: an append spells its record's instant three times (body, MAC, row), and isoformat
    is a formatted print. Equal datetimes are the same instant, whatever their zone, so a cached
    spelling is always the right one."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")
