"""`$analyze` on documents: generated report images and PDFs through OCR, end to end over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from bench.synthetic_reports import generate
from tests.fhir_gateway.analyze_fixtures import cbc_bundle, document_reference
from tests.fhir_gateway.conftest import Api, patient
from tests.fhir_gateway.test_analyze_structured import ANALYZE, by_type, totals, validate_entries

OCR_CONFIDENCE = "https://cbc-fhir-gateway.org/fhir/StructureDefinition/ocr-confidence"


@pytest.fixture(scope="module")
def clean_report() -> Any:
    return generate(11, degraded=False, layout="grid", units="us")


def _canonical(key: str, obs: dict[str, Any]) -> float:
    from mappings.units import to_canonical

    q = obs["valueQuantity"]
    return to_canonical(key, float(q["value"]), q["code"])


def _measured(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    from mappings import catalog

    out = {}
    for o in by_type(bundle, "Observation"):
        if o.get("meta", {}).get("tag"):
            continue
        d = catalog.by_loinc(o["code"]["coding"][0]["code"])
        assert d is not None
        out[d.key] = o
    return out


def test_document_reference_image_is_read_stored_and_linked(api: Api, clean_report: Any) -> None:
    doc = document_reference(clean_report.to_image_bytes("PNG"))
    result = api.valid(api.post(ANALYZE, doc), 200)
    validate_entries(api, result)
    (stored_doc,) = by_type(result, "DocumentReference")
    doc_ref = f"DocumentReference/{stored_doc['id']}"
    measured = _measured(result)
    truth = {k: v.value_canonical for k, v in clean_report.truth.items()}
    final = {k: o for k, o in measured.items() if o["status"] == "final"}
    wrong = [k for k, o in final.items() if k not in truth or abs(_canonical(k, o) - truth[k]) > 1e-6]
    assert not wrong, f"final (unflagged) values that are wrong: {wrong}"  # wrong numbers are worse than none
    assert len(final) >= 0.75 * len(truth), (sorted(final), sorted(truth))
    for o in measured.values():
        if o["status"] == "preliminary":
            assert any("Uncertain" in n["text"] for n in o["note"])
    for o in measured.values():
        assert o["derivedFrom"] == [{"reference": doc_ref}]
        conf = next(e for e in o["extension"] if e["url"] == OCR_CONFIDENCE)["valueDecimal"]
        assert 0.0 <= conf <= 1.0
    (report,) = by_type(result, "DiagnosticReport")
    assert report["presentedForm"][0]["url"] == doc_ref
    # The stored document is readable and searchable by patient afterwards.
    pid = report["subject"]["reference"].split("/")[1]
    found = api.valid(api.get(f"/fhir/DocumentReference?patient={pid}"), 200)
    assert found["total"] == 1
    assert found["entry"][0]["resource"]["content"][0]["attachment"]["size"] == len(
        clean_report.to_image_bytes("PNG")
    )


def test_raw_jpeg_bytes_and_pdf_text_layer(api: Api) -> None:
    rep = generate(23, degraded=False, layout="colon", units="si")
    r = api.client.post(
        ANALYZE, content=rep.to_image_bytes("JPEG"), headers={**api.headers(), "Content-Type": "image/jpeg"}
    )
    jpeg = api.valid(r, 200)
    r = api.client.post(
        ANALYZE,
        content=rep.to_pdf_bytes(text_layer=True),
        headers={**api.headers(), "Content-Type": "application/pdf"},
    )
    pdf = api.valid(r, 200)
    truth = {k: v.value_canonical for k, v in rep.truth.items()}
    for bundle in (jpeg, pdf):
        measured = _measured(bundle)
        assert len(set(measured) & set(truth)) >= 0.9 * len(truth)


def test_structured_and_ocr_paths_agree(api: Api, clean_report: Any) -> None:
    ocr = api.valid(api.post(ANALYZE, document_reference(clean_report.to_image_bytes("PNG"))), 200)
    measured = _measured(ocr)
    values = {
        k: float(o["valueQuantity"]["value"])
        for k, o in measured.items()
        if o["valueQuantity"]["code"] in ("g/dL", "%", "10*6/uL", "fL", "pg", "10*3/uL")
    }
    pid = by_type(ocr, "DiagnosticReport")[0]["subject"]["reference"]
    units = {k: measured[k]["valueQuantity"]["code"] for k in values}
    bundle = cbc_bundle({})
    from tests.fhir_gateway.analyze_fixtures import observation

    bundle["entry"] = [
        {"resource": observation(k, v, unit=units[k])}
        for k, v in values.items()
        if k in ("hgb", "hct", "rbc", "mcv", "mch", "mchc", "rdw_cv", "wbc", "plt")
    ]
    structured = api.valid(api.post(f"{ANALYZE}?subject={pid}", bundle), 200)
    ocr_keys = {
        k for k in measured if k in ("hgb", "hct", "rbc", "mcv", "mch", "mchc", "rdw_cv", "wbc", "plt")
    }
    if ocr_keys != set(values) & ocr_keys:
        pytest.fail("OCR read a core value in a unit this comparison does not cover")

    def predictions(bundle: dict[str, Any]) -> dict[str, float | None]:
        (ra,) = by_type(bundle, "RiskAssessment")
        return {
            next(c["code"] for c in p["outcome"]["coding"] if "screening-task" in c["system"]): p.get(
                "probabilityDecimal"
            )
            for p in ra["prediction"]
        }

    ocr_pred, struct_pred = predictions(ocr), predictions(structured)
    # Probabilities from models that use only core CBC values + sex/age must match exactly.
    for task in ("beta_thal_trait", "hbe_trait"):
        assert ocr_pred[task] == pytest.approx(struct_pred[task], abs=1e-9), task
    ocr_dr, struct_dr = by_type(ocr, "DiagnosticReport")[0], by_type(structured, "DiagnosticReport")[0]
    assert ocr_dr["conclusion"].split(".")[0] == struct_dr["conclusion"].split(".")[0]  # same anemia verdict


def test_reanalyze_a_stored_document(api: Api, clean_report: Any) -> None:
    pid = api.valid(api.post("/fhir/Patient", patient(gender="female", birthDate="1990-01-01")), 201)["id"]
    doc = document_reference(clean_report.to_image_bytes("PNG"))
    doc["subject"] = {"reference": f"Patient/{pid}"}
    stored = api.valid(api.post("/fhir/DocumentReference", doc), 201)
    before = totals(api)
    result = api.valid(api.post(f"/fhir/DocumentReference/{stored['id']}/$analyze", {}), 200)
    assert not by_type(result, "DocumentReference")  # reuses the stored one
    assert by_type(result, "DiagnosticReport")[0]["subject"]["reference"] == f"Patient/{pid}"
    after = totals(api)
    assert after["DocumentReference"] == before["DocumentReference"]
    assert after["DiagnosticReport"] == before["DiagnosticReport"] + 1
    api.valid(api.post("/fhir/DocumentReference/nope/$analyze", {}), 404)
