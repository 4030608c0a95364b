"""De-identified research export: identifiers gone, dates to year, ages > 89 grouped, links kept."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fhir_gateway.cli import app
from fhir_gateway.config import get_settings
from tests.fhir_gateway.analyze_fixtures import THAL_LIKE, cbc_bundle
from tests.fhir_gateway.conftest import Api, patient

PHI = ["Oldfield", "Winifred", "MRN-424242", "1930-05-17", "555-0100", "Elm Street"]


def test_export_deidentified(api: Api, tmp_path: Path, monkeypatch) -> None:
    old = patient(
        name=[{"family": "Oldfield", "given": ["Winifred"]}],
        birthDate="1930-05-17",
        identifier=[{"system": "urn:mrn", "value": "MRN-424242"}],
        telecom=[{"system": "phone", "value": "555-0100"}],
        address=[{"line": ["1 Elm Street"]}],
    )
    young = patient(birthDate="1990-04-02")
    bundle = api.valid(api.post("/fhir/$analyze", cbc_bundle(THAL_LIKE, old)), 200)
    api.valid(api.post("/fhir/$analyze", cbc_bundle(THAL_LIKE, young)), 200)
    out = tmp_path / "export.ndjson"
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(api.settings.data_dir))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", api.settings.resolved_database_url)
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "unused-" + "x" * 40)
    get_settings.cache_clear()
    try:
        refused = CliRunner().invoke(app, ["export"])
        assert refused.exit_code != 0
        result = CliRunner().invoke(app, ["export", "--deidentify", "-o", str(out)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    text = out.read_text()
    for secret in PHI:
        assert secret not in text, secret
    resources = [json.loads(line) for line in text.splitlines()]
    by_type: dict[str, list[dict]] = {}
    for r in resources:
        api.validator.assert_valid(r)
        by_type.setdefault(r["resourceType"], []).append(r)
    assert len(by_type["Patient"]) == 2
    grouped = [p for p in by_type["Patient"] if "birthDate" not in p]
    assert len(grouped) == 1 and grouped[0]["extension"][0]["valueString"] == "90+"
    assert [p["birthDate"] for p in by_type["Patient"] if "birthDate" in p] == ["1990"]
    original_ids = {e["resource"]["id"] for e in bundle["entry"] if "id" in e["resource"]}
    assert not original_ids & {r["id"] for r in resources}  # pseudonyms, not stored ids
    patient_ids = {p["id"] for p in by_type["Patient"]}
    for obs in by_type["Observation"]:
        assert obs["subject"]["reference"].split("/")[1] in patient_ids  # links survive
        assert obs.get("effectiveDateTime", "2025") == "2025"
    report_ids = {r["id"] for r in by_type["DiagnosticReport"]}
    assert all(r["basis"][0]["reference"].split("/")[1] in report_ids for r in by_type["RiskAssessment"])
