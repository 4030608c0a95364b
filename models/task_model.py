"""A trained task model at run time: gradient boosting + Platt calibration + operating point.

Stored as plain data (dict of floats/lists plus one sklearn estimator) so skops can persist it
without any custom class, and loading never has to trust our own types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from models.features import feature_matrix
from models.forest import PackedForest
from models.tasks import TaskSpec

SMALL_BATCH_ROWS = 64  # below this the numpy forest beats scikit-learn's per-tree OpenMP calls


@dataclass(frozen=True)
class LinearTerm:
    """A logistic-regression log-odds term added to the trees' (training.LINEAR_BLEND).

    Fitted on standardised features; the blend weight and the scaling are folded into `coef`, so the
    term is `sum(coef * (x - center)) + intercept`, with a missing feature contributing 0 (mean
    imputation)."""

    center: np.ndarray
    coef: np.ndarray
    intercept: float

    def score(self, x: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(x), 0.0, x - self.center) @ self.coef + self.intercept

    def to_record(self) -> dict[str, Any]:
        return {"center": self.center.tolist(), "coef": self.coef.tolist(), "intercept": self.intercept}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> LinearTerm:
        return cls(
            center=np.asarray(record["center"], dtype=float),
            coef=np.asarray(record["coef"], dtype=float),
            intercept=float(record["intercept"]),
        )


@dataclass(frozen=True)
class TaskModel:
    task: TaskSpec
    estimator: HistGradientBoostingClassifier
    calibration_a: float
    calibration_b: float
    threshold: float
    features: tuple[str, ...]
    ranges: Mapping[str, tuple[float, float]]  # training distribution per raw input (0.1-99.9 percentile)
    reference: Mapping[str, float]  # typical value per raw input (training median), for explanations
    cv_auc: Mapping[str, float] = field(default_factory=dict)  # out-of-fold AUC by missing-input scenario
    info: Mapping[str, Any] = field(default_factory=dict)
    linear: LinearTerm | None = None  # optional logistic-regression term added to the trees' log-odds
    packed: PackedForest | None = field(default=None, compare=False, repr=False)

    def raw_score(self, x: np.ndarray) -> np.ndarray:
        """Uncalibrated log-odds; the numpy forest for a handful of rows, scikit-learn for batches."""
        if x.shape[0] <= SMALL_BATCH_ROWS:
            packed = self.packed or PackedForest.from_estimator(self.estimator)
            trees = packed.decision_function(x)
        else:
            # One thread: on a shared machine, OpenMP across busy cores was 3x slower than one core.
            with threadpool_limits(1):
                trees = self.estimator.decision_function(x)
        return self.blend(trees, x)

    def blend(self, trees: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The trees' log-odds plus the linear term, if any (`x` C-contiguous: the matrix product's
        rounding depends on the layout)."""
        return trees if self.linear is None else trees + self.linear.score(x)

    def calibrated(self, raw: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(self.calibration_a * raw + self.calibration_b)))

    def probability(
        self, cols: Mapping[str, np.ndarray], indices: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """Calibrated probability per row; NaN where a required input is missing."""
        x = feature_matrix(cols, self.features, indices)
        p = self.calibrated(self.raw_score(x))
        lacks_required = np.zeros(len(p), dtype=bool)
        for key in self.task.required:
            lacks_required |= np.isnan(cols[key])
        return np.where(lacks_required, np.nan, p)

    @cached_property
    def _range_table(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        keys = tuple(self.ranges)
        lo = np.array([self.ranges[k][0] for k in keys], dtype=float).reshape(-1, 1)
        hi = np.array([self.ranges[k][1] for k in keys], dtype=float).reshape(-1, 1)
        return keys, lo, hi

    def _range_flags(self, cols: Mapping[str, np.ndarray]) -> tuple[tuple[str, ...], np.ndarray]:
        keys, lo, hi = self._range_table
        if not keys:
            return keys, np.zeros((0, 0), dtype=bool)
        # One comparison over an (inputs, rows) table instead of three ufunc calls per input.
        with np.errstate(invalid="ignore"):
            values = np.array([cols[k] for k in keys])
            return keys, (values < lo) | (values > hi)

    def out_of_range(self, cols: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per raw input, rows whose value lies outside the training distribution."""
        keys, flags = self._range_flags(cols)
        return dict(zip(keys, flags, strict=True))

    def out_of_range_flagged(self, cols: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """`out_of_range`, keeping only the inputs flagged in at least one row."""
        keys, flags = self._range_flags(cols)
        hit = flags.any(axis=1)
        return {k: f for k, f, h in zip(keys, flags, hit, strict=True) if h}

    def to_record(self) -> dict[str, Any]:
        return {
            "task_id": self.task.task_id,
            "estimator": self.estimator,
            "calibration": [self.calibration_a, self.calibration_b],
            "threshold": self.threshold,
            "features": list(self.features),
            "ranges": {k: [float(lo), float(hi)] for k, (lo, hi) in self.ranges.items()},
            "reference": {k: float(v) for k, v in self.reference.items()},
            "cv_auc": dict(self.cv_auc),
            "info": dict(self.info),
            "linear": None if self.linear is None else self.linear.to_record(),
        }

    @classmethod
    def from_record(cls, task: TaskSpec, record: Mapping[str, Any]) -> TaskModel:
        a, b = record["calibration"]
        return cls(
            task=task,
            estimator=record["estimator"],
            calibration_a=float(a),
            calibration_b=float(b),
            threshold=float(record["threshold"]),
            features=tuple(record["features"]),
            ranges={k: (float(v[0]), float(v[1])) for k, v in record["ranges"].items()},
            reference={k: float(v) for k, v in record["reference"].items()},
            cv_auc=dict(record["cv_auc"]),
            info=dict(record["info"]),
            linear=LinearTerm.from_record(record["linear"]) if record.get("linear") else None,
            packed=PackedForest.from_estimator(record["estimator"]),
        )
