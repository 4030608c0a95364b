"""A real FHIR client (fhirpy) against the real server process over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, ForbiddenError, OperationOutcome, ResourceNotFound

from fhir_gateway.config import Settings
from tests.conftest import BACKENDS, make_token
from tests.fhir_gateway.conftest import hb_observation, live_gateway, mcv_observation, patient
from tests.fhir_validation import FhirValidator
from tests.live_server import LiveServer


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_server_url: str | None
) -> Iterator[tuple[LiveServer, Settings]]:
    with live_gateway(request.param, tmp_path_factory.mktemp("live") / "var", pg_server_url) as running:
        yield running


def _client(
    server: tuple[LiveServer, Settings], role: str = "clinician", scope: str | None = None
) -> SyncFHIRClient:
    live, settings = server
    return SyncFHIRClient(
        live.fhir_url,
        authorization=f"Bearer {make_token(settings, role, scope)}",
        extra_headers={"Content-Type": "application/fhir+json"},
    )


def test_metadata_through_fhirpy(server, fhir_validator: FhirValidator) -> None:
    cap = _client(server).execute("metadata", method="get")
    fhir_validator.assert_valid(dict(cap))
    assert cap["fhirVersion"] == "4.0.1"


def test_create_read_search_with_fhirpy(server, fhir_validator: FhirValidator) -> None:
    client = _client(server)
    p = client.resource("Patient", **{k: v for k, v in patient().items() if k != "resourceType"})
    p.save()
    assert p.id and p["meta"]["versionId"] == "1"
    fetched = client.reference("Patient", p.id).to_resource()
    fhir_validator.assert_valid(fetched.serialize())
    assert fetched["birthDate"] == "1990-04-02"

    for day in range(1, 8):
        body = hb_observation(p.id, value=10 + day / 10, when=f"2024-05-{day:02d}T09:00:00Z")
        client.resource("Observation", **{k: v for k, v in body.items() if k != "resourceType"}).save()
    client.resource(
        "Observation", **{k: v for k, v in mcv_observation(p.id).items() if k != "resourceType"}
    ).save()

    hb = client.resources("Observation").search(patient=p.id, code="http://loinc.org|718-7").limit(3)
    everything = hb.fetch_all()  # follows our `next` links across 3 pages
    assert len(everything) == 7 and len({o.id for o in everything}) == 7
    for o in everything:
        fhir_validator.assert_valid(o.serialize())
    newest = client.resources("Observation").search(patient=p.id, code="718-7").sort("-date").first()
    assert newest["effectiveDateTime"].startswith("2024-05-07")
    assert client.resources("Observation").search(patient=p.id, date="ge2024-05-06").count() == 2


def test_transaction_with_fhirpy(server, fhir_validator: FhirValidator) -> None:
    client = _client(server)
    obs = hb_observation("x")
    obs["subject"] = {"reference": "urn:uuid:0b6a5f6e-0000-4000-8000-00000000aaaa"}
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:0b6a5f6e-0000-4000-8000-00000000aaaa",
                "resource": patient(),
                "request": {"method": "POST", "url": "Patient"},
            },
            {"resource": obs, "request": {"method": "POST", "url": "Observation"}},
        ],
    }
    result = client.execute("", method="post", data=bundle)
    fhir_validator.assert_valid(dict(result))
    pid = result["entry"][0]["resource"]["id"]
    assert result["entry"][1]["resource"]["subject"]["reference"] == f"Patient/{pid}"


def test_errors_surface_as_operation_outcomes(server) -> None:
    client = _client(server)
    with pytest.raises(ResourceNotFound):
        client.reference("Patient", "does-not-exist").to_resource()
    with pytest.raises(OperationOutcome) as info:
        client.resource("Observation", status="bogus", code={"text": "x"}).save()
    assert "status" in str(info.value)
    with pytest.raises(ForbiddenError):
        _client(server, role="auditor").resources("Observation").fetch()
    live, _ = server
    with pytest.raises(AuthorizationError):
        SyncFHIRClient(live.fhir_url, authorization="Bearer nope").resources("Patient").fetch()


def test_analyze_document_and_bundle_with_fhirpy(server, fhir_validator: FhirValidator) -> None:
    """The main job end to end through a real FHIR client: post, then read and search results."""
    from bench.synthetic_reports import generate
    from tests.fhir_gateway.analyze_fixtures import THAL_LIKE, cbc_bundle, document_reference

    client = _client(server)
    report = generate(41, degraded=False, layout="grid", units="us")
    result = client.execute("$analyze", method="post", data=document_reference(report.to_image_bytes("PNG")))
    fhir_validator.assert_valid(dict(result))
    for entry in result["entry"]:
        fhir_validator.assert_valid(dict(entry["resource"]))
    dr = next(e["resource"] for e in result["entry"] if e["resource"]["resourceType"] == "DiagnosticReport")
    pid = dr["subject"]["reference"].split("/")[1]

    hb = client.resources("Observation").search(patient=pid, code="http://loinc.org|718-7").fetch_all()
    assert len(hb) == 1
    assert hb[0]["valueQuantity"]["value"] == report.truth["hgb"].value_canonical
    assert client.resources("RiskAssessment").search(patient=pid).count() == 1
    doc = client.resources("DocumentReference").search(patient=pid).first()
    assert doc is not None and doc["content"][0]["attachment"]["contentType"] == "image/png"
    fetched = client.reference("DiagnosticReport", dr["id"]).to_resource()
    assert fetched["conclusion"] == dr["conclusion"]

    structured = client.execute(
        "$analyze", method="post", data=cbc_bundle(THAL_LIKE), params={"subject": f"Patient/{pid}"}
    )
    fhir_validator.assert_valid(dict(structured))
    assert client.resources("DiagnosticReport").search(patient=pid).count() == 2
    newest = client.resources("DiagnosticReport").search(patient=pid).sort("-_lastUpdated").first()
    assert newest["id"] != dr["id"]


def test_benchmark_lean_client_reads_whole_responses_on_one_connection(server) -> None:
    """bench/lean_http.py drives the throughput benchmarks: its requests must be well-formed and
    its responses read whole, or the next request on the connection would be garbled."""
    import asyncio

    import httpx
    import orjson

    from bench.lean_http import LeanConnection

    live, settings = server
    headers = {
        "Authorization": f"Bearer {make_token(settings, 'clinician')}",
        "Content-Type": "application/fhir+json",
    }

    async def exchange() -> list[tuple[int, bytes]]:
        conn = await LeanConnection.open(live.base_url)
        try:
            create = conn.request_bytes("POST", "/fhir/Patient", headers, orjson.dumps(patient()))
            metadata = conn.request_bytes("GET", "/fhir/metadata", {"Accept": "application/fhir+json"})
            return [await conn.send(r) for r in (create, metadata, create)]
        finally:
            await conn.close()

    (s1, b1), (s2, b2), (s3, b3) = asyncio.run(exchange())
    assert (s1, s2, s3) == (201, 200, 201)
    first, second = orjson.loads(b1), orjson.loads(b3)
    assert first["resourceType"] == second["resourceType"] == "Patient" and first["id"] != second["id"]
    assert orjson.loads(b2) == httpx.get(f"{live.fhir_url}/metadata").json()


def test_benchmark_lean_client_reconnects_after_the_server_closes(server) -> None:
    """Connections idle past uvicorn's keep-alive timeout (5 s) are closed by the server, e.g.
    while a benchmark warms the OCR pool; the next request must reconnect, not fail."""
    import asyncio

    from bench.lean_http import LeanConnection

    live, _ = server

    async def exchange() -> list[int]:
        conn = await LeanConnection.open(live.base_url)
        try:
            # `Connection: close` makes the server hang up after answering, as the timeout would.
            closing = conn.request_bytes("GET", "/fhir/metadata", {"Connection": "close"})
            plain = conn.request_bytes("GET", "/fhir/metadata", {})
            return [(await conn.send(r))[0] for r in (closing, plain, plain)]
        finally:
            await conn.close()

    assert asyncio.run(exchange()) == [200, 200, 200]


def test_capability_statement_is_the_same_on_every_read(server) -> None:
    """Its `date` says when the statement last changed, not when it was read."""
    import time

    import httpx

    live, _ = server
    first = httpx.get(f"{live.fhir_url}/metadata").json()
    time.sleep(1.1)  # a per-request timestamp (seconds) would now differ
    assert httpx.get(f"{live.fhir_url}/metadata").json() == first
