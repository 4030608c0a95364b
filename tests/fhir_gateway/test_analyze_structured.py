"""`$analyze` on structured input: Bundles and Parameters of LOINC Observations."""

from __future__ import annotations

from typing import Any

import pytest

from models.indices import INDICES
from tests.fhir_gateway.analyze_fixtures import THAL_LIKE, cbc_bundle, document_reference, observation
from tests.fhir_gateway.conftest import Api, patient

ANALYZE = "/fhir/$analyze"


def by_type(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def totals(api: Api) -> dict[str, int]:
    return {
        t: api.get(f"/fhir/{t}?_count=0").json()["total"]
        for t in ("Patient", "Observation", "DiagnosticReport", "RiskAssessment", "DocumentReference")
    }


def validate_entries(api: Api, bundle: dict[str, Any]) -> None:
    api.validator.assert_valid(bundle)
    for e in bundle["entry"]:
        api.validator.assert_valid(e["resource"])


def test_bundle_of_observations_is_analyzed_stored_and_searchable(api: Api) -> None:
    pat = patient(gender="female", birthDate="1995-06-01", identifier=[{"system": "urn:mrn", "value": "A-1"}])
    result = api.valid(api.post(ANALYZE, cbc_bundle(THAL_LIKE, pat)), 200)
    validate_entries(api, result)
    assert result["type"] == "collection"
    observations = by_type(result, "Observation")
    measured = [o for o in observations if "meta" not in o or not o["meta"].get("tag")]
    derived = [o for o in observations if o.get("meta", {}).get("tag")]
    assert len(measured) == len(THAL_LIKE)
    assert {o["code"]["coding"][0]["code"] for o in measured} >= {"718-7", "787-2", "789-8"}
    assert all(o["valueQuantity"]["system"] == "http://unitsofmeasure.org" for o in measured)
    assert derived and all(d["meta"]["tag"][0]["code"] == "derived" for d in derived)
    mentzer = next(d for d in derived if d["code"]["coding"][0]["code"] == "mentzer")
    assert mentzer["valueQuantity"]["value"] == pytest.approx(62.0 / 5.9, rel=1e-4)
    # an index is derived from the measurements its formula reads (Mentzer: MCV / RBC), no others
    ref = {o["code"]["coding"][0]["code"]: f"Observation/{o['id']}" for o in measured}
    assert [d["reference"] for d in mentzer["derivedFrom"]] == [ref["787-2"], ref["789-8"]]

    (report,) = by_type(result, "DiagnosticReport")
    assert report["code"]["coding"][0]["code"] == "58410-2"
    assert {c["coding"][0]["code"] for c in report["category"]} == {"HM", "LAB"}
    assert len(report["result"]) == len(observations)
    assert "Anemia" in report["conclusion"] or "anemia" in report["conclusion"]
    assert report["conclusionCode"][0]["coding"][0]["code"] == "271737000"

    (risk,) = by_type(result, "RiskAssessment")
    assert risk["id"] == report["id"]  # one analysis id, shared
    beta = next(
        p for p in risk["prediction"] if any(c["code"] == "beta_thal_trait" for c in p["outcome"]["coding"])
    )
    assert beta["probabilityDecimal"] > 0.5 and beta["qualitativeRisk"]["coding"][0]["code"] == "high"
    assert "HPLC" in risk["mitigation"]
    assert risk["basis"][0]["reference"] == f"DiagnosticReport/{report['id']}"

    (outcome,) = by_type(result, "OperationOutcome")
    assert outcome["issue"]

    pid = by_type(result, "Patient")[0]["id"]
    hb = api.valid(api.get(f"/fhir/Observation?patient={pid}&code=http://loinc.org|718-7"), 200)
    assert hb["total"] == 1 and hb["entry"][0]["resource"]["valueQuantity"]["value"] == 10.9
    assert api.valid(api.get(f"/fhir/RiskAssessment?patient={pid}"), 200)["total"] == 1
    from_mcv = api.valid(api.get(f"/fhir/Observation?derived-from={ref['787-2']}&_count=50"), 200)
    uses_mcv = {spec.key for spec in INDICES if "mcv" in spec.inputs}
    assert {e["resource"]["code"]["coding"][0]["code"] for e in from_mcv["entry"]} == uses_mcv
    assert (
        api.valid(api.get(f"/fhir/DiagnosticReport/{report['id']}"), 200)["conclusion"]
        == report["conclusion"]
    )


def test_repeat_upload_reuses_the_patient(api: Api) -> None:
    pat = patient(identifier=[{"system": "urn:mrn", "value": "SAME-1"}])
    first = api.valid(api.post(ANALYZE, cbc_bundle(THAL_LIKE, pat)), 200)
    second = api.valid(api.post(ANALYZE, cbc_bundle(THAL_LIKE, pat)), 200)
    pid = by_type(first, "Patient")[0]["id"]
    assert not by_type(second, "Patient")  # not created again
    assert by_type(second, "DiagnosticReport")[0]["subject"]["reference"] == f"Patient/{pid}"
    assert api.get("/fhir/Patient?identifier=urn:mrn|SAME-1").json()["total"] == 1


def test_si_units_and_parameters_with_subject_and_pregnancy(api: Api) -> None:
    pid = api.valid(api.post("/fhir/Patient", patient(gender="female", birthDate="1998-01-01")), 201)["id"]
    bundle = cbc_bundle({"mcv": 80.0, "rbc": 4.1})
    bundle["entry"].append({"resource": observation("hgb", 105.0, unit="g/L")})  # 10.5 g/dL
    params = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resource", "resource": bundle},
            {"name": "subject", "valueReference": {"reference": f"Patient/{pid}"}},
            {"name": "pregnant", "valueBoolean": True},
            {"name": "trimester", "valueInteger": 2},
        ],
    }
    result = api.valid(api.post(ANALYZE, params), 200)
    (report,) = by_type(result, "DiagnosticReport")
    assert report["subject"]["reference"] == f"Patient/{pid}"
    assert "pregnan" in report["conclusion"].lower()  # the WHO group used is the pregnancy one
    hb = next(o for o in by_type(result, "Observation") if o["code"]["coding"][0]["code"] == "718-7")
    assert hb["valueQuantity"] == {
        "value": 105.0,
        "unit": "g/L",
        "system": "http://unitsofmeasure.org",
        "code": "g/L",
    }
    assert api.valid(api.get(f"/fhir/Observation?patient={pid}&code=718-7"), 200)["total"] == 1


def test_query_subject_on_the_raw_bundle(api: Api) -> None:
    pid = api.valid(api.post("/fhir/Patient", patient(gender="male", birthDate="1980-01-01")), 201)["id"]
    result = api.valid(api.post(f"{ANALYZE}?subject=Patient/{pid}", cbc_bundle(THAL_LIKE)), 200)
    assert by_type(result, "DiagnosticReport")[0]["subject"]["reference"] == f"Patient/{pid}"
    assert "men" in by_type(result, "DiagnosticReport")[0]["conclusion"]


def test_partial_bad_values_are_warned_not_guessed(api: Api) -> None:
    bundle = cbc_bundle({"hgb": 11.0, "mcv": 70.0, "rbc": 5.0})
    bundle["entry"].append({"resource": observation("plt", 250.0, unit="mg/dL")})  # wrong unit for platelets
    bundle["entry"].append({"resource": observation("wbc", 9000.0, unit="10*3/uL")})  # impossible
    result = api.valid(api.post(ANALYZE, bundle), 200)
    codes = {
        o["code"]["coding"][0]["code"]
        for o in by_type(result, "Observation")
        if not o.get("meta", {}).get("tag")
    }
    assert codes == {"718-7", "787-2", "789-8"}
    issues = by_type(result, "OperationOutcome")[0]["issue"]
    kinds = {i["details"]["coding"][0]["code"] for i in issues if "details" in i}
    assert {"unit-mismatch", "implausible-value"} <= kinds


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"resourceType": "Bundle", "type": "collection"}, 422),
        ({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": patient()}]}, 422),
        ({"resourceType": "Bundle", "type": "weird", "entry": []}, 400),
        ({"resourceType": "Patient"}, 422),
        ({"resourceType": "Parameters", "parameter": [{"name": "x", "valueString": "y"}]}, 422),
        (document_reference(b"not an image at all"), 422),
        (
            {
                **document_reference(b""),
                "content": [{"attachment": {"contentType": "image/png", "data": "!!!"}}],
            },
            400,
        ),
        (
            {
                **document_reference(b""),
                "content": [{"attachment": {"contentType": "image/png", "url": "http://x/y.png"}}],
            },
            422,
        ),
        (
            {
                **document_reference(b""),
                "content": [{"attachment": {"contentType": "text/plain", "data": "aGk="}}],
            },
            415,
        ),
        (cbc_bundle({"hgb": 999.0}), 422),
        (
            {
                "resourceType": "Parameters",
                "parameter": [
                    {"name": "resource", "resource": cbc_bundle(THAL_LIKE)},
                    {"name": "subject", "valueReference": {"reference": "Patient/does-not-exist"}},
                ],
            },
            422,
        ),
    ],
)
def test_bad_inputs_get_4xx_and_store_nothing(api: Api, body: dict[str, Any], status: int) -> None:
    before = totals(api)
    response = api.post(ANALYZE, body)
    outcome = api.valid(response, status)
    assert outcome["resourceType"] == "OperationOutcome"
    assert totals(api) == before


def test_raw_garbage_with_image_type_is_4xx(api: Api) -> None:
    before = totals(api)
    r = api.client.post(
        ANALYZE,
        content=b"\x89PNG\r\n\x1a\nthis is not really a png",
        headers={**api.headers(), "Content-Type": "image/png"},
    )
    assert 400 <= r.status_code < 500
    api.valid(r, r.status_code)
    r = api.client.post(ANALYZE, content=b"hello", headers={**api.headers(), "Content-Type": "text/plain"})
    api.valid(r, 415)
    assert totals(api) == before


def test_roles_and_scopes_for_analyze(api: Api) -> None:
    api.valid(api.post(ANALYZE, cbc_bundle(THAL_LIKE), role="auditor"), 403)
    api.valid(api.post(ANALYZE, cbc_bundle(THAL_LIKE), scope="user/Observation.cruds"), 403)
    api.valid(api.post(ANALYZE, cbc_bundle(THAL_LIKE), role="lab"), 200)
    api.valid(api.post(ANALYZE, cbc_bundle(THAL_LIKE), role="system"), 200)
