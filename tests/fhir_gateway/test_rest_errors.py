"""Every bad input gets a 4xx OperationOutcome, and nothing is stored by a failed request."""

from __future__ import annotations

from tests.fhir_gateway.conftest import Api, hb_observation, patient


def _count(api: Api, rtype: str) -> int:
    return api.get(f"/fhir/{rtype}?_count=0").json()["total"]


def test_malformed_json_is_400(api: Api) -> None:
    r = api.client.post("/fhir/Patient", content=b"{not json", headers=api.headers())
    assert api.valid(r, 400)["issue"][0]["code"] == "structure"
    r = api.client.post("/fhir/Patient", content=b"", headers=api.headers())
    assert api.valid(r, 400)
    r = api.client.post("/fhir/Patient", content=b"[1,2]", headers=api.headers())
    assert api.valid(r, 400)
    r = api.client.post("/fhir/Patient", content=b"\xff\xfe\x00", headers=api.headers())
    assert api.valid(r, 400)


def test_unsupported_media_type_is_415(api: Api) -> None:
    r = api.client.post(
        "/fhir/Patient", content=b"<Patient/>", headers={**api.headers(), "Content-Type": "application/xml"}
    )
    assert api.valid(r, 415)


def test_oversized_body_is_413(api: Api) -> None:
    big = patient(
        text={
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml">' + "a" * 3_000_000 + "</div>",
        }
    )
    assert api.valid(api.post("/fhir/Patient", big), 413)["issue"][0]["code"] == "too-costly"


def test_invalid_resources_are_422_with_the_reason(api: Api) -> None:
    bad_status = {**hb_observation("x"), "status": "bogus"}
    body = api.valid(api.post("/fhir/Observation", bad_status), 422)
    assert "Observation.status" in body["issue"][0]["diagnostics"]
    extra = {**patient(), "favouriteColour": "blue"}
    assert "favouriteColour" in api.valid(api.post("/fhir/Patient", extra), 422)["issue"][0]["diagnostics"]
    wrong_type = {**hb_observation("x"), "valueQuantity": {"value": "eleven"}}
    assert api.valid(api.post("/fhir/Observation", wrong_type), 422)
    missing = {"resourceType": "Observation", "status": "final"}  # code is required
    assert api.valid(api.post("/fhir/Observation", missing), 422)
    assert _count(api, "Observation") == 0


def test_type_mismatch_and_id_mismatch_are_400(api: Api) -> None:
    assert api.valid(api.post("/fhir/Observation", patient()), 400)
    r = api.client.put("/fhir/Patient/a", json=patient(id="b"), headers=api.headers())
    assert api.valid(r, 400)
    assert _count(api, "Patient") == 0


def test_bad_search_parameters_are_400(api: Api) -> None:
    assert api.valid(api.get("/fhir/Observation?colour=red"), 400)["issue"][0]["code"] == "not-supported"
    assert api.valid(api.get("/fhir/Observation?date=yesterday"), 400)
    assert api.valid(api.get("/fhir/Observation?_count=abc"), 400)
    assert api.valid(api.get("/fhir/Observation?_count=-1"), 400)
    assert api.valid(api.get("/fhir/Observation?_sort=colour"), 400)
    assert api.valid(api.get("/fhir/Observation?patient=Patient/%20bad"), 400)
    lenient = api.client.get(
        "/fhir/Observation?colour=red", headers={**api.headers(), "Prefer": "handling=lenient"}
    )
    assert api.valid(lenient, 200)["total"] == 0


def test_failed_request_keeps_earlier_data(api: Api) -> None:
    pid = api.valid(api.post("/fhir/Patient", patient()), 201)["id"]
    api.valid(api.post("/fhir/Observation", {**hb_observation(pid), "status": "nope"}), 422)
    assert api.valid(api.get(f"/fhir/Patient/{pid}"), 200)["id"] == pid
    assert _count(api, "Patient") == 1


def test_out_of_range_values_are_4xx_not_database_errors(api: Api) -> None:
    assert api.valid(api.get("/fhir/Observation?_offset=99999999999999999999999"), 400)
    assert api.valid(api.get("/fhir/Observation?_offset=5000000"), 400)
    assert api.valid(api.get("/fhir/Observation?_count=99999999999999999999999"), 400)
    long_id = "a" * 65
    r = api.client.put(f"/fhir/Patient/{long_id}", json=patient(id=long_id), headers=api.headers())
    assert api.valid(r, 400)
    r = api.client.put("/fhir/Patient/bad$id", json=patient(id="bad$id"), headers=api.headers())
    assert api.valid(r, 400)
    assert api.valid(api.get(f"/fhir/Patient/{'b' * 300}"), 404)
    assert api.valid(api.get(f"/fhir/Patient/{'b' * 300}/_history/99999999999999999999"), 404)
    assert api.valid(api.get("/fhir/Observation?date=ge99999-01-01"), 400)


def test_hostile_json_is_400(api: Api) -> None:
    deep_array = "[" * 100_000 + "]" * 100_000
    assert api.valid(api.client.post("/fhir/Observation", content=deep_array, headers=api.headers()), 400)
    nested = (
        '{"resourceType":"Observation","extension":'
        + '[{"url":"a","extension":' * 200
        + "[]"
        + "}]" * 200
        + "}"
    )
    assert api.valid(api.client.post("/fhir/Observation", content=nested, headers=api.headers()), 400)
    huge_number = (
        '{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e400}}'
    )
    assert api.valid(api.client.post("/fhir/Observation", content=huge_number, headers=api.headers()), 422)


def test_body_depth_counts_every_level() -> None:
    from fhir_gateway.api.body import _depth

    assert [_depth(5), _depth([]), _depth({"a": []}), _depth({"a": [1, {"b": "c"}]})] == [1, 1, 2, 4]
    nested: object = "leaf"
    for i in range(70):
        nested = [nested] if i % 2 else {"x": nested, "y": [1]}
    assert _depth(nested) == 72  # 70 wraps over the innermost {"x": "leaf", "y": [1]} (3 deep)
    wide = {"entry": [{"resource": {"code": {"coding": [{"code": str(i)}]}}} for i in range(500)]}
    assert _depth(wide) == 8


def test_nul_characters_in_search_are_400(api: Api) -> None:
    # found by test_no_500 on PostgreSQL, whose text columns cannot hold NUL
    for params in ({"code": "\x00"}, {"code\x00": "718-7"}, {"_count": "1\x00"}):
        r = api.client.get("/fhir/Observation", params=params, headers=api.headers())
        assert api.valid(r, 400)["issue"][0]["code"] == "invalid"


def test_nul_characters_in_a_body_are_400_and_store_nothing(api: Api) -> None:
    before = _count(api, "Observation")
    bad = hb_observation("x")
    bad["code"]["coding"][0]["code"] = "71\x008-7"
    assert api.valid(api.post("/fhir/Observation", bad), 400)["issue"][0]["code"] == "invalid"
    assert _count(api, "Observation") == before
