"""Readings -> Assessment, plus every warning the caller should see (pure; no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from fhir_gateway.fhir.builders.outcome_warnings import AnalysisWarning
from mappings.canonical import CANONICAL_UNITS, CanonicalCBC, PatientContext
from mappings.readings import AnalyteReading, HeaderContext, ReadingWarning
from models import assess
from models.assessment import Assessment

CORE_KEYS = ("hgb", "rbc", "mcv", "mch", "mchc", "rdw_cv", "hct", "wbc", "plt")
_STATUS_CODES = {"repaired": "repaired-value", "assumed": "assumed-value", "uncertain": "uncertain-value"}


@dataclass(frozen=True)
class Interpretation:
    readings: list[AnalyteReading]
    context: PatientContext
    assessment: Assessment
    warnings: list[AnalysisWarning]


def patient_context(header: HeaderContext, pregnant: bool | None, trimester: int | None) -> PatientContext:
    return PatientContext(
        sex=header.sex,
        age_years=header.age_years,
        pregnant=pregnant if pregnant is not None else header.pregnant,
        trimester=trimester if trimester is not None else header.trimester,
    )


def _reading_warnings(readings: list[AnalyteReading], source: list[ReadingWarning]) -> list[AnalysisWarning]:
    out = [AnalysisWarning(w.code, w.message, w.key) for w in source]
    for r in readings:
        code = _STATUS_CODES.get(r.status)
        if code is None:
            continue
        why = "; ".join(r.notes) if r.notes else ""
        if r.status == "uncertain":
            msg = (
                f"{r.display}: the value could not be read with confidence; it is reported as preliminary "
                "and left out of the interpretation"
            )
        else:
            msg = f"{r.display}: value {r.status}" + (f" ({why})" if why else "")
        out.append(AnalysisWarning(code, msg, r.key))
    return out


def interpret(
    readings: list[AnalyteReading],
    header: HeaderContext,
    reading_warnings: list[ReadingWarning],
    *,
    pregnant: bool | None = None,
    trimester: int | None = None,
) -> Interpretation:
    usable = {
        r.key: r.value_canonical for r in readings if r.key in CANONICAL_UNITS and r.status != "uncertain"
    }
    context = patient_context(header, pregnant, trimester)
    assessment = assess(CanonicalCBC(usable), context)
    warnings = _reading_warnings(readings, reading_warnings)
    missing = [k for k in CORE_KEYS if k not in usable]
    if missing:
        warnings.append(
            AnalysisWarning(
                "missing-analyte",
                f"not available: {', '.join(missing)}; interpretation uses what is present and says "
                "what each "
                "prediction lacks",
                None,
            )
        )
    for p in assessment.predictions:
        if p.missing_inputs:
            warnings.append(AnalysisWarning("missing-analyte", f"{p.title}: {p.confidence_note}", None))
        if p.out_of_distribution:
            warnings.append(
                AnalysisWarning(
                    "out-of-distribution",
                    f"{p.title}: inputs outside the training data "
                    f"({', '.join(p.out_of_distribution_inputs)}); "
                    "treat the probability with caution",
                    None,
                )
            )
    warnings += [
        AnalysisWarning("assumption", a, None, severity="information") for a in assessment.assumptions
    ]
    warnings += [AnalysisWarning("interpretation", w, None) for w in assessment.warnings]
    return Interpretation(readings, context, assessment, warnings)
