"""FHIR operation `$analyze`: a CBC report in; Observations, DiagnosticReport, RiskAssessment and an
OperationOutcome of warnings out, all persisted in the request's one transaction.

OCR (slow, CPU-bound) happens before this runs, outside the database transaction; everything
here is quick and runs inside the unit of work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fhir_gateway.analysis.inputs import AnalyzeInput, DocumentInput, ObservationsInput
from fhir_gateway.analysis.interpret import Interpretation, interpret
from fhir_gateway.analysis.structured import context_from_patient, read_observations
from fhir_gateway.fhir.builders.diagnostic_report import diagnostic_report
from fhir_gateway.fhir.builders.document_reference import document_reference
from fhir_gateway.fhir.builders.observation import analyte_observation, index_observation
from fhir_gateway.fhir.builders.outcome_warnings import warnings_outcome
from fhir_gateway.fhir.builders.patient import patient_from_header
from fhir_gateway.fhir.builders.risk_assessment import risk_assessment
from fhir_gateway.fhir.dates import format_instant
from fhir_gateway.fhir.outcome import FhirError
from fhir_gateway.fhir.search_params import ID_PATTERN, SearchQuery, TokenCondition
from fhir_gateway.fhir.validation import validate_resource
from fhir_gateway.operations.context import RequestContext, authorize, check_compartment
from fhir_gateway.store.resource_store import ResourceStore, StoredResource
from mappings.readings import AnalyteReading, HeaderContext, ReadingWarning


@dataclass
class Reading:
    """What was read, whichever path read it."""

    analytes: list[AnalyteReading]
    header: HeaderContext
    warnings: list[ReadingWarning]
    effective: str | None = None
    from_ocr: bool = False
    engine: str | None = None


@dataclass
class AnalyzeResult:
    bundle: dict[str, Any]
    analysis_id: str
    patient_id: str
    interpretation: Interpretation
    stored: list[StoredResource] = field(default_factory=list)


def _new_id() -> str:
    return str(uuid.uuid4())


def _find_patient_by_identifier(
    store: ResourceStore, identifiers: list[dict[str, Any]]
) -> StoredResource | None:
    for ident in identifiers:
        if not isinstance(ident, dict) or not ident.get("value"):
            continue
        system = ident.get("system")
        query = SearchQuery(
            "Patient", tokens=[TokenCondition("identifier", ((system, str(ident["value"])),))], count=1
        )
        found, _ = store.search(query)
        if found:
            return found[0]
    return None


def _existing_patient(store: ResourceStore, ctx: RequestContext, reference: str) -> StoredResource:
    rtype, _, pid = reference.partition("/")
    if rtype != "Patient" or not ID_PATTERN.match(pid):
        raise FhirError(422, "invalid", "subject must be a reference of the form Patient/<id>")
    authorize(ctx, "Patient", "r")
    try:
        patient = store.read("Patient", pid)
    except FhirError as exc:
        raise FhirError(422, "not-found", f"subject {reference} does not exist on this server") from exc
    check_compartment(ctx, patient.resource)
    return patient


def _resolve_patient(
    store: ResourceStore,
    ctx: RequestContext,
    inp: AnalyzeInput,
    header: HeaderContext,
    today: date,
    observations: list[dict[str, Any]],
) -> tuple[StoredResource, bool]:
    """The subject: named by the caller, sent with the data, referenced by the Observations, or built
    from the report header. Never duplicated: identifiers are matched through the blind index."""
    payload = inp.payload
    if inp.subject:
        return _existing_patient(store, ctx, inp.subject), False
    if isinstance(payload, DocumentInput) and payload.subject:
        return _existing_patient(store, ctx, payload.subject), False
    if isinstance(payload, ObservationsInput) and payload.patient:
        given = validate_resource({k: v for k, v in payload.patient.items() if k != "id"}, "Patient")
        match = _find_patient_by_identifier(store, given.get("identifier") or [])
        if match:
            check_compartment(ctx, match.resource)
            return match, False
        authorize(ctx, "Patient", "c")
        return store.create(given), True
    refs = {
        (o.get("subject") or {}).get("reference") for o in observations if isinstance(o.get("subject"), dict)
    }
    refs.discard(None)
    if len(refs) > 1:
        raise FhirError(422, "business-rule", "the Observations refer to more than one subject")
    if refs:
        ref = str(refs.pop())
        if ref.startswith("Patient/") and store.exists("Patient", ref.split("/", 1)[1]):
            return _existing_patient(store, ctx, ref), False
    built = patient_from_header(header, today)
    if built.get("identifier"):
        match = _find_patient_by_identifier(store, built["identifier"])
        if match:
            check_compartment(ctx, match.resource)
            return match, False
    authorize(ctx, "Patient", "c")
    return store.create(validate_resource(built, "Patient", schema=False)), True


def _merge_header(header: HeaderContext, patient: dict[str, Any], on: date) -> HeaderContext:
    """Header values where the report printed them, the Patient resource's otherwise."""
    from_patient = context_from_patient(patient, on)
    return HeaderContext(
        sex=header.sex or from_patient.sex,
        age_years=header.age_years if header.age_years is not None else from_patient.age_years,
        pregnant=header.pregnant,
        trimester=header.trimester,
        collected=header.collected,
        reported=header.reported,
    )


def structured_reading(observations: list[dict[str, Any]]) -> Reading:
    result = read_observations(observations)
    return Reading(result.analytes, HeaderContext(), result.warnings, effective=result.effective)


def analyze(
    store: ResourceStore,
    ctx: RequestContext,
    inp: AnalyzeInput,
    reading: Reading,
    *,
    document_bytes: DocumentInput | None = None,
) -> AnalyzeResult:
    for rtype in ("Observation", "DiagnosticReport", "RiskAssessment"):
        authorize(ctx, rtype, "c")
    if not reading.analytes:
        raise FhirError(
            422,
            "processing",
            "no CBC values could be read from the input; nothing was stored",
            extra_issues=[],
        )
    now = datetime.now(UTC)
    now_text = format_instant(now.replace(tzinfo=None))
    collected = reading.header.collected
    effective = reading.effective or (collected.isoformat() if collected else None)
    observations = inp.payload.observations if isinstance(inp.payload, ObservationsInput) else []
    patient, created_patient = _resolve_patient(store, ctx, inp, reading.header, now.date(), observations)
    subject = f"Patient/{patient.resource_id}"
    header = _merge_header(reading.header, patient.resource, collected or now.date())
    result = interpret(
        reading.analytes, header, reading.warnings, pregnant=inp.pregnant, trimester=inp.trimester
    )

    # Observations, DiagnosticReport and RiskAssessment come from the builders, whose output the
    # test-suite validates three ways (R4B, R4 JSON schema, FHIR.js); re-validating ~20 resources
    # per request here would double its cost. Resources carrying caller or OCR text (Patient,
    # DocumentReference) are still validated.
    stored: list[StoredResource] = []
    entries: list[StoredResource] = [patient] if created_patient else []
    doc_ref: str | None = None
    if document_bytes is not None:
        if document_bytes.stored_id:
            doc_ref = f"DocumentReference/{document_bytes.stored_id}"
        else:
            authorize(ctx, "DocumentReference", "c")
            doc = document_reference(
                data=document_bytes.data,
                content_type=document_bytes.content_type,
                subject=subject,
                created=now_text,
                title=document_bytes.title,
            )
            doc_stored = store.create(validate_resource(doc, "DocumentReference", schema=False))
            doc_ref = f"DocumentReference/{doc_stored.resource_id}"
            entries.append(doc_stored)

    measured: list[str] = []
    by_key: dict[str, str] = {}  # analyte key -> its Observation, for the indices' derivedFrom
    for r in reading.analytes:
        obs = analyte_observation(
            r,
            subject=subject,
            effective=effective,
            derived_from=[doc_ref] if doc_ref else [],
            from_ocr=reading.from_ocr,
        )
        s = store.create(obs)
        measured.append(f"Observation/{s.resource_id}")
        by_key.setdefault(r.key, measured[-1])
        entries.append(s)
    derived: list[str] = []
    for index in result.assessment.indices:
        obs = index_observation(
            index, subject=subject, effective=effective, derived_from=_sources(index.inputs, by_key, measured)
        )
        if obs is not None:
            s = store.create(obs)
            derived.append(f"Observation/{s.resource_id}")
            entries.append(s)

    analysis_id = _new_id()  # shared by the DiagnosticReport and RiskAssessment: one analysis, one id
    presented = (
        {"contentType": document_bytes.content_type, "url": doc_ref, "title": "Source report"}
        if doc_ref and document_bytes is not None
        else None
    )
    report = diagnostic_report(
        assessment=result.assessment,
        analyte_keys={r.key for r in reading.analytes},
        subject=subject,
        results=measured + derived,
        effective=effective,
        issued=now_text,
        document=doc_ref,
        presented_form=presented,
    )
    report_stored = store.create(report, analysis_id)
    entries.append(report_stored)
    ra = risk_assessment(
        assessment=result.assessment,
        subject=subject,
        basis=[f"DiagnosticReport/{analysis_id}", *measured],
        occurrence=now_text,
        warnings=[w.message for w in result.warnings if w.severity == "warning"],
    )
    entries.append(store.create(ra, analysis_id))
    stored.extend(entries)

    bundle_entries = [
        {"fullUrl": f"{ctx.base_url}/{s.resource_type}/{s.resource_id}", "resource": s.resource}
        for s in entries
    ]
    bundle_entries.append({"fullUrl": f"urn:uuid:{_new_id()}", "resource": warnings_outcome(result.warnings)})
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now_text,
        "entry": bundle_entries,
    }
    return AnalyzeResult(bundle, analysis_id, patient.resource_id, result, stored)


def _sources(inputs: tuple[str, ...], by_key: dict[str, str], measured: list[str]) -> list[str]:
    """The measured Observations an index was computed from. When an input was not measured but
    derived by the model from others (e.g. MCH from Hb and RBC), every measured value may have fed
    it, so all are listed."""
    if inputs and all(k in by_key for k in inputs):
        return [by_key[k] for k in inputs]
    return list(measured)
