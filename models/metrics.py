"""Discrimination and calibration metrics with percentile-bootstrap 95% confidence intervals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

BOOTSTRAP_SEED = 7
N_BOOTSTRAP = 1000
ECE_BINS = 10


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC via the Mann-Whitney statistic (ties count half); NaN scores are dropped."""
    keep = ~np.isnan(score)
    y, score = y[keep], score[keep]
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def ece(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error, equal-width bins, weighted by bin size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            total += in_bin.mean() * abs(p[in_bin].mean() - y[in_bin].mean())
    return float(total)


def sensitivity(y: np.ndarray, positive: np.ndarray) -> float:
    return float(positive[y == 1].mean()) if (y == 1).any() else float("nan")


def specificity(y: np.ndarray, positive: np.ndarray) -> float:
    return float((~positive[y == 0]).mean()) if (y == 0).any() else float("nan")


def threshold_for_sensitivity(y: np.ndarray, p: np.ndarray, target: float) -> float:
    """Highest threshold whose sensitivity (p >= t) still reaches the target."""
    positives = np.sort(p[y == 1])[::-1]
    k = int(np.ceil(target * len(positives)))
    return float(positives[max(k - 1, 0)])


@dataclass(frozen=True, slots=True)
class Estimate:
    value: float
    low: float
    high: float

    def fmt(self, digits: int = 3) -> str:
        if np.isnan(self.value):
            return "n/a"
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}-{self.high:.{digits}f}]"


Metric = Callable[[np.ndarray, np.ndarray], float]


def bootstrap(
    y: np.ndarray, score: np.ndarray, metric: Metric, n: int = N_BOOTSTRAP, seed: int = BOOTSTRAP_SEED
) -> Estimate:
    """Point estimate plus percentile 95% CI; resamples are stratified so every one has both classes."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    values = np.empty(n)
    for i in range(n):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        values[i] = metric(y[idx], score[idx])
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return Estimate(metric(y, score), float(low), float(high))
