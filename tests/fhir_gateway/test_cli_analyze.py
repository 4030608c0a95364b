"""`fhir-gateway analyze` locally and against a live server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.synthetic_reports import generate
from fhir_gateway.cli import app
from fhir_gateway.config import Settings, get_settings
from tests.conftest import TEST_SECRET, make_token
from tests.live_server import LiveServer


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    png, pdf, bad = tmp_path / "a.png", tmp_path / "b.pdf", tmp_path / "bad.png"
    png.write_bytes(generate(3, degraded=False).to_image_bytes("PNG"))
    pdf.write_bytes(generate(4, degraded=False).to_pdf_bytes())
    bad.write_bytes(b"not an image")
    return [png, pdf, bad]


def _run(args: list[str]) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(app, args)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines


def test_analyze_locally_stores_results(settings: Settings, files: list[Path], monkeypatch) -> None:
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        code, out = _run(["analyze", *map(str, files), "--json"])
    finally:
        get_settings.cache_clear()
    assert code == 1  # one file failed, and that is reported in the exit code
    ok = [o for o in out if "error" not in o]
    assert [o["file"] for o in ok] == ["a.png", "b.pdf"]
    assert all(o["observations"] >= 15 and o["id"] for o in ok)
    assert "beta_thal_trait" in ok[0]["predictions"]
    assert [o["file"] for o in out if "error" in o] == ["bad.png"]


def test_analyze_against_a_server(tmp_path: Path, files: list[Path]) -> None:
    data_dir = tmp_path / "srv"
    server = LiveServer.start(
        data_dir, f"sqlite:///{data_dir / 'gateway.db'}", {"GATEWAY_JWT_SECRET": TEST_SECRET}
    )
    try:
        token = make_token(Settings(data_dir=data_dir, jwt_secret=TEST_SECRET), "clinician")
        code, out = _run(["analyze", str(files[1]), "--server", server.base_url, "--token", token, "--json"])
        assert code == 0 and out[0]["observations"] >= 15
        code, out = _run(["analyze", str(files[1]), "--server", server.base_url, "--token", "bad", "--json"])
        assert code == 1 and out[0]["error"].startswith("401")
    finally:
        server.stop()
