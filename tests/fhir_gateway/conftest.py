from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fhir_gateway.app import create_app
from fhir_gateway.config import Settings
from tests.conftest import TEST_SECRET, create_pg_database, drop_pg_database, make_token
from tests.fhir_validation import FhirValidator
from tests.live_server import LiveServer


@dataclass
class Api:
    client: TestClient
    settings: Settings
    validator: FhirValidator

    def headers(self, role: str = "clinician", scope: str | None = None, **kw: Any) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {make_token(self.settings, role, scope, **kw)}",
            "Content-Type": "application/fhir+json",
        }

    def post(self, path: str, body: Any, role: str = "clinician", **kw: Any) -> Any:
        return self.client.post(path, json=body, headers=self.headers(role, **kw))

    def get(self, path: str, role: str = "clinician", **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(role, **kw))

    def valid(self, response: Any, status: int) -> dict[str, Any]:
        """Assert the status and that the body is valid FHIR three ways; return it."""
        assert response.status_code == status, response.text[:2000]
        assert response.headers["content-type"].startswith("application/fhir+json")
        body = response.json()
        self.validator.assert_valid(body)
        return body


@pytest.fixture
def api(settings: Settings, fhir_validator: FhirValidator) -> Iterator[Api]:
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings, fhir_validator)


def patient(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "gender": "female", "birthDate": "1990-04-02", **extra}


def hb_observation(
    patient_id: str, value: float = 11.2, when: str = "2024-03-05T10:00:00Z"
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": "http://loinc.org",
                    "code": "718-7",
                    "display": "Hemoglobin [Mass/volume] in Blood",
                }
            ]
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": "g/dL",
            "system": "http://unitsofmeasure.org",
            "code": "g/dL",
        },
    }


def mcv_observation(
    patient_id: str, value: float = 72.0, when: str = "2024-03-05T10:00:00Z"
) -> dict[str, Any]:
    obs = hb_observation(patient_id, value, when)
    obs["code"] = {"coding": [{"system": "http://loinc.org", "code": "787-2"}]}
    obs["valueQuantity"] = {"value": value, "unit": "fL", "system": "http://unitsofmeasure.org", "code": "fL"}
    return obs


@contextmanager
def live_gateway(
    backend: str,
    data_dir: Path,
    pg_server_url: str | None,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    module: str = "fhir_gateway.cli",
) -> Iterator[tuple[LiveServer, Settings]]:
    """A real server process on a fresh SQLite file or a fresh PostgreSQL database (tests and benches)."""
    pg_name = None
    if backend == "postgresql":
        assert pg_server_url
        pg_name, url = create_pg_database(pg_server_url)
    else:
        url = f"sqlite:///{(data_dir / 'gateway.db').as_posix()}"
    live = LiveServer.start(
        data_dir,
        url,
        {"GATEWAY_JWT_SECRET": TEST_SECRET, **(extra_env or {})},
        workers=workers,
        module=module,
    )
    try:
        yield live, Settings(data_dir=data_dir, database_url=url, jwt_secret=TEST_SECRET)
    finally:
        live.stop()
        if pg_name and pg_server_url:
            drop_pg_database(pg_server_url, pg_name)


def token_claims(settings: Settings, **over: object) -> dict:
    """Claims of a valid clinician token; `over` replaces claims (None drops one)."""
    now = int(time.time())
    base = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "u1",
        "role": "clinician",
        "scope": "user/*.cruds",
        "iat": now,
        "exp": now + 600,
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}
