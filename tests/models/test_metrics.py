"""Metric implementations against scikit-learn and simple known cases."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score

from models.metrics import auc, bootstrap, brier, ece, threshold_for_sensitivity


def test_auc_and_brier_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.clip(y * 0.3 + rng.random(500) * 0.7, 0, 1).round(2)  # ties included
    assert abs(auc(y, p) - roc_auc_score(y, p)) < 1e-12
    assert abs(brier(y, p) - brier_score_loss(y, p)) < 1e-12


def test_ece_zero_when_calibrated_and_large_when_not() -> None:
    y = np.array([0] * 80 + [1] * 20)
    assert ece(y, np.full(100, 0.2)) < 1e-12
    assert ece(y, np.full(100, 0.9)) > 0.6


def test_threshold_reaches_target_sensitivity() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    p = rng.random(400)
    t = threshold_for_sensitivity(y, p, 0.95)
    assert (p[y == 1] >= t).mean() >= 0.95


def test_bootstrap_interval_brackets_estimate() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    p = y * 0.5 + rng.random(300) * 0.6
    est = bootstrap(y, p, auc, n=200)
    assert est.low <= est.value <= est.high and est.high - est.low < 0.2
