"""Token edge cases and the role x scope x interaction matrix, including every denial."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from fhir_gateway.app import create_app
from fhir_gateway.config import Settings
from fhir_gateway.security.scopes import parse_scope, parse_scopes, scopes_allow
from tests.conftest import TEST_SECRET, make_token
from tests.fhir_gateway.conftest import Api, hb_observation, patient, token_claims


def _get(api: Api, token: str | None, path: str = "/fhir/Patient") -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    r = api.client.get(path, headers=headers)
    body = api.valid(r, r.status_code)
    return {"status": r.status_code, "body": body, "headers": r.headers}


def _unsigned(claims: dict) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{enc({'alg': 'none', 'typ': 'JWT'})}.{enc(claims)}."


def test_valid_token_is_accepted(api: Api) -> None:
    assert _get(api, jwt.encode(token_claims(api.settings), TEST_SECRET, algorithm="HS256"))["status"] == 200


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "not-bearer",
        "garbage",
        "alg-none",
        "expired",
        "wrong-issuer",
        "wrong-audience",
        "wrong-key",
        "no-role",
        "unknown-role",
        "no-exp",
        "no-sub",
        "hs512-not-allowed",
        "tampered",
    ],
)
def test_bad_tokens_are_401(api: Api, case: str) -> None:
    s = api.settings
    good = jwt.encode(token_claims(s), TEST_SECRET, algorithm="HS256")
    token = {
        "missing": None,
        "garbage": "not.a.jwt",
        "alg-none": _unsigned(token_claims(s)),
        "expired": jwt.encode(
            token_claims(s, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200), TEST_SECRET
        ),
        "wrong-issuer": jwt.encode(token_claims(s, iss="https://evil.example"), TEST_SECRET),
        "wrong-audience": jwt.encode(token_claims(s, aud="another-service"), TEST_SECRET),
        "wrong-key": jwt.encode(token_claims(s), "some-other-secret-of-decent-length-xxxxxxxx"),
        "no-role": jwt.encode(token_claims(s, role=None), TEST_SECRET),
        "unknown-role": jwt.encode(token_claims(s, role="superuser"), TEST_SECRET),
        "no-exp": jwt.encode(token_claims(s, exp=None), TEST_SECRET),
        "no-sub": jwt.encode(token_claims(s, sub=None), TEST_SECRET),
        "hs512-not-allowed": jwt.encode(token_claims(s), TEST_SECRET, algorithm="HS512"),
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
    }.get(case, good)
    if case == "not-bearer":
        r = api.client.get("/fhir/Patient", headers={"Authorization": f"Basic {good}"})
        assert api.valid(r, 401)
        return
    result = _get(api, token)
    assert result["status"] == 401
    assert result["body"]["issue"][0]["code"] == "login"
    assert result["headers"]["www-authenticate"].startswith("Bearer")


def test_metadata_and_health_need_no_token(api: Api) -> None:
    assert api.client.get("/fhir/metadata").status_code == 200
    assert api.client.get("/health").json()["status"] == "ok"


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_asymmetric_tokens_against_a_jwks_file(
    tmp_path, settings: Settings, alg: str, fhir_validator
) -> None:
    key = rsa.generate_private_key(65537, 2048) if alg == "RS256" else ec.generate_private_key(ec.SECP256R1())
    algo = jwt.get_algorithm_by_name(alg)
    jwk = json.loads(algo.to_jwk(key.public_key()))
    jwk.update(kid="k1", alg=alg, use="sig")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk]}))
    cfg = settings.model_copy(update={"jwt_algorithms": [alg], "jwks_file": jwks, "jwt_secret": None})
    other = (
        rsa.generate_private_key(65537, 2048) if alg == "RS256" else ec.generate_private_key(ec.SECP256R1())
    )
    with TestClient(create_app(cfg)) as client:
        good = jwt.encode(token_claims(cfg), key, algorithm=alg, headers={"kid": "k1"})
        assert client.get("/fhir/Patient", headers={"Authorization": f"Bearer {good}"}).status_code == 200
        forged = jwt.encode(token_claims(cfg), other, algorithm=alg, headers={"kid": "k1"})
        assert client.get("/fhir/Patient", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        hs = jwt.encode(token_claims(cfg), TEST_SECRET, algorithm="HS256")  # HS not enabled here
        assert client.get("/fhir/Patient", headers={"Authorization": f"Bearer {hs}"}).status_code == 401


# --- role x scope matrix ----------------------------------------------------------------------

CLINICAL = ["clinician", "lab", "system"]


@pytest.mark.parametrize("role", ["clinician", "lab", "system", "auditor", "admin"])
def test_role_matrix_with_default_scopes(api: Api, role: str) -> None:
    pid = api.valid(api.post("/fhir/Patient", patient()), 201)["id"]
    create = api.post("/fhir/Observation", hb_observation(pid), role=role)
    read = api.get(f"/fhir/Patient/{pid}", role=role)
    search = api.get("/fhir/Observation", role=role)
    transaction = api.post(
        "/fhir",
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {
                    "fullUrl": "urn:uuid:8c1f0000-0000-4000-8000-000000000001",
                    "resource": patient(),
                    "request": {"method": "POST", "url": "Patient"},
                }
            ],
        },
        role=role,
    )
    expected_ok = role in CLINICAL
    for response, ok_status in ((create, 201), (read, 200), (search, 200), (transaction, 200)):
        body = api.valid(response, ok_status if expected_ok else 403)
        if not expected_ok:
            assert body["issue"][0]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("scope", "create_ok", "read_ok", "search_ok"),
    [
        ("user/Observation.rs", False, True, True),
        ("user/Observation.r", False, True, False),
        ("user/Observation.s", False, False, True),
        ("user/Observation.c", True, False, False),
        ("user/Observation.cruds", True, True, True),
        ("user/Patient.cruds", False, False, False),
        ("user/*.cruds", True, True, True),
        ("system/*.cruds", True, True, True),
        ("user/Observation.read", False, True, True),  # SMART v1 spelling
        ("user/Observation.write", True, False, False),
        (
            "user/Observation.rs?category=laboratory",
            False,
            False,
            False,
        ),  # granular: not supported, not broadened
        ("patient/Observation.rs", False, False, False),  # patient scope without a patient claim
        ("openid fhirUser", False, False, False),
        ("", False, False, False),
    ],
)
def test_scope_matrix_for_clinician(
    api: Api, scope: str, create_ok: bool, read_ok: bool, search_ok: bool
) -> None:
    pid = api.valid(api.post("/fhir/Patient", patient()), 201)["id"]
    oid = api.valid(api.post("/fhir/Observation", hb_observation(pid)), 201)["id"]
    api.valid(api.post("/fhir/Observation", hb_observation(pid), scope=scope), 201 if create_ok else 403)
    api.valid(api.get(f"/fhir/Observation/{oid}", scope=scope), 200 if read_ok else 403)
    api.valid(api.get(f"/fhir/Observation/{oid}/_history/1", scope=scope), 200 if read_ok else 403)
    api.valid(api.get("/fhir/Observation", scope=scope), 200 if search_ok else 403)


def test_scope_without_role_is_denied(api: Api) -> None:
    # An auditor holding clinical scopes is still refused: both checks must pass.
    api.valid(api.get("/fhir/Observation", role="auditor", scope="system/*.cruds"), 403)
    api.valid(api.get("/fhir/Observation", role="admin", scope="system/*.cruds"), 403)


def test_patient_context_token_sees_only_its_patient(api: Api) -> None:
    p1 = api.valid(api.post("/fhir/Patient", patient()), 201)["id"]
    p2 = api.valid(api.post("/fhir/Patient", patient()), 201)["id"]
    o1 = api.valid(api.post("/fhir/Observation", hb_observation(p1)), 201)["id"]
    o2 = api.valid(api.post("/fhir/Observation", hb_observation(p2)), 201)["id"]
    kw = {"scope": "patient/*.rs", "patient": p1}
    api.valid(api.get(f"/fhir/Observation/{o1}", **kw), 200)
    api.valid(api.get(f"/fhir/Observation/{o2}", **kw), 403)
    found = api.valid(api.get("/fhir/Observation", **kw), 200)
    assert [e["resource"]["id"] for e in found["entry"]] == [o1]
    assert api.valid(api.get(f"/fhir/Observation?patient={p2}", **kw), 200)["total"] == 0
    assert [e["resource"]["id"] for e in api.valid(api.get("/fhir/Patient", **kw), 200)["entry"]] == [p1]


def test_scope_parser_units() -> None:
    assert parse_scope("user/Observation.rs").permissions == frozenset("rs")
    assert parse_scope("user/Observation.sr") is None  # v2 letters must be in cruds order
    assert parse_scope("launch/patient") is None
    scopes = parse_scopes("openid user/Observation.rs system/Patient.c")
    assert scopes_allow(scopes, "Observation", "s") and scopes_allow(scopes, "Patient", "c")
    assert not scopes_allow(scopes, "Patient", "r")


def test_cli_token_prints_only_the_token(settings: Settings, monkeypatch) -> None:
    from typer.testing import CliRunner

    from fhir_gateway.cli import app
    from fhir_gateway.config import get_settings

    monkeypatch.setenv("GATEWAY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("GATEWAY_JWT_SECRET", TEST_SECRET)
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(
            app, ["token", "--role", "lab", "--scope", "user/Observation.rs", "--ttl", "60"]
        )
        assert out.exit_code == 0, out.output
        token = out.output.strip()
        assert "\n" not in token
        claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"], audience=settings.jwt_audience)
        assert claims["role"] == "lab" and claims["scope"] == "user/Observation.rs"
        assert 55 <= claims["exp"] - claims["iat"] <= 60
        bad = CliRunner().invoke(app, ["token", "--role", "root"])
        assert bad.exit_code != 0
    finally:
        get_settings.cache_clear()
    assert make_token(settings, "clinician")


def test_rs256_against_a_jwks_url(tmp_path, settings: Settings) -> None:
    import http.server
    import threading

    key = rsa.generate_private_key(65537, 2048)
    jwk = json.loads(jwt.get_algorithm_by_name("RS256").to_jwk(key.public_key()))
    jwk.update(kid="url-key", alg="RS256", use="sig")
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *_: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/jwks.json"
        cfg = settings.model_copy(update={"jwt_algorithms": ["RS256"], "jwks_url": url, "jwt_secret": None})
        with TestClient(create_app(cfg)) as client:
            good = jwt.encode(token_claims(cfg), key, algorithm="RS256", headers={"kid": "url-key"})
            assert client.get("/fhir/Patient", headers={"Authorization": f"Bearer {good}"}).status_code == 200
            unknown_kid = jwt.encode(token_claims(cfg), key, algorithm="RS256", headers={"kid": "other"})
            assert (
                client.get("/fhir/Patient", headers={"Authorization": f"Bearer {unknown_kid}"}).status_code
                == 401
            )
    finally:
        httpd.shutdown()
