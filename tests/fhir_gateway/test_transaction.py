"""Transaction (all-or-nothing, urn:uuid resolution, failing entry named) and batch Bundles."""

from __future__ import annotations

from typing import Any

from tests.fhir_gateway.conftest import Api, hb_observation, mcv_observation, patient

P_URN = "urn:uuid:6f0e1a40-1111-4a4a-9b9b-000000000001"


def _entry(
    resource: dict[str, Any], full_url: str | None = None, method: str = "POST", url: str | None = None
) -> dict:
    e: dict[str, Any] = {
        "resource": resource,
        "request": {"method": method, "url": url or resource["resourceType"]},
    }
    if full_url:
        e["fullUrl"] = full_url
    return e


def _total(api: Api, rtype: str) -> int:
    return api.get(f"/fhir/{rtype}?_count=0").json()["total"]


def test_transaction_resolves_urn_uuid_references(api: Api) -> None:
    obs = hb_observation("placeholder")
    obs["subject"] = {"reference": P_URN}
    mcv = mcv_observation("placeholder")
    mcv["subject"] = {"reference": P_URN}
    # Observations listed before the Patient they reference: resolution must not depend on order.
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(obs), _entry(mcv), _entry(patient(), P_URN)],
    }
    result = api.valid(api.post("/fhir", bundle), 200)
    assert result["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in result["entry"]]
    assert statuses == ["201 Created"] * 3
    pid = result["entry"][2]["resource"]["id"]
    assert result["entry"][0]["resource"]["subject"]["reference"] == f"Patient/{pid}"
    assert result["entry"][2]["response"]["location"].startswith(f"Patient/{pid}/_history/1")
    assert api.valid(api.get(f"/fhir/Observation?patient={pid}"), 200)["total"] == 2


def test_transaction_is_all_or_nothing_and_names_the_failing_entry(api: Api) -> None:
    before = _total(api, "Patient"), _total(api, "Observation")
    bad = {**hb_observation("x"), "status": "not-a-status"}
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(patient(), P_URN), _entry(hb_observation("x")), _entry(bad, "urn:uuid:bad-entry")],
    }
    body = api.valid(api.post("/fhir", bundle), 422)
    diag = body["issue"][0]["diagnostics"]
    assert "Bundle.entry[2]" in diag and "urn:uuid:bad-entry" in diag and "status" in diag
    assert (_total(api, "Patient"), _total(api, "Observation")) == before


def test_transaction_forbidden_entry_rolls_back_everything(api: Api) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(patient()), _entry(hb_observation("x"))],
    }
    body = api.valid(api.post("/fhir", bundle, scope="user/Patient.c"), 403)
    assert "Bundle.entry[1]" in body["issue"][0]["diagnostics"]
    assert _total(api, "Patient") == 0


def test_transaction_put_and_get_entries(api: Api) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            _entry(patient(id="fixed-1"), method="PUT", url="Patient/fixed-1"),
            {"request": {"method": "GET", "url": "Patient?_id=fixed-1"}},
        ],
    }
    result = api.valid(api.post("/fhir", bundle), 200)
    assert result["entry"][0]["response"]["status"] == "201 Created"
    assert result["entry"][1]["resource"]["total"] == 1  # GET runs after PUT (FHIR processing order)


def test_bad_bundles_are_rejected(api: Api) -> None:
    api.valid(api.post("/fhir", patient()), 400)
    api.valid(api.post("/fhir", {"resourceType": "Bundle", "type": "collection"}), 400)
    api.valid(
        api.post(
            "/fhir", {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": patient()}]}
        ),
        400,
    )
    api.valid(api.post("/fhir", {"resourceType": "Bundle", "type": "transaction", "entry": "nope"}), 400)
    dup = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(patient(), P_URN), _entry(patient(), P_URN)],
    }
    api.valid(api.post("/fhir", dup), 400)
    delete = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"request": {"method": "DELETE", "url": "Patient/1"}}],
    }
    api.valid(api.post("/fhir", delete), 400)
    assert _total(api, "Patient") == 0


def test_empty_transaction(api: Api) -> None:
    result = api.valid(api.post("/fhir", {"resourceType": "Bundle", "type": "transaction"}), 200)
    assert "entry" not in result


def test_batch_reports_each_entry(api: Api) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            _entry(patient()),
            _entry({**hb_observation("x"), "status": "bogus"}),
            {"request": {"method": "GET", "url": "Patient/does-not-exist"}},
        ],
    }
    result = api.valid(api.post("/fhir", bundle), 200)
    assert result["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in result["entry"]]
    assert statuses == ["201 Created", "422", "404"]
    assert result["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert _total(api, "Patient") == 1 and _total(api, "Observation") == 0
