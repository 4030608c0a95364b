"""The structured path: LOINC-coded FHIR Observations -> the same AnalyteReadings the OCR path
produces, so interpretation never knows where the numbers came from (pure; no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fhir_gateway.fhir.builders.codes import LOINC
from mappings import catalog
from mappings.readings import AnalyteReading, HeaderContext, ReadingWarning
from mappings.units import UnitError, normalize_unit, to_canonical

INTERPRETATION_CODES = frozenset({"H", "L", "HH", "LL", "A"})


@dataclass
class StructuredReading:
    analytes: list[AnalyteReading] = field(default_factory=list)
    warnings: list[ReadingWarning] = field(default_factory=list)
    effective: str | None = None
    source_refs: dict[str, str] = field(default_factory=dict)  # analyte key -> caller's reference, if any


def _loinc_codes(obs: dict[str, Any]) -> list[str]:
    code = obs.get("code") if isinstance(obs.get("code"), dict) else {}
    return [
        str(c["code"])
        for c in code.get("coding", [])
        if isinstance(c, dict) and c.get("system") == LOINC and c.get("code")
    ]


def _flag(obs: dict[str, Any]) -> str | None:
    for concept in obs.get("interpretation") or []:
        for coding in (concept or {}).get("coding", []) if isinstance(concept, dict) else []:
            if isinstance(coding, dict) and coding.get("code") in INTERPRETATION_CODES:
                return str(coding["code"])
    return None


def _range(obs: dict[str, Any], key: str, unit: str) -> tuple[float | None, float | None]:
    ranges = obs.get("referenceRange") or []
    if not ranges or not isinstance(ranges[0], dict):
        return None, None
    out: list[float | None] = []
    for side in ("low", "high"):
        q = ranges[0].get(side)
        value = q.get("value") if isinstance(q, dict) else None
        if isinstance(value, int | float):
            q_unit = q.get("code") or q.get("unit") or unit
            try:
                # Ranges are kept in the observation's own unit, like `value`.
                value = to_canonical(key, float(value), q_unit) / to_canonical(key, 1.0, unit)
            except (UnitError, ZeroDivisionError):
                value = None
        out.append(float(value) if isinstance(value, int | float) else None)
    return out[0], out[1]


def read_observations(observations: list[dict[str, Any]]) -> StructuredReading:
    result = StructuredReading()
    for i, obs in enumerate(observations):
        label = f"Observation {i + 1}"
        if obs.get("status") in ("entered-in-error", "cancelled"):
            result.warnings.append(
                ReadingWarning("ignored-observation", f"{label} is {obs['status']}; ignored")
            )
            continue
        definition = next((d for c in _loinc_codes(obs) if (d := catalog.by_loinc(c))), None)
        if definition is None:
            result.warnings.append(
                ReadingWarning("unrecognised-code", f"{label} has no CBC LOINC code we map; ignored")
            )
            continue
        q = obs.get("valueQuantity")
        if (
            not isinstance(q, dict)
            or not isinstance(q.get("value"), int | float)
            or isinstance(q.get("value"), bool)
        ):
            result.warnings.append(
                ReadingWarning(
                    "no-value",
                    f"{label} ({definition.display}) has no numeric valueQuantity; ignored",
                    definition.key,
                )
            )
            continue
        unit_text = str(q.get("code") or q.get("unit") or "")
        try:
            value_canonical = to_canonical(definition.key, float(q["value"]), unit_text or definition.unit)
            unit = normalize_unit(definition.key, unit_text) if unit_text else definition.unit
        except UnitError:
            result.warnings.append(
                ReadingWarning(
                    "unit-mismatch",
                    f"{label} ({definition.display}): unit "
                    f"'{unit_text}' is not a unit for this analyte; ignored",
                    definition.key,
                )
            )
            continue
        if not definition.is_plausible(value_canonical):
            result.warnings.append(
                ReadingWarning(
                    "implausible-value",
                    f"{definition.display} "
                    f"{value_canonical:g} {definition.unit} is outside the "
                    "physiologically possible range; ignored",
                    definition.key,
                )
            )
            continue
        if any(a.key == definition.key for a in result.analytes):
            result.warnings.append(
                ReadingWarning(
                    "duplicate-analyte",
                    f"{definition.display} was sent more than once; the first value was used",
                    definition.key,
                )
            )
            continue
        low, high = _range(obs, definition.key, unit_text or definition.unit)
        result.analytes.append(
            AnalyteReading(
                key=definition.key,
                loinc=definition.loinc,
                display=definition.display,
                value=float(q["value"]),
                unit=unit,
                value_canonical=value_canonical,
                unit_canonical=definition.unit,
                ref_low=low,
                ref_high=high,
                flag=_flag(obs),
                confidence=1.0,
                source_text=label,
                status="ok",
            )
        )
        if isinstance(obs.get("id"), str):
            result.source_refs[definition.key] = f"Observation/{obs['id']}"
        if result.effective is None and isinstance(obs.get("effectiveDateTime"), str):
            result.effective = obs["effectiveDateTime"]
    return result


def context_from_patient(patient: dict[str, Any] | None, on: date) -> HeaderContext:
    """Sex and age from a FHIR Patient; 'other'/'unknown' genders stay unknown."""
    ctx = HeaderContext()
    if not patient:
        return ctx
    gender = patient.get("gender")
    if gender in ("male", "female"):
        ctx.sex = gender
    birth = patient.get("birthDate")
    if isinstance(birth, str) and len(birth) >= 4 and birth[:4].isdigit():
        year = int(birth[:4])
        month = int(birth[5:7]) if len(birth) >= 7 and birth[5:7].isdigit() else 7  # mid-year if unknown
        day = int(birth[8:10]) if len(birth) >= 10 and birth[8:10].isdigit() else 1
        try:
            ctx.age_years = max(0.0, (on - date(year, month, day)).days / 365.25)
        except ValueError:
            ctx.age_years = None
    return ctx
