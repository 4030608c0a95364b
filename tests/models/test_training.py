"""Training hygiene: disjoint splits, deterministic fits, augmentation keeps labels aligned."""

from __future__ import annotations

import numpy as np

from models.datasets import load_alpha, load_nhanes, load_task_data
from models.tasks import ALPHA_THAL, BETA_THAL, HBE_TRAIT
from models.training import augment, fit_task_model, frame_columns


def test_held_out_split_is_disjoint_and_shared_by_hplc_tasks() -> None:
    beta, hbe = load_task_data(BETA_THAL), load_task_data(HBE_TRAIT)
    assert beta.test is not None and hbe.test is not None
    assert not set(beta.train.index) & set(beta.test.index)
    assert list(beta.test.index) == list(hbe.test.index)
    assert 0.15 < len(beta.test) / (len(beta.train) + len(beta.test)) < 0.25


def test_source_defects_are_handled() -> None:
    nh = load_nhanes()
    assert (nh["mchc"] > nh["mch"]).mean() > 0.9  # LBXMC is MCHC, not MCH
    assert nh["baso_pct"].min() == 0.0  # the 5.4e-79 SAS artefact became 0
    assert nh["diagnosis"].nunique() >= 3  # label text untouched by the numeric clean-up
    alpha = load_alpha()
    assert alpha["hct"].isna().sum() >= 20  # mean-imputed cells restored to missing
    assert "hba2" not in alpha or alpha["hba2"].isna().all()


def test_augmentation_keeps_labels_and_adds_missing_rows() -> None:
    frame = load_task_data(ALPHA_THAL).train
    cols = frame_columns(frame)
    y = frame["y"].to_numpy()
    aug, aug_y = augment(ALPHA_THAL, cols, y, np.random.default_rng(0))
    assert (
        len(aug_y) == 3 * len(y) and (aug_y[: len(y)] == y).all() and (aug_y[len(y) : 2 * len(y)] == y).all()
    )
    assert np.isnan(aug["rdw_cv"][len(y) :]).mean() > 0.3
    np.testing.assert_array_equal(
        aug["mcv"][len(y) : 2 * len(y)], cols["mcv"]
    )  # required inputs never masked


def test_fit_is_deterministic() -> None:
    frame = load_task_data(ALPHA_THAL).train
    a, b = fit_task_model(ALPHA_THAL, frame), fit_task_model(ALPHA_THAL, frame)
    cols = frame_columns(frame)
    np.testing.assert_array_equal(a.probability(cols), b.probability(cols))
    assert a.threshold == b.threshold
