"""Per-prediction explanations by occlusion: how much the probability changes when one input is
replaced by its typical (training-median) value, with the indices that depend on it recomputed.

Cheaper than SHAP (one batched predict of n_inputs + 1 rows), exact for the model as shipped, and
easy to read: "MCV 64 fL (typical 86) raised the probability by +0.41".
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from models.assessment import Contribution
from models.task_model import TaskModel


def explain_row(
    model: TaskModel, cols: Mapping[str, np.ndarray], k: int
) -> tuple[np.ndarray, tuple[Contribution, ...]]:
    """For one-row `cols`: the probability (as a 1-element array) and up to k inputs ordered by
    |delta probability|. Row 0 of the occlusion batch is the actual CBC, so one predict call does both."""
    present = [key for key in model.reference if not np.isnan(cols[key][0])]
    n = len(present) + 1
    batch = {key: np.repeat(values[:1], n) for key, values in cols.items()}
    for row, key in enumerate(present, start=1):
        batch[key][row] = model.reference[key]
    p = model.probability(batch)
    if np.isnan(p[0]) or not present:
        return p[:1], ()
    deltas = p[0] - p[1:]
    order = np.argsort(-np.abs(deltas))[:k]
    return p[:1], tuple(
        Contribution(
            feature=present[i],
            value=float(cols[present[i]][0]),
            reference=float(model.reference[present[i]]),
            delta_probability=float(deltas[i]),
        )
        for i in order
    )
