"""The shipped artifact: skops with an explicit trust list, versioned, small, with a model card."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from models.artifacts import (
    ARTIFACT_PATH,
    MODEL_CARD_PATH,
    MODEL_VERSION,
    TRUSTED_TYPES,
    UntrustedArtifactError,
    load_bundle,
    loaded_models,
)
from models.forest import PackedForest
from models.tasks import FORBIDDEN_INPUTS, TASKS, feature_names


def test_artifact_is_versioned_small_zip_not_pickle() -> None:
    assert MODEL_VERSION in ARTIFACT_PATH.name and ARTIFACT_PATH.suffix == ".skops"
    assert zipfile.is_zipfile(ARTIFACT_PATH)
    total = sum(p.stat().st_size for p in ARTIFACT_PATH.parent.iterdir())
    assert total < 5 * 1024 * 1024
    assert not list(ARTIFACT_PATH.parent.glob("*.pkl")) and not list(ARTIFACT_PATH.parent.glob("*.joblib"))


def test_artifact_only_needs_listed_types() -> None:
    assert set(sio.get_untrusted_types(file=ARTIFACT_PATH)) <= set(TRUSTED_TYPES)
    assert set(loaded_models()) == {t.task_id for t in TASKS}


def _smuggled(x: np.ndarray) -> np.ndarray:  # stands in for arbitrary code hidden in an artifact
    return x


def test_loader_refuses_unlisted_types(tmp_path: Path) -> None:
    evil = tmp_path / f"cbc_interpreter-{MODEL_VERSION}.skops"
    payload = Pipeline([("f", FunctionTransformer(_smuggled))])
    sio.dump({"model_version": MODEL_VERSION, "tasks": {}, "x": payload}, evil)
    with pytest.raises(UntrustedArtifactError):
        load_bundle(evil)


def test_models_loaded_once_per_process() -> None:
    assert loaded_models() is loaded_models()


def test_no_label_source_is_an_input() -> None:
    for task in TASKS:
        assert not FORBIDDEN_INPUTS & set(feature_names(task)), task.task_id
        assert tuple(loaded_models()[task.task_id].features) == feature_names(task)


def test_model_card_covers_required_sections() -> None:
    card = MODEL_CARD_PATH.read_text(encoding="utf-8")
    for needle in (
        "Intended use",
        "not a diagnosis",
        "Alpha-thalassaemia trait is weak",
        "95%",
        "AUC",
        "Brier",
        "ECE",
        "Known limits",
        "label uses Hb and ferritin",
    ):
        assert needle in card, needle


def test_numpy_forest_equals_sklearn_including_missing_values() -> None:
    rng = np.random.default_rng(3)
    for model in loaded_models().values():
        ref = np.array([model.reference.get(f, 1.0) for f in model.features])
        x = ref * rng.normal(1.0, 0.25, size=(300, len(ref)))
        x[rng.random(x.shape) < 0.2] = np.nan
        packed = PackedForest.from_estimator(model.estimator)
        np.testing.assert_allclose(
            packed.decision_function(x), model.estimator.decision_function(x), atol=1e-9
        )


def test_small_and_large_batches_give_the_same_scores() -> None:
    """Tiny batches (numpy forest) and large ones (scikit-learn) agree, linear blend term included."""
    rng = np.random.default_rng(5)
    models = loaded_models()
    assert models["hbe_trait"].linear is not None
    for model in models.values():
        ref = np.array([model.reference.get(f, 1.0) for f in model.features])
        x = ref * rng.normal(1.0, 0.25, size=(200, len(ref)))
        x[rng.random(x.shape) < 0.2] = np.nan
        small = np.concatenate([model.raw_score(x[i : i + 10]) for i in range(0, len(x), 10)])
        np.testing.assert_allclose(small, model.raw_score(x), atol=1e-9)
