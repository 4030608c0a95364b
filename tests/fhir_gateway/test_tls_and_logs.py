"""TLS serving with HSTS, and no PHI in the server's logs during a full analyze run."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench.synthetic_reports import generate
from fhir_gateway.config import Settings
from tests.conftest import TEST_SECRET, make_token
from tests.fhir_gateway.analyze_fixtures import THAL_LIKE, cbc_bundle, document_reference
from tests.fhir_gateway.conftest import Api, patient
from tests.live_server import LiveServer


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_https_with_hsts(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    data_dir = tmp_path / "var"
    server = LiveServer.start(
        data_dir,
        f"sqlite:///{data_dir / 'gateway.db'}",
        {"GATEWAY_JWT_SECRET": TEST_SECRET},
        extra_args=["--ssl-certfile", str(cert), "--ssl-keyfile", str(key)],
        scheme="https",
        verify=trust,
    )
    try:
        token = make_token(Settings(data_dir=data_dir, jwt_secret=TEST_SECRET), "clinician")
        r = httpx.get(
            f"{server.base_url}/fhir/Patient", headers={"Authorization": f"Bearer {token}"}, verify=trust
        )
        assert r.status_code == 200
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert r.headers["x-content-type-options"] == "nosniff"
        try:
            httpx.get(server.base_url.replace("https", "http") + "/health", timeout=3)
            plain_refused = False
        except httpx.HTTPError:
            plain_refused = True
        assert plain_refused  # the TLS port does not also speak plain HTTP
    finally:
        server.stop()


def test_plain_http_has_security_headers_but_no_hsts(api: Api) -> None:
    r = api.client.get("/fhir/metadata")
    assert "strict-transport-security" not in r.headers
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    assert r.headers["x-request-id"]


def test_no_phi_in_logs_during_full_analyze(api: Api, caplog) -> None:
    from bench.synthetic_reports import FIRST, LAST, TextItem

    rep = generate(77, degraded=False, layout="grid")
    printed = " ".join(i.text for i in rep.pages[0] if isinstance(i, TextItem))
    report_names = [n for n in (*FIRST, *LAST) if n in printed]
    assert report_names  # the generated header does print a patient name
    secrets = ["Quenby", "Marchbanks", "MRN-99-1234", "1977-03-09", *report_names]
    caplog.set_level(logging.DEBUG)
    pat = patient(
        name=[{"family": "Marchbanks", "given": ["Quenby"]}],
        birthDate="1977-03-09",
        identifier=[{"system": "urn:mrn", "value": "MRN-99-1234"}],
    )
    api.valid(api.post("/fhir/$analyze", cbc_bundle(THAL_LIKE, pat)), 200)
    api.valid(api.post("/fhir/$analyze", document_reference(rep.to_image_bytes("PNG"))), 200)
    api.valid(api.get("/fhir/Patient?identifier=MRN-99-1234"), 200)
    api.valid(api.post("/fhir/Patient", {**pat, "gender": "nonsense"}), 422)  # error path too
    # `httpx`/`httpx2` is the test's own client logging its request URLs, not the service.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name not in {"httpx", "httpx2"})
    assert "fhir_gateway.access" in {r.name for r in caplog.records}  # we did capture the service's logs
    for secret in secrets:
        assert secret not in logged, f"{secret!r} leaked into logs"


def test_no_phi_in_a_live_servers_log(tmp_path: Path) -> None:
    """The real process at DEBUG, OCR workers included (they share its stderr)."""
    data_dir = tmp_path / "var"
    server = LiveServer.start(
        data_dir,
        f"sqlite:///{data_dir / 'gateway.db'}",
        {"GATEWAY_JWT_SECRET": TEST_SECRET, "GATEWAY_LOG_LEVEL": "DEBUG"},
        extra_args=["--log-level", "debug"],
    )
    try:
        token = make_token(Settings(data_dir=data_dir, jwt_secret=TEST_SECRET), "clinician")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
        pat = patient(
            name=[{"family": "Marchbanks"}], identifier=[{"system": "urn:mrn", "value": "MRN-77-5555"}]
        )
        r = httpx.post(
            f"{server.fhir_url}/$analyze", json=cbc_bundle(THAL_LIKE, pat), headers=headers, timeout=120
        )
        assert r.status_code == 200
        png = generate(78, degraded=False).to_image_bytes("PNG")
        r = httpx.post(
            f"{server.fhir_url}/$analyze",
            content=png,
            timeout=120,
            headers={**headers, "Content-Type": "image/png"},
        )
        assert r.status_code == 200
        r = httpx.get(f"{server.fhir_url}/Patient?identifier=MRN-77-5555", headers=headers)
        assert r.json()["total"] == 1
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "POST /fhir/$analyze 200" in log  # the access log was written at this level
    for secret in ("Marchbanks", "MRN-77-5555"):
        assert secret not in log
