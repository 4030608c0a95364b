"""The plain-JSON API: same pipeline, storage and access rules as `$analyze`."""

from __future__ import annotations

import pytest

from bench.synthetic_reports import generate
from tests.fhir_gateway.analyze_fixtures import THAL_LIKE, cbc_bundle
from tests.fhir_gateway.conftest import Api, patient


def _auth(api: Api, role: str = "clinician", **kw: object) -> dict[str, str]:
    return {"Authorization": api.headers(role, **kw)["Authorization"]}


def test_upload_results_and_history(api: Api) -> None:
    rep = generate(31, degraded=False, layout="dotted", units="us")
    png = rep.to_image_bytes("PNG")
    r = api.client.post("/upload", files={"file": ("report.png", png, "image/png")}, headers=_auth(api))
    assert r.status_code == 200, r.text
    body = r.json()
    keys = {a["key"] for a in body["analytes"]}
    assert len(keys & set(rep.truth)) >= 0.75 * len(rep.truth)
    for a in body["analytes"]:
        if a["status"] == "ok" and a["key"] in rep.truth:
            assert a["value_canonical"] == pytest.approx(rep.truth[a["key"]].value_canonical)
    assert {p["task"] for p in body["assessment"]["predictions"]} >= {
        "beta_thal_trait",
        "iron_deficiency_anemia",
    }
    assert body["assessment"]["indices"] and "not a diagnosis" in body["assessment"]["conclusion"]

    again = api.client.get(f"/results/{body['id']}", headers=_auth(api))
    assert again.status_code == 200 and again.json() == body

    # A second analysis for the same patient, then history is newest first.
    second = api.valid(
        api.post(f"/fhir/$analyze?subject=Patient/{body['patient_id']}", cbc_bundle(THAL_LIKE)), 200
    )
    second_id = next(
        e["resource"]["id"] for e in second["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"
    )
    h = api.client.get(f"/history?patient={body['patient_id']}&count=1", headers=_auth(api)).json()
    assert h["total"] == 2 and [i["id"] for i in h["items"]] == [second_id]
    h2 = api.client.get(f"/history?patient={body['patient_id']}&count=1&offset=1", headers=_auth(api)).json()
    assert [i["id"] for i in h2["items"]] == [body["id"]]


def test_predict_is_stateless_and_checks_input(api: Api) -> None:
    r = api.client.post("/predict", json={"sex": "F", "age": 28, "values": THAL_LIKE}, headers=_auth(api))
    assert r.status_code == 200, r.text
    out = r.json()
    beta = next(p for p in out["predictions"] if p["task"] == "beta_thal_trait")
    assert beta["probability"] > 0.5 and beta["screen_positive"] is True
    assert any(i["key"] == "mentzer" for i in out["indices"])
    assert api.get("/fhir/RiskAssessment?_count=0").json()["total"] == 0  # nothing stored
    for bad in (
        {"values": {"hemoglobin": 12}},
        {"sex": "X", "values": {}},
        {"age": -1, "values": {}},
        {"values": {"hgb": "twelve"}},
        {"values": {}, "colour": "red"},
    ):
        resp = api.client.post("/predict", json=bad, headers=_auth(api))
        assert resp.status_code == 400, (bad, resp.text)
        assert resp.json()["resourceType"] == "OperationOutcome"


def test_plain_api_access_rules(api: Api) -> None:
    png = generate(5, degraded=False).to_image_bytes("PNG")
    assert api.client.post("/predict", json={"values": THAL_LIKE}).status_code == 401
    assert (
        api.client.post("/predict", json={"values": THAL_LIKE}, headers=_auth(api, "auditor")).status_code
        == 403
    )
    r = api.client.post("/upload", files={"file": ("r.png", png, "image/png")}, headers=_auth(api, "auditor"))
    assert r.status_code == 403
    assert api.client.get("/results/x", headers=_auth(api, "auditor")).status_code == 403
    assert api.client.get("/results/nope", headers=_auth(api)).status_code == 404
    pid = api.valid(api.post("/fhir/Patient", patient()), 201)["id"]
    other = api.valid(api.post("/fhir/Patient", patient()), 201)["id"]
    restricted = _auth(api, scope="patient/*.rs", patient=pid)
    assert api.client.get(f"/history?patient={pid}", headers=restricted).status_code == 200
    assert api.client.get(f"/history?patient={other}", headers=restricted).status_code == 403


def test_upload_bad_input(api: Api) -> None:
    h = _auth(api)
    assert (
        api.client.post("/upload", files={"file": ("x.txt", b"hello", "text/plain")}, headers=h).status_code
        == 415
    )
    assert api.client.post("/upload", data={"x": "1"}, headers=h).status_code == 415  # urlencoded
    no_file = api.client.post("/upload", files={"other": ("a.txt", b"x", "text/plain")}, headers=h)
    assert no_file.status_code == 400
    assert (
        api.client.post(
            "/upload", content=b"{}", headers={**h, "Content-Type": "application/json"}
        ).status_code
        == 415
    )
    r = api.client.post("/upload", files={"file": ("x.png", b"\x89PNG broken", "image/png")}, headers=h)
    assert r.status_code == 422 and r.json()["resourceType"] == "OperationOutcome"
    assert api.client.get("/history", headers=h).status_code == 400
    assert api.get("/fhir/DiagnosticReport?_count=0").json()["total"] == 0
