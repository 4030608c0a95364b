"""A Patient built from a report header when the caller names no existing patient."""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir_gateway.fhir.builders.codes import GATEWAY_BASE
from mappings.readings import HeaderContext

REPORT_ID_SYSTEM = f"{GATEWAY_BASE}/NamingSystem/report-patient-identifier"


def patient_from_header(context: HeaderContext, on: date) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "active": True}
    if context.sex:
        patient["gender"] = context.sex
    if context.age_years is not None and 0 <= context.age_years < 130:
        # Only the age is printed: record the birth year it implies (approximate by design).
        patient["birthDate"] = str(on.year - int(context.age_years))
    if context.patient_identifier:
        patient["identifier"] = [{"system": REPORT_ID_SYSTEM, "value": context.patient_identifier}]
    if context.patient_name:
        patient["name"] = [{"text": context.patient_name}]
    return patient
