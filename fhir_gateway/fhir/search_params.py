"""Parse a FHIR search query string into a typed query (pure; no database)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from fhir_gateway.fhir.dates import parse_range
from fhir_gateway.fhir.outcome import FhirError
from fhir_gateway.fhir.resource_types import RESULT_PARAMS, SORT_KEYS, params_for

DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class DateCondition:
    prefix: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class TokenCondition:
    param: str
    alternatives: tuple[tuple[str | None, str], ...]  # (system or None for any, code)


@dataclass
class SearchQuery:
    resource_type: str
    ids: list[tuple[str, ...]] = field(default_factory=list)
    patients: list[tuple[str, ...]] = field(default_factory=list)  # each a tuple of OR'ed 'Patient/<id>'
    tokens: list[TokenCondition] = field(default_factory=list)
    dates: list[DateCondition] = field(default_factory=list)
    last_updated: list[DateCondition] = field(default_factory=list)
    count: int = 20
    offset: int = 0
    sort: str | None = None

    def canonical_params(self, raw: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """The query echoed back for self/next links, without paging params."""
        return [(k, v) for k, v in raw if k not in ("_count", "_offset")]


def _reference(value: str, param: str) -> str:
    ref = value.rstrip("/").split("/fhir/")[-1]
    if "/" not in ref:
        ref = f"Patient/{ref}"
    rtype, _, rid = ref.rpartition("/")
    rtype = rtype.split("/")[-1]
    if param in ("patient", "subject") and rtype != "Patient":
        raise FhirError(400, "not-supported", f"search parameter '{param}' supports Patient references only")
    if not ID_PATTERN.match(rid):
        raise FhirError(400, "invalid", f"'{param}' is not a valid reference")
    return f"{rtype}/{rid}"


def _date(value: str, param: str) -> DateCondition:
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    body = value[2:] if value[:2] in DATE_PREFIXES else value
    try:
        start, end = parse_range(body)
    except ValueError as exc:
        raise FhirError(
            400, "invalid", f"'{param}' must be a FHIR date or dateTime, optionally prefixed"
        ) from exc
    return DateCondition(prefix, start, end)


def _token(value: str) -> tuple[str | None, str]:
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value


def _int(value: str, param: str, low: int, high: int | None = None) -> int:
    if len(value) > 12:
        raise FhirError(400, "invalid", f"'{param}' is out of range")
    try:
        n = int(value)
    except ValueError as exc:
        raise FhirError(400, "invalid", f"'{param}' must be an integer") from exc
    if n < low:
        raise FhirError(400, "invalid", f"'{param}' must be at least {low}")
    return min(n, high) if high is not None else n


def parse_search(
    resource_type: str,
    items: Sequence[tuple[str, str]],
    *,
    default_count: int,
    max_count: int,
    strict: bool = True,
) -> SearchQuery:
    supported = params_for(resource_type)
    query = SearchQuery(resource_type, count=default_count)
    for raw_key, value in items:
        if "\x00" in raw_key or "\x00" in value:  # PostgreSQL text cannot hold NUL: a 500 otherwise
            raise FhirError(400, "invalid", "search parameters cannot contain NUL characters")
        key, _, modifier = raw_key.partition(":")
        if key in RESULT_PARAMS:
            if key == "_count":
                query.count = _int(value, key, 0, max_count)
            elif key == "_offset":
                query.offset = _int(value, key, 0)
                if query.offset > MAX_OFFSET:
                    raise FhirError(
                        400, "too-costly", f"_offset above {MAX_OFFSET}; narrow the search instead"
                    )
            elif key == "_sort":
                if value not in SORT_KEYS:
                    raise FhirError(400, "not-supported", f"_sort supports {sorted(SORT_KEYS)}")
                query.sort = value
            elif key == "_summary" and value == "count":
                query.count = 0
            continue
        if key not in supported or modifier:
            if strict:
                raise FhirError(
                    400,
                    "not-supported",
                    f"search parameter '{raw_key}' is not supported for {resource_type}; "
                    f"supported: {', '.join(sorted(supported))}",
                )
            continue
        values = [v for v in value.split(",") if v]
        if not values:
            raise FhirError(400, "invalid", f"search parameter '{key}' has no value")
        kind = supported[key][0]
        if key == "_id":
            if not all(ID_PATTERN.match(v) for v in values):
                raise FhirError(400, "invalid", "'_id' must be a valid FHIR id")
            query.ids.append(tuple(values))
        elif key in ("patient", "subject"):
            query.patients.append(tuple(_reference(v, key) for v in values))
        elif kind == "date":
            if len(values) > 1:
                raise FhirError(
                    400, "not-supported", f"'{key}' takes one value per parameter; repeat it to AND"
                )
            target = query.last_updated if key == "_lastUpdated" else query.dates
            target.append(_date(values[0], key))
        elif kind == "reference":
            query.tokens.append(TokenCondition(key, tuple((None, _reference(v, key)) for v in values)))
        else:
            query.tokens.append(TokenCondition(key, tuple(_token(v) for v in values)))
    return query
