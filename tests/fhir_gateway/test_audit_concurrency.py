"""Several gateway processes writing at once keep one valid, gap-free audit chain."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from audit import verify_chain
from fhir_gateway.config import Settings
from fhir_gateway.crypto.keyring import load_or_create_keyring
from fhir_gateway.db.tables import AUDIT_TABLES
from fhir_gateway.runtime import AUDIT_LANES, audit_keys_from
from tests.conftest import BACKENDS, make_token
from tests.fhir_gateway.conftest import live_gateway
from tests.live_server import LiveServer

REQUESTS = 120


@pytest.fixture(params=BACKENDS)
def two_workers(
    request: pytest.FixtureRequest, tmp_path: Path, pg_server_url: str | None
) -> Iterator[tuple[LiveServer, Settings]]:
    with live_gateway(request.param, tmp_path / "var", pg_server_url, workers=2) as running:
        yield running


def test_concurrent_writers_keep_the_chain_valid(two_workers: tuple[LiveServer, Settings]) -> None:
    server, settings = two_workers
    headers = {
        "Authorization": f"Bearer {make_token(settings, 'clinician')}",
        "Content-Type": "application/fhir+json",
    }

    def one(i: int) -> int:
        with httpx.Client(base_url=server.fhir_url, headers=headers, timeout=60) as client:
            r = client.post(
                "/Patient", json={"resourceType": "Patient", "gender": "female" if i % 2 else "male"}
            )
            if r.status_code != 201:
                return r.status_code
            return client.get(f"/Patient/{r.json()['id']}").status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(one, range(REQUESTS)))
    assert statuses.count(200) == REQUESTS, statuses

    keys = audit_keys_from(load_or_create_keyring(settings.resolved_keyring_file))
    engine = create_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            lanes = 1 if engine.dialect.name == "sqlite" else AUDIT_LANES
            result = verify_chain(conn, keys, AUDIT_TABLES, lanes=lanes)
            count = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
            used_lanes = conn.execute(text("SELECT count(DISTINCT lane) FROM audit_event")).scalar_one()
    finally:
        engine.dispose()
    assert result.ok, result.problems[:3]
    assert count == 2 * REQUESTS  # one record per create and per read, none lost or doubled
    if engine.dialect.name == "postgresql":
        assert used_lanes > 1  # concurrent transactions really did write in parallel lanes
