"""Fitting one task model without leakage.

Everything that learns from data happens inside the training rows passed in: missing-input
augmentation, the out-of-fold predictions that fit the Platt calibration and choose the screening
threshold, and the final fit. No scaling or feature selection is needed (trees), and no
resampling is done, so calibration reflects the real class balance of the training population.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from models.features import ALL_KEYS, complete_derivable, feature_matrix
from models.metrics import auc, threshold_for_sensitivity
from models.task_model import LinearTerm, TaskModel
from models.tasks import TaskSpec, feature_names

SEED = 1729
N_FOLDS = 5
MASKED_COPIES = 2  # extra training copies with optional inputs randomly removed
MASK_PROBABILITY = 0.5
RANGE_QUANTILES = (0.001, 0.999)

Columns = dict[str, np.ndarray]


def frame_columns(frame: pd.DataFrame) -> Columns:
    cols = {k: frame[k].to_numpy(dtype=float) for k in ALL_KEYS}
    return complete_derivable(cols)[0]


def _take(cols: Mapping[str, np.ndarray], idx: np.ndarray) -> Columns:
    return {k: v[idx] for k, v in cols.items()}


def _mask(cols: Mapping[str, np.ndarray], keys: tuple[str, ...], rows: np.ndarray | None = None) -> Columns:
    out = {k: v.copy() for k, v in cols.items()}
    for key in keys:
        if rows is None:
            out[key][:] = np.nan
        else:
            out[key][rows] = np.nan
    return out


def augment(
    task: TaskSpec, cols: Columns, y: np.ndarray, rng: np.random.Generator
) -> tuple[Columns, np.ndarray]:
    """Original rows plus copies with optional input groups knocked out, so NaN branches are learned."""
    parts, labels = [cols], [y]
    n = len(y)
    for _ in range(MASKED_COPIES):
        copy = {k: v.copy() for k, v in cols.items()}
        for group in task.optional_groups:
            copy = _mask(copy, group, rng.random(n) < MASK_PROBABILITY)
        parts.append(copy)
        labels.append(y)
    merged = {k: np.concatenate([p[k] for p in parts]) for k in cols}
    return merged, np.concatenate(labels)


# (learning rate, trees) per task. Chosen by out-of-fold AUC on the training split only: 8-leaf trees
# beat 15-leaf/300 by ~0.005 AUC on both HPLC tasks; 100 trees at 0.1 instead of 200 at 0.05 cost
# <= 0.002; IDA is flat from 60 trees at 0.15. Fewer trees = faster batches (>= 50,000 CBCs/s).
BOOSTING: dict[str, tuple[float, int]] = {
    "beta_thal_trait": (0.1, 100),
    "hbe_trait": (0.1, 100),
    "iron_deficiency_anemia": (0.15, 60),
    "alpha_thal_trait": (0.1, 30),  # 200 rows: few, tiny trees
}


# Weight of a logistic-regression term (standardised features, mean-imputed, fitted on the original
# training rows) added to the trees' log-odds. Chosen by out-of-fold AUC on the training split only
# (5-fold CV repeated with 3 seeds), HbE trait: trees alone 0.850; + linear term at C=1 with weight
# 0.5 / 1 / 2: 0.855 / 0.857 / 0.856; at weight 1, C=0.1 / 1 / 10 / 100: 0.852 / 0.857 / 0.859 / 0.859
# (C=10 with weight 0.5 / 2: 0.857 / 0.859). Better than the trees in every repeat. A spline logistic
# blend gave 0.855; other tree settings (learning rate, leaves, min_samples_leaf, l2, class weight,
# extra ratio features, interaction-free stage) stayed 0.829-0.852. Not used for other tasks.
LINEAR_BLEND: dict[str, float] = {"hbe_trait": 1.0}
LINEAR_C = 10.0


def fit_linear(x: np.ndarray, y: np.ndarray, weight: float) -> LinearTerm:
    center = np.nanmean(x, axis=0)
    filled = np.where(np.isnan(x), center, x)
    scale = filled.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    lr = LogisticRegression(C=LINEAR_C, max_iter=5000).fit((filled - center) / scale, y)
    return LinearTerm(
        center=center, coef=weight * lr.coef_[0] / scale, intercept=weight * float(lr.intercept_[0])
    )


def raw_score(est: HistGradientBoostingClassifier, linear: LinearTerm | None, x: np.ndarray) -> np.ndarray:
    trees = est.decision_function(x)
    return trees if linear is None else trees + linear.score(x)


def make_estimator(task: TaskSpec, n_rows: int, seed: int) -> HistGradientBoostingClassifier:
    small = n_rows < 1000
    learning_rate, trees = BOOSTING[task.task_id]
    return HistGradientBoostingClassifier(
        learning_rate=learning_rate,
        max_iter=trees,
        max_leaf_nodes=4 if small else 8,
        min_samples_leaf=10 if small else 100,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )


def _fit(
    task: TaskSpec, cols: Columns, y: np.ndarray, seed: int
) -> tuple[HistGradientBoostingClassifier, LinearTerm | None]:
    rng = np.random.default_rng(seed)
    aug_cols, aug_y = augment(task, cols, y, rng)
    est = make_estimator(task, len(y), seed)
    est.fit(feature_matrix(aug_cols, feature_names(task)), aug_y)
    weight = LINEAR_BLEND.get(task.task_id)
    linear = None if weight is None else fit_linear(feature_matrix(cols, feature_names(task)), y, weight)
    return est, linear


def scenarios(task: TaskSpec) -> dict[str, tuple[str, ...]]:
    """Missing-input scenarios whose out-of-fold AUC is recorded for confidence notes."""
    out: dict[str, tuple[str, ...]] = {"all inputs": ()}
    for group in task.optional_groups:
        out[f"without {'+'.join(group)}"] = group
    out["required inputs only"] = tuple(k for g in task.optional_groups for k in g)
    return out


def fit_task_model(task: TaskSpec, frame: pd.DataFrame, seed: int = SEED) -> TaskModel:
    cols = frame_columns(frame)
    y = frame["y"].to_numpy(dtype=int)
    feats = feature_names(task)
    cases = scenarios(task)
    oof = {name: np.full(len(y), np.nan) for name in cases}
    oof_random = np.full(len(y), np.nan)
    folds = StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed)
    for fold, (tr, va) in enumerate(folds.split(np.zeros(len(y)), y)):
        est, linear = _fit(task, _take(cols, tr), y[tr], seed + fold)
        val = _take(cols, va)
        for name, keys in cases.items():
            oof[name][va] = raw_score(est, linear, feature_matrix(_mask(val, keys), feats))
        # A randomly-masked copy of the validation rows, so calibration covers incomplete reports too.
        rand, _ = augment(task, val, y[va], np.random.default_rng(seed + 100 + fold))
        tail = slice(len(va), 2 * len(va))
        oof_random[va] = raw_score(est, linear, feature_matrix(rand, feats))[tail]

    raw = np.concatenate([oof["all inputs"], oof_random])
    platt = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), np.concatenate([y, y]))
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    p_oof = 1.0 / (1.0 + np.exp(-(a * oof["all inputs"] + b)))
    threshold = threshold_for_sensitivity(y, p_oof, task.target_sensitivity)

    estimator, linear = _fit(task, cols, y, seed)
    lo_q, hi_q = RANGE_QUANTILES
    raw_inputs = [k for k in task.inputs if k not in ("sex_male", "pregnant")]
    ranges = {
        k: (float(np.nanquantile(cols[k], lo_q)), float(np.nanquantile(cols[k], hi_q))) for k in raw_inputs
    }
    reference = {k: float(np.nanmedian(cols[k])) for k in task.inputs if k not in ("sex_male", "pregnant")}
    return TaskModel(
        task=task,
        estimator=estimator,
        calibration_a=a,
        calibration_b=b,
        threshold=threshold,
        features=feats,
        ranges=ranges,
        reference=reference,
        cv_auc={name: auc(y, s) for name, s in oof.items()},
        info={
            "n_train": len(y),
            "n_positive": int(y.sum()),
            "oof_sensitivity_at_threshold": float((p_oof[y == 1] >= threshold).mean()),
            "oof_specificity_at_threshold": float((p_oof[y == 0] < threshold).mean()),
            "seed": seed,
        },
        linear=linear,
    )
