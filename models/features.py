"""Turning canonical CBCs (one or many) into column arrays and model feature matrices.

Everything is column-wise numpy with NaN for "not reported", so one code path serves a single
assessment and a 100,000-row CSV.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from mappings.canonical import CANONICAL_KEYS, CanonicalCBC, PatientContext
from models.indices import compute_indices

CONTEXT_KEYS: tuple[str, ...] = ("sex_male", "age", "pregnant", "trimester")
ALL_KEYS: tuple[str, ...] = CANONICAL_KEYS + CONTEXT_KEYS
INDEX_PREFIX = "idx_"

# Values that can be recomputed from the others when a report omits them (CBC identities).
DERIVATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "mch": (("hgb", "rbc"), "MCH = 10 × Hb / RBC"),
    "hct": (("mcv", "rbc"), "Hct = MCV × RBC / 10"),
    "mchc": (("hgb", "hct"), "MCHC = 100 × Hb / Hct"),
}

Columns = dict[str, np.ndarray]


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def columns_from_cbc(cbc: CanonicalCBC, context: PatientContext) -> Columns:
    cols: Columns = {k: np.array([cbc.get(k, np.nan)], dtype=float) for k in CANONICAL_KEYS}
    sex = {"male": 1.0, "female": 0.0}.get(context.sex or "", np.nan)
    cols["sex_male"] = np.array([sex])
    cols["age"] = np.array([np.nan if context.age_years is None else float(context.age_years)])
    cols["pregnant"] = np.array([np.nan if context.pregnant is None else float(context.pregnant)])
    cols["trimester"] = np.array([np.nan if context.trimester is None else float(context.trimester)])
    return cols


_SEX_CODES: Mapping[str, float] = {
    "m": 1.0,
    "male": 1.0,
    "1": 1.0,
    "man": 1.0,
    "f": 0.0,
    "female": 0.0,
    "2": 0.0,
    "woman": 0.0,
}


def _sex_column(values: pd.Series) -> np.ndarray:
    text = values.astype("string").str.strip().str.lower()
    return text.map(_SEX_CODES).astype(float).to_numpy()


def columns_from_frame(frame: pd.DataFrame) -> Columns:
    """Columns from a CSV-like frame: canonical keys plus `sex` (M/F), `age`, `pregnant` (0/1)
    and `trimester`."""
    n = len(frame)
    cols: Columns = {}
    for key in CANONICAL_KEYS:
        cols[key] = (
            pd.to_numeric(frame[key], errors="coerce").to_numpy(dtype=float) if key in frame else _nan(n)
        )
    cols["sex_male"] = _sex_column(frame["sex"]) if "sex" in frame else _nan(n)
    for key, src in (("age", "age"), ("pregnant", "pregnant"), ("trimester", "trimester")):
        cols[key] = (
            pd.to_numeric(frame[src], errors="coerce").to_numpy(dtype=float) if src in frame else _nan(n)
        )
    return cols


def complete_derivable(cols: Mapping[str, np.ndarray]) -> tuple[Columns, dict[str, np.ndarray]]:
    """Fill MCH/Hct/MCHC from their identities where missing; also returns which cells were derived."""
    out = dict(cols)
    derived: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for key, (inputs, _) in DERIVATIONS.items():
            a, b = (out[k] for k in inputs)
            value = {"mch": 10.0 * a / b, "hct": a * b / 10.0, "mchc": 100.0 * a / b}[key]
            fill = np.isnan(out[key]) & np.isfinite(value)
            if fill.any():
                out[key] = np.where(fill, value, out[key])
            derived[key] = fill
        # A man is not pregnant: not a missing input (NHANES codes men as not pregnant too).
        if "pregnant" in out:
            out["pregnant"] = np.where(
                np.isnan(out["pregnant"]) & (out["sex_male"] == 1), 0.0, out["pregnant"]
            )
    return out, derived


def feature_matrix(
    cols: Mapping[str, np.ndarray], features: Iterable[str], indices: Mapping[str, np.ndarray] | None = None
) -> np.ndarray:
    """Stack raw inputs and `idx_*` discriminant indices in the model's feature order.

    Pass `indices` when they were already computed from exactly these `cols` (saves recomputing them
    once per task)."""
    features = list(features)
    index_values = indices
    if index_values is None:
        needs_indices = any(f.startswith(INDEX_PREFIX) for f in features)
        index_values = compute_indices(cols) if needs_indices else {}
    stacked = [
        index_values[f.removeprefix(INDEX_PREFIX)] if f.startswith(INDEX_PREFIX) else cols[f]
        for f in features
    ]
    return np.column_stack(stacked).astype(float, copy=False)
