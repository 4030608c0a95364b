"""PHI in stored bodies and identifiers is never readable in the raw database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.fhir_gateway.conftest import Api, hb_observation, patient

SECRETS = ["Zebulon", "Quixotically", "MRN-778899", "1961-07-23", "Flat 9 Nowhere Lane", "13.37"]


def _raw_sqlite_bytes(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def _raw_pg_text(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        dump = []
        for table in ("resource_versions", "search_tokens"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                dump.append(
                    " ".join(
                        bytes(v).decode("latin-1") if isinstance(v, (bytes, memoryview)) else str(v)
                        for v in row
                    )
                )
    engine.dispose()
    return "\n".join(dump)


def test_phi_is_not_readable_in_the_database(api: Api) -> None:
    p = patient(
        name=[{"family": "Quixotically", "given": ["Zebulon"]}],
        identifier=[{"system": "urn:mrn", "value": "MRN-778899"}],
        birthDate="1961-07-23",
        address=[{"line": ["Flat 9 Nowhere Lane"]}],
    )
    pid = api.valid(api.post("/fhir/Patient", p), 201)["id"]
    obs = hb_observation(pid, value=13.37)
    obs["note"] = [{"text": "patient Zebulon Quixotically reports fatigue"}]
    api.valid(api.post("/fhir/Observation", obs), 201)
    # The data is really there and readable through the API...
    assert api.valid(api.get(f"/fhir/Patient/{pid}"), 200)["name"][0]["family"] == "Quixotically"
    assert api.valid(api.get("/fhir/Patient?identifier=MRN-778899"), 200)["total"] == 1
    # ...but not in the raw storage.
    url = api.settings.resolved_database_url
    raw = _raw_sqlite_bytes(url).decode("latin-1") if url.startswith("sqlite") else _raw_pg_text(url)
    assert "718-7" in raw  # sanity: the dump does contain plaintext search columns
    for secret in SECRETS:
        assert secret not in raw, f"{secret!r} found in raw database"


def test_keyring_and_secret_files_are_private(api: Api) -> None:
    keyring = api.settings.resolved_keyring_file
    assert keyring.exists()
    assert keyring.stat().st_mode & 0o077 == 0


def test_key_rotation_keeps_old_rows_readable(api: Api, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from fhir_gateway.app import create_app
    from fhir_gateway.crypto.keyring import rotate_keyring_file

    pid = api.valid(api.post("/fhir/Patient", patient(name=[{"family": "Before"}])), 201)["id"]
    rotated = rotate_keyring_file(api.settings.resolved_keyring_file)
    assert rotated.current == 2
    with TestClient(create_app(api.settings)) as client:
        headers = api.headers()
        assert client.get(f"/fhir/Patient/{pid}", headers=headers).json()["name"][0]["family"] == "Before"
        new = client.post("/fhir/Patient", json=patient(name=[{"family": "After"}]), headers=headers).json()
        assert (
            client.get(f"/fhir/Patient/{new['id']}", headers=headers).json()["name"][0]["family"] == "After"
        )
    engine = create_engine(api.settings.resolved_database_url)
    with engine.connect() as conn:
        versions = {
            r[0]: r[1] for r in conn.execute(text("SELECT resource_id, key_version FROM resource_versions"))
        }
    engine.dispose()
    assert versions[pid] == 1 and versions[new["id"]] == 2
