"""Loading the three training sets into canonical columns, with the defects from their SOURCE.md handled.

Defects dealt with (see models/data/*/SOURCE.md):
- West Bengal HPLC: trailing spaces in labels ('Normal  '); decimal-point errors (MCHC 316) and other
  impossible values; rows whose Hb/RBC/MCH/MCHC disagree (a mistyped value); 'Normal' rows with
  HbA2 > 3.5 % (borderline/ambiguous label); age as text ("14 Yrs 11 month").
- NHANES: LBXMC is MCHC and LBXMCHSI is MCH (easy to swap); 5.4e-79 is SAS encoding of ~0.
- Sri Lanka alpha set: mean-imputed cells (long decimals) restored to missing; twoalphas.csv not used
  (its labels contradict data.csv for 38 identical rows); 'normal' = no deletion found, not healthy.

Training rows must pass plausibility, consistency and label checks; held-out rows only plausibility
(impossible values are rejected upstream by the mappings layer, while inconsistent-but-plausible
reports do reach the model in real use).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from models.features import ALL_KEYS
from models.tasks import TaskSpec

DATA_DIR = Path(__file__).resolve().parent / "data"
SPLIT_SEED = 20240427
TEST_FRACTION = 0.2

# Physically plausible ranges (canonical units); outside = data-entry error.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "hgb": (3.0, 20.0),
    "rbc": (1.5, 8.5),
    "mcv": (50.0, 120.0),
    "mch": (12.0, 40.0),
    "mchc": (24.0, 40.0),
    "rdw_cv": (9.0, 35.0),
    "hct": (10.0, 65.0),
}
CONSISTENCY_TOLERANCE = 0.10  # relative disagreement allowed between reported and recomputed MCH/MCHC


@dataclass(frozen=True)
class TaskData:
    train: pd.DataFrame  # canonical columns + 'y' (+ 'diagnosis')
    test: pd.DataFrame | None  # None when the task is cross-validated only
    excluded: dict[str, int]  # why rows were dropped, for the model card


def _canonical_frame(raw: pd.DataFrame, rename: dict[str, str]) -> pd.DataFrame:
    out = raw.rename(columns=rename)
    for key in ALL_KEYS:
        if key not in out:
            out[key] = np.nan
    return out


def _plausible(frame: pd.DataFrame) -> pd.Series:
    ok = pd.Series(True, index=frame.index)
    for key, (lo, hi) in PLAUSIBLE.items():
        v = frame[key]
        ok &= v.isna() | v.between(lo, hi)
    return ok


def _consistent(frame: pd.DataFrame) -> pd.Series:
    mch = 10 * frame.hgb / frame.rbc
    hct = frame.hct.fillna(frame.mcv * frame.rbc / 10)
    mchc = 100 * frame.hgb / hct
    return (_relative_gap(mch, frame.mch) <= CONSISTENCY_TOLERANCE) & (
        _relative_gap(mchc, frame.mchc) <= CONSISTENCY_TOLERANCE
    )


def _relative_gap(computed: pd.Series, reported: pd.Series) -> pd.Series:
    return ((computed - reported).abs() / reported).fillna(0)


def _parse_age(text: pd.Series) -> pd.Series:
    parts = text.astype("string").str.extract(r"(?P<y>\d+)\s*Yrs?\s*(?:(?P<m>\d+)\s*month)?", expand=True)
    return pd.to_numeric(parts.y) + pd.to_numeric(parts.m).fillna(0) / 12.0


def load_hplc() -> pd.DataFrame:
    raw = pd.read_csv(DATA_DIR / "hplc_westbengal" / "data.csv", encoding="utf-8-sig")
    frame = _canonical_frame(
        raw, {"HB": "hgb", "RBC": "rbc", "MCV": "mcv", "MCH": "mch", "MCHC": "mchc", "RDWcv": "rdw_cv"}
    )
    frame["diagnosis"] = raw["Diagnosis"].astype(str).str.strip()
    frame["sex_male"] = raw["Gender"].str.strip().str.lower().map({"male": 1.0, "female": 0.0})
    frame["age"] = _parse_age(raw["Age"])
    frame["hba2_label_source"] = raw["HbA2"]  # used only to flag ambiguous labels, never as an input
    return frame


def load_nhanes() -> pd.DataFrame:
    raw = pd.read_csv(DATA_DIR / "nhanes_ida" / "data.csv")
    numeric = raw.select_dtypes("number").columns
    raw[numeric] = raw[numeric].mask(raw[numeric].abs() < 1e-30, 0.0)  # SAS XPT encoding of ~0
    frame = _canonical_frame(
        raw,
        {
            "LBXHGB": "hgb",
            "LBXHCT": "hct",
            "LBXRBCSI": "rbc",
            "LBXMCVSI": "mcv",
            "LBXMCHSI": "mch",
            "LBXMC": "mchc",  # NHANES naming trap: LBXMC is MCHC
            "LBXRDW": "rdw_cv",
            "LBXWBCSI": "wbc",
            "LBXPLTSI": "plt",
            "LBXMPSI": "mpv",
            "LBXNEPCT": "neut_pct",
            "LBXLYPCT": "lymph_pct",
            "LBXMOPCT": "mono_pct",
            "LBXEOPCT": "eos_pct",
            "LBXBAPCT": "baso_pct",
            "RIDAGEYR": "age",
        },
    )
    frame["sex_male"] = raw["RIAGENDR"].map({1.0: 1.0, 2.0: 0.0})
    frame["pregnant"] = raw["RIDEXPRG"].astype(float)
    frame["y"] = raw["IDA_Status"].astype(int)
    frame["diagnosis"] = raw["IDA_status"].astype(str) + "/" + raw["Anemia_status"].astype(str)
    return frame


def _restore_imputed(values: pd.Series) -> pd.Series:
    """Mean-imputed cells carry long decimals (35.87640449); real measurements have <= 2 decimals."""
    scaled = values * 100
    return values.mask((scaled - scaled.round()).abs() > 1e-6)


def load_alpha() -> pd.DataFrame:
    raw = pd.read_csv(DATA_DIR / "alpha_thal_srilanka" / "data.csv")
    for col in ("hb", "pcv", "rbc", "mcv", "mch", "mchc", "rdw", "wbc", "neut", "lymph", "plt"):
        raw[col] = _restore_imputed(raw[col])
    frame = _canonical_frame(
        raw.drop(columns=["hba", "hba2", "hbf"]),
        {
            "hb": "hgb",
            "pcv": "hct",
            "rdw": "rdw_cv",
            "neut": "neut_pct",
            "lymph": "lymph_pct",
        },
    )
    frame["sex_male"] = raw["sex"].str.strip().str.lower().map({"male": 1.0, "female": 0.0})
    frame["diagnosis"] = raw["phenotype"].str.strip()
    frame["y"] = (frame["diagnosis"] == "alpha carrier").astype(int)
    return frame


HPLC_POSITIVE = {
    "beta_thal_trait": {"Beta Thalassaemia carrier", "Beta trait with high foetal haemoglobin"},
    "hbe_trait": {"HbE carrier"},
}


def _strata(diagnosis: pd.Series, min_count: int = 10) -> pd.Series:
    counts = diagnosis.value_counts()
    return diagnosis.where(diagnosis.map(counts) >= min_count, "other")


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    train, test = train_test_split(
        frame, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=_strata(frame["diagnosis"])
    )
    return train.sort_index(), test.sort_index()


def load_task_data(task: TaskSpec) -> TaskData:
    excluded: dict[str, int] = {}
    if task.dataset == "hplc_westbengal":
        frame = load_hplc()
        frame["y"] = frame["diagnosis"].isin(HPLC_POSITIVE[task.task_id]).astype(int)
    elif task.dataset == "nhanes_ida":
        frame = load_nhanes()
    elif task.dataset == "alpha_thal_srilanka":
        frame = load_alpha()
    else:  # pragma: no cover - guarded by TASKS
        raise ValueError(task.dataset)

    plausible = _plausible(frame)
    excluded["implausible values (all splits)"] = int((~plausible).sum())
    frame = frame[plausible]
    if task.dataset == "alpha_thal_srilanka":
        return TaskData(frame, None, excluded)  # too small for a held-out split: cross-validated only

    train, test = _split(frame)
    keep = _consistent(train)
    excluded["inconsistent Hb/RBC/MCH/MCHC (training only)"] = int((~keep).sum())
    if "hba2_label_source" in train:
        ambiguous = (train["diagnosis"] == "Normal") & (train["hba2_label_source"] > 3.5)
        excluded["'Normal' with HbA2 > 3.5% (training only)"] = int((ambiguous & keep).sum())
        keep &= ~ambiguous
    return TaskData(train[keep], test, excluded)
