"""The vectorised path agrees with `assess`, and `predict-csv` writes the promised columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from fhir_gateway.commands import predict_csv
from mappings.canonical import CanonicalCBC, PatientContext
from models import assess, assess_frame
from models.tasks import TASKS

ROWS = pd.DataFrame(
    {
        "sex": ["F", "M", "F", None, "M"],
        "age": [24, 40, 30, 50, 3],
        "pregnant": [0, 0, 1, np.nan, 0],
        "trimester": [np.nan, np.nan, 2, np.nan, np.nan],
        "hgb": [10.9, 13.8, 9.9, 12.4, 10.2],
        "rbc": [5.9, 4.9, 3.8, 4.4, np.nan],
        "mcv": [62.0, 90.0, 78.0, 84.0, 70.0],
        "mch": [18.5, 28.2, np.nan, 28.2, 22.0],
        "rdw_cv": [15.5, 12.9, 17.5, np.nan, 16.0],
    }
)


def _context(row: pd.Series) -> PatientContext:
    sex = {"F": "female", "M": "male"}.get(row["sex"]) if isinstance(row["sex"], str) else None
    preg = None if pd.isna(row["pregnant"]) else bool(row["pregnant"])
    tri = None if pd.isna(row["trimester"]) else int(row["trimester"])
    return PatientContext(sex=sex, age_years=float(row["age"]), pregnant=preg, trimester=tri)


def test_batch_matches_single_assessments() -> None:
    out = assess_frame(ROWS)
    assert list(out.columns[: len(ROWS.columns)]) == list(ROWS.columns)
    for i, row in ROWS.iterrows():
        cbc = CanonicalCBC({k: row[k] for k in ("hgb", "rbc", "mcv", "mch", "rdw_cv") if not pd.isna(row[k])})
        a = assess(cbc, _context(row))
        assert out.loc[i, "anemia"] == a.anemia.status
        for task in TASKS:
            p = a.prediction(task.task_id).probability
            if p is None:
                assert np.isnan(out.loc[i, task.csv_column])
            else:
                assert out.loc[i, task.csv_column] == pytest.approx(p, abs=6e-5)  # CSV rounds to 4 places


def test_batch_pregnancy_and_missing_values() -> None:
    out = assess_frame(ROWS)
    assert out.loc[2, "who_hb_cutoff"] == 10.5  # second trimester
    assert out.loc[2, "anemia"] == "yes"
    assert "mch not reported" in out.loc[2, "warnings"]
    assert np.isnan(out.loc[4, "p_beta_thal_trait"])  # RBC missing


def test_predict_csv_command(tmp_path: Path) -> None:
    app = typer.Typer()
    app.callback()(lambda: None)  # keep predict-csv a sub-command, as in the real CLI
    predict_csv.register(app)
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    ROWS.to_csv(src, index=False)
    result = CliRunner().invoke(app, ["predict-csv", str(src), str(dst)])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(dst)
    expected = {
        "anemia",
        "anemia_severity",
        "morphology",
        "p_iron_deficiency_anemia",
        "p_beta_thal_trait",
        "p_hbe_trait",
        "p_alpha_thal_trait",
        "index_mentzer",
        "index_matos_carvalho",
        "warnings",
    }
    assert expected <= set(out.columns) and len(out) == len(ROWS)
    assert set(ROWS.columns) <= set(out.columns)
    help_text = CliRunner().invoke(app, ["predict-csv", "--help"]).output
    assert "not a diagnosis" in help_text
