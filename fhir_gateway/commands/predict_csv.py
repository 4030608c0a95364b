"""`fhir-gateway predict-csv IN.csv OUT.csv`: batch interpretation of CBCs for screening programmes."""

from __future__ import annotations

import time
from pathlib import Path

import typer

HELP = (
    "Interpret every CBC row of IN.csv and write OUT.csv.\n\n"
    "Input columns: sex (M/F), age (years), pregnant (0/1), optional trimester (1-3), and any canonical "
    "CBC keys in canonical units (hgb g/dL, hct %, rbc 10*6/uL, mcv fL, mch pg, mchc g/dL, rdw_cv %, wbc, "
    "plt, mpv, neut_pct, ...). Absent columns and empty cells count as not reported.\n\n"
    "Output keeps the input columns and adds: anemia (yes/no/unknown), anemia_severity, who_hb_cutoff, "
    "morphology, p_iron_deficiency_anemia, p_beta_thal_trait, p_hbe_trait, p_alpha_thal_trait (calibrated "
    "probabilities, empty when Hb, RBC or MCV is missing), screen_* (1 = at or above the screening operating "
    "point), index_* (discriminant indices) and warnings.\n\n"
    "Screening decision support, not a diagnosis: every positive needs a confirmatory test."
)


def predict_csv(
    in_csv: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="input CSV"),
    out_csv: Path = typer.Argument(..., dir_okay=False, help="output CSV (overwritten)"),
) -> None:
    import pandas as pd  # heavy imports only when the command runs, so `--help` stays fast

    from models import assess_frame

    start = time.perf_counter()
    frame = pd.read_csv(in_csv, dtype={"sex": "string"}, keep_default_na=True)
    result = assess_frame(frame)
    result.to_csv(out_csv, index=False)
    elapsed = time.perf_counter() - start
    typer.echo(f"{len(result)} rows -> {out_csv} in {elapsed:.2f} s", err=True)


def register(app: typer.Typer) -> None:
    app.command("predict-csv", help=HELP)(predict_csv)
