"""De-identification of stored resources for research export (pure).

Safe-Harbor style: direct identifiers and free text removed, every date reduced to its year,
ages over 89 grouped as "90+", ids replaced by keyed pseudonyms so links between exported
resources survive but cannot be traced back without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from fhir_gateway.fhir.builders.codes import GATEWAY_BASE

EXT_AGE_GROUP = f"{GATEWAY_BASE}/StructureDefinition/deidentified-age-group"
DROP_PATIENT = (
    "name",
    "identifier",
    "telecom",
    "address",
    "photo",
    "contact",
    "link",
    "generalPractitioner",
    "managingOrganization",
    "communication",
    "maritalStatus",
    "multipleBirthBoolean",
    "multipleBirthInteger",
    "deceasedDateTime",
)
DROP_EVERYWHERE = (
    "text",
    "note",
    "conclusion",
    "identifier",
    "contained",
    "performer",
    "resultsInterpreter",
    "specimen",
    "encounter",
    "author",
    "authenticator",
    "custodian",
    "basedOn",
    "requester",
)
# instant-typed elements cannot hold a bare year, so they are dropped rather than truncated
DROP_INSTANTS = ("issued", "lastUpdated", "recorded", "timestamp")
_DATE = re.compile(r"^(\d{4})(-\d{2}(-\d{2}(T[0-9:.+\-Z]*)?)?)?$")
_REF = re.compile(r"^([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")


def pseudonymizer(key: bytes) -> Callable[[str, str], str]:
    def pseudo(rtype: str, rid: str) -> str:
        return hmac.new(key, f"{rtype}/{rid}".encode(), hashlib.sha256).hexdigest()[:32]

    return pseudo


def _age_on(birth: str, today: date) -> int | None:
    m = _DATE.match(birth)
    if not m:
        return None
    age = today.year - int(m[1])
    if len(birth) >= 10 and (today.month, today.day) < (int(birth[5:7]), int(birth[8:10])):
        age -= 1  # birthday not reached yet this year
    return age


def _scrub(value: Any, pseudo: Callable[[str, str], str], key: str = "") -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if (
                k in DROP_EVERYWHERE
                or k in DROP_INSTANTS
                or (k == "display" and key in ("subject", "patient"))
            ):
                continue
            if k == "reference" and isinstance(v, str) and (m := _REF.match(v)):
                out[k] = f"{m[1]}/{pseudo(m[1], m[2])}"
                continue
            if k == "data" and key == "attachment":
                continue  # the document itself (an image of the report) is PHI
            if k in ("url", "title") and key == "attachment":
                continue
            out[k] = _scrub(v, pseudo, k)
        return out
    if isinstance(value, list):
        return [_scrub(v, pseudo, key) for v in value]
    if (
        isinstance(value, str)
        and _DATE.match(value)
        and ("date" in key.lower() or key in ("start", "end", "creation"))
    ):
        return value[:4]
    return value


def deidentify(resource: dict[str, Any], pseudo: Callable[[str, str], str], today: date) -> dict[str, Any]:
    rtype = resource["resourceType"]
    source = dict(resource)
    if rtype == "DocumentReference":
        source.pop("date", None)  # an instant: cannot be reduced to a year
    age_group = None
    if rtype == "Patient":
        for k in DROP_PATIENT:
            source.pop(k, None)
        birth = source.get("birthDate")
        if isinstance(birth, str):
            age = _age_on(birth, today)
            if age is not None and age > 89:
                source.pop("birthDate")
                age_group = "90+"
    out = _scrub(source, pseudo)
    out.pop("meta", None)
    if "id" in resource:
        out["id"] = pseudo(rtype, resource["id"])
    if age_group:
        out["extension"] = [*out.get("extension", []), {"url": EXT_AGE_GROUP, "valueString": age_group}]
    if rtype == "DocumentReference":
        out["content"] = [
            {
                "attachment": {
                    k: v for k, v in (c.get("attachment") or {}).items() if k in ("contentType", "language")
                }
            }
            for c in out.get("content", [])
        ] or [{"attachment": {}}]
    return out
