"""Inputs for the `$analyze` tests: Bundles of LOINC Observations and generated report images."""

from __future__ import annotations

import base64
from typing import Any

from mappings import catalog
from mappings.canonical import CANONICAL_UNITS

UCUM_FOR = CANONICAL_UNITS  # the Bundles send canonical units unless a test says otherwise

# A microcytic, mildly anaemic CBC typical of beta-thalassaemia trait.
THAL_LIKE = {
    "hgb": 10.9,
    "hct": 34.5,
    "rbc": 5.9,
    "mcv": 62.0,
    "mch": 19.8,
    "mchc": 31.6,
    "rdw_cv": 14.1,
    "wbc": 7.2,
    "plt": 280.0,
}


def observation(
    key: str, value: float, subject: str | None = None, unit: str | None = None
) -> dict[str, Any]:
    d = catalog.analyte(key)
    code = unit or UCUM_FOR[key]
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": d.loinc, "display": d.display}]},
        "effectiveDateTime": "2025-02-03T09:30:00Z",
        "valueQuantity": {"value": value, "unit": code, "system": "http://unitsofmeasure.org", "code": code},
    }
    if subject:
        obs["subject"] = {"reference": subject}
    return obs


def cbc_bundle(
    values: dict[str, float], patient: dict[str, Any] | None = None, btype: str = "collection"
) -> dict:
    entries: list[dict[str, Any]] = []
    subject = None
    if patient is not None:
        entries.append({"fullUrl": "urn:uuid:5d7c0000-0000-4000-8000-000000000001", "resource": patient})
        subject = "urn:uuid:5d7c0000-0000-4000-8000-000000000001"
    for key, value in values.items():
        entries.append({"resource": observation(key, value, subject)})
    return {"resourceType": "Bundle", "type": btype, "entry": entries}


def document_reference(data: bytes, content_type: str = "image/png") -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "content": [{"attachment": {"contentType": content_type, "data": base64.b64encode(data).decode()}}],
    }
