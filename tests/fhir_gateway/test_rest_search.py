"""Search parameters, paging links and sorting."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.fhir_gateway.conftest import Api, hb_observation, mcv_observation, patient


def _seed(api: Api) -> tuple[str, str]:
    p1 = api.valid(
        api.post("/fhir/Patient", patient(identifier=[{"system": "urn:mrn", "value": "MRN-1"}])), 201
    )["id"]
    p2 = api.valid(api.post("/fhir/Patient", patient()), 201)["id"]
    for day in ("01", "02", "03", "04", "05"):
        api.valid(api.post("/fhir/Observation", hb_observation(p1, when=f"2024-03-{day}T08:00:00Z")), 201)
    api.valid(api.post("/fhir/Observation", mcv_observation(p1, when="2024-03-03T08:00:00Z")), 201)
    api.valid(api.post("/fhir/Observation", hb_observation(p2, when="2023-12-31T23:00:00Z")), 201)
    return p1, p2


def _ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def test_patient_subject_and_code(api: Api) -> None:
    p1, p2 = _seed(api)
    assert api.valid(api.get(f"/fhir/Observation?patient={p1}"), 200)["total"] == 6
    assert api.valid(api.get(f"/fhir/Observation?subject=Patient/{p2}"), 200)["total"] == 1
    assert api.valid(api.get(f"/fhir/Observation?patient={p1},{p2}"), 200)["total"] == 7
    hb = api.valid(api.get(f"/fhir/Observation?patient={p1}&code=http://loinc.org|718-7"), 200)
    assert hb["total"] == 5
    assert all(e["resource"]["code"]["coding"][0]["code"] == "718-7" for e in hb["entry"])
    assert api.valid(api.get("/fhir/Observation?code=787-2"), 200)["total"] == 1
    assert api.valid(api.get("/fhir/Observation?code=http://snomed.info/sct|718-7"), 200)["total"] == 0
    assert api.valid(api.get("/fhir/Observation?code=718-7,787-2"), 200)["total"] == 7
    assert api.valid(api.get("/fhir/Observation?category=laboratory"), 200)["total"] == 7


def test_date_prefixes(api: Api) -> None:
    p1, _ = _seed(api)
    base = f"/fhir/Observation?patient={p1}&code=718-7"
    assert api.valid(api.get(f"{base}&date=2024-03-03"), 200)["total"] == 1
    assert api.valid(api.get(f"{base}&date=ge2024-03-03"), 200)["total"] == 3
    assert api.valid(api.get(f"{base}&date=gt2024-03-03"), 200)["total"] == 2
    assert api.valid(api.get(f"{base}&date=le2024-03-03"), 200)["total"] == 3
    assert api.valid(api.get(f"{base}&date=lt2024-03-03"), 200)["total"] == 2
    assert api.valid(api.get(f"{base}&date=ge2024-03-02&date=lt2024-03-05"), 200)["total"] == 3
    assert api.valid(api.get(f"{base}&date=2024-03"), 200)["total"] == 5
    assert api.valid(api.get("/fhir/Observation?date=2023"), 200)["total"] == 1
    assert api.valid(api.get(f"{base}&date=ge2024-03-03T08:00:00Z"), 200)["total"] == 3


def test_paging_links_walk_every_result_once(api: Api) -> None:
    p1, _ = _seed(api)
    url = f"/fhir/Observation?patient={p1}&_count=2&_sort=-date"
    seen: list[str] = []
    dates: list[str] = []
    pages = 0
    while url:
        page = api.valid(api.get(url), 200)
        pages += 1
        seen += _ids(page)
        dates += [e["resource"]["effectiveDateTime"] for e in page.get("entry", [])]
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert parse_qs(urlsplit(links["self"]).query)["patient"] == [p1]
        if pages > 1:
            assert "previous" in links
        nxt = links.get("next")
        url = nxt.split("/fhir", 1)[1] and "/fhir" + nxt.split("/fhir", 1)[1] if nxt else ""
    assert pages == 3
    assert len(seen) == len(set(seen)) == 6
    assert dates == sorted(dates, reverse=True)


def test_id_identifier_and_count_zero(api: Api) -> None:
    p1, _ = _seed(api)
    assert _ids(api.valid(api.get(f"/fhir/Patient?_id={p1}"), 200)) == [p1]
    assert _ids(api.valid(api.get("/fhir/Patient?identifier=urn:mrn|MRN-1"), 200)) == [p1]
    assert _ids(api.valid(api.get("/fhir/Patient?identifier=MRN-1"), 200)) == [p1]
    assert api.valid(api.get("/fhir/Patient?identifier=urn:other|MRN-1"), 200)["total"] == 0
    empty = api.valid(api.get("/fhir/Observation?_count=0"), 200)
    assert empty["total"] == 7 and "entry" not in empty


def test_post_search(api: Api) -> None:
    p1, _ = _seed(api)
    r = api.client.post(
        "/fhir/Observation/_search",
        data={"patient": p1, "code": "787-2"},
        headers={"Authorization": api.headers()["Authorization"]},
    )
    assert api.valid(r, 200)["total"] == 1
