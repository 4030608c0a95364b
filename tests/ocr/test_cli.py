"""`fhir-gateway read` on a generated text-layer PDF (no OCR, so it is fast and exact)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bench.synthetic_reports import generate
from fhir_gateway.cli import app


def test_read_json(tmp_path: Path) -> None:
    rep = generate(41, degraded=False, layout="grid", units="us")
    path = tmp_path / "report.pdf"
    path.write_bytes(rep.to_pdf_bytes())
    result = CliRunner().invoke(app, ["read", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    by_key = {a["key"]: a for a in data["analytes"]}
    assert by_key["hgb"]["loinc"] == "718-7"
    assert abs(by_key["hgb"]["value_canonical"] - rep.truth["hgb"].value_canonical) < 1e-6
    assert set(by_key["hgb"]) >= {
        "key",
        "loinc",
        "value",
        "unit",
        "value_canonical",
        "unit_canonical",
        "ref_low",
        "ref_high",
        "flag",
        "confidence",
        "source_text",
        "status",
    }
    # PHI stays out unless asked for
    assert "patient_name" not in data["context"]
    assert "Patient Name" not in json.dumps(data["context"])


def test_read_table_and_bad_file(tmp_path: Path) -> None:
    rep = generate(42, degraded=False, layout="colon", units="si")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(rep.to_pdf_bytes())
    bad = tmp_path / "notes.txt"
    bad.write_text("not a report")
    result = CliRunner().invoke(app, ["read", str(pdf), str(bad)])
    assert result.exit_code == 1  # one file failed
    assert "718-7" in result.output
    assert "unsupported media type" in result.output
