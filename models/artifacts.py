"""Versioned skops artifact: saving, and loading once per process with an explicit trusted-types list."""

from __future__ import annotations

import functools
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sklearn
import skops.io as sio

from models.task_model import TaskModel
from models.tasks import TASK_BY_ID

MODEL_NAME = "cbc-interpreter"
MODEL_VERSION = "1.0.0"
ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts"
ARTIFACT_PATH = ARTIFACT_DIR / f"cbc_interpreter-{MODEL_VERSION}.skops"
MODEL_CARD_PATH = ARTIFACT_DIR / "MODEL_CARD.md"

# Exactly the non-builtin types a HistGradientBoostingClassifier bundle contains; anything else in
# the file (e.g. a tampered artifact smuggling a callable) makes loading fail.
TRUSTED_TYPES: tuple[str, ...] = (
    "collections.OrderedDict",
    "numpy.dtype",
    "numpy.ndarray",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.preprocessing._label.LabelEncoder",
)


class UntrustedArtifactError(RuntimeError):
    """The artifact holds types outside TRUSTED_TYPES."""


def save_bundle(models: Mapping[str, TaskModel], path: Path = ARTIFACT_PATH) -> Path:
    bundle: dict[str, Any] = {
        "model_name": MODEL_NAME,
        "model_version": MODEL_VERSION,
        "sklearn_version": sklearn.__version__,
        "tasks": {task_id: m.to_record() for task_id, m in models.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(bundle, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


def load_bundle(path: Path = ARTIFACT_PATH) -> dict[str, TaskModel]:
    unexpected = sorted(set(sio.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    if unexpected:
        raise UntrustedArtifactError(f"{path.name} contains untrusted types: {unexpected}")
    bundle = sio.load(path, trusted=list(TRUSTED_TYPES))
    if bundle.get("model_version") != MODEL_VERSION:
        raise UntrustedArtifactError(f"artifact version {bundle.get('model_version')} != {MODEL_VERSION}")
    trained_with = str(bundle.get("sklearn_version", ""))
    if trained_with.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        # Tree internals can change between minor releases: say so rather than fail silently.
        warnings.warn(
            f"model trained with scikit-learn {trained_with}, running {sklearn.__version__}; "
            "re-run `python -m models.train` if results look wrong",
            stacklevel=2,
        )
    return {tid: TaskModel.from_record(TASK_BY_ID[tid], rec) for tid, rec in bundle["tasks"].items()}


@functools.cache
def loaded_models() -> dict[str, TaskModel]:
    """The shipped models, read from the package once per process."""
    return load_bundle(ARTIFACT_PATH)
