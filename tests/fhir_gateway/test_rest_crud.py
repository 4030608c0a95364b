"""create / read / vread / update over HTTP, on every configured database backend."""

from __future__ import annotations

from tests.fhir_gateway.conftest import Api, hb_observation, patient


def test_metadata_needs_no_token_and_is_valid(api: Api) -> None:
    body = api.valid(api.client.get("/fhir/metadata"), 200)
    assert body["fhirVersion"] == "4.0.1"
    types = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert {"Patient", "Observation", "DiagnosticReport", "RiskAssessment", "DocumentReference"} <= set(types)
    obs_params = {p["name"] for p in types["Observation"]["searchParam"]}
    assert {"patient", "subject", "code", "date", "_id"} <= obs_params
    assert body["rest"][0]["operation"][0]["name"] == "analyze"
    assert body["rest"][0]["security"]["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    opdef = api.valid(api.client.get("/fhir/OperationDefinition/cbc-analyze"), 200)
    assert opdef["code"] == "analyze"


def test_create_read_vread_update_roundtrip(api: Api) -> None:
    created = api.post("/fhir/Patient", patient(id="client-chosen"))
    body = api.valid(created, 201)
    pid = body["id"]
    assert pid != "client-chosen"  # the server assigns ids on create
    assert body["meta"]["versionId"] == "1"
    assert created.headers["location"].endswith(f"/fhir/Patient/{pid}/_history/1")
    assert created.headers["etag"] == 'W/"1"'
    assert "GMT" in created.headers["last-modified"]

    read = api.valid(api.get(f"/fhir/Patient/{pid}"), 200)
    assert read == body

    changed = {**read, "gender": "male"}
    updated = api.client.put(
        f"/fhir/Patient/{pid}", json=changed, headers={**api.headers(), "If-Match": 'W/"1"'}
    )
    assert api.valid(updated, 200)["meta"]["versionId"] == "2"
    assert api.valid(api.get(f"/fhir/Patient/{pid}"), 200)["gender"] == "male"
    assert api.valid(api.get(f"/fhir/Patient/{pid}/_history/1"), 200)["gender"] == "female"
    assert api.valid(api.get(f"/fhir/Patient/{pid}/_history/2"), 200)["gender"] == "male"

    stale = api.client.put(
        f"/fhir/Patient/{pid}", json=changed, headers={**api.headers(), "If-Match": 'W/"1"'}
    )
    assert api.valid(stale, 412)["issue"][0]["code"] == "conflict"


def test_update_as_create_and_observation_reference(api: Api) -> None:
    put = api.client.put("/fhir/Patient/p-1", json=patient(id="p-1"), headers=api.headers())
    assert api.valid(put, 201)["id"] == "p-1"
    obs = api.valid(api.post("/fhir/Observation", hb_observation("p-1")), 201)
    assert obs["subject"]["reference"] == "Patient/p-1"


def test_unknown_ids_versions_and_types_are_404(api: Api) -> None:
    assert api.valid(api.get("/fhir/Patient/nope"), 404)["issue"][0]["code"] == "not-found"
    pid = api.valid(api.post("/fhir/Patient", patient()), 201)["id"]
    assert api.valid(api.get(f"/fhir/Patient/{pid}/_history/9"), 404)["issue"][0]["code"] == "not-found"
    assert api.valid(api.get(f"/fhir/Patient/{pid}/_history/x"), 404)
    assert api.valid(api.get("/fhir/Medication/1"), 404)["issue"][0]["code"] == "not-supported"
    assert api.valid(api.get("/no/such/route"), 404)
