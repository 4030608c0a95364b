"""A flat numpy copy of a fitted HistGradientBoostingClassifier's trees, for tiny batches.

scikit-learn walks each tree in its own OpenMP call, which costs ~25 µs per tree per call; with
hundreds of trees that alone breaks the 2 ms budget of a single assessment. Here all trees are
walked together, one vectorised step per depth level. Large batches still use scikit-learn
(faster per row). Both paths give the same numbers; `tests/models` checks it. Only numerical
splits are supported (no categorical features are used).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier


@dataclass(frozen=True)
class PackedForest:
    feature: np.ndarray  # node -> feature index
    threshold: np.ndarray  # node -> go left if x <= threshold
    missing_left: np.ndarray  # node -> NaN goes left
    left: np.ndarray  # node -> child (leaves point to themselves)
    right: np.ndarray
    value: np.ndarray  # node -> leaf value (0 for split nodes)
    roots: np.ndarray  # tree -> root node
    depth: int
    baseline: float

    @classmethod
    def from_estimator(cls, est: HistGradientBoostingClassifier) -> PackedForest:
        # `_predictors` is the fitted forest (one TreePredictor per iteration for binary tasks).
        nodes = [it[0].nodes for it in est._predictors]
        offsets = np.cumsum([0] + [len(n) for n in nodes[:-1]])
        allnodes = np.concatenate(nodes)
        if allnodes["is_categorical"].any():
            raise ValueError("categorical splits are not supported")
        own = np.arange(len(allnodes))
        shift = np.repeat(offsets, [len(n) for n in nodes])
        leaf = allnodes["is_leaf"].astype(bool)
        left = np.where(leaf, own, allnodes["left"].astype(np.int64) + shift)
        right = np.where(leaf, own, allnodes["right"].astype(np.int64) + shift)
        return cls(
            feature=np.where(leaf, 0, allnodes["feature_idx"]).astype(np.intp),
            threshold=allnodes["num_threshold"].astype(float),
            missing_left=allnodes["missing_go_to_left"].astype(bool),
            left=left.astype(np.intp),
            right=right.astype(np.intp),
            value=np.where(leaf, allnodes["value"], 0.0),
            roots=offsets.astype(np.intp),
            depth=int(allnodes["depth"].max()),
            baseline=float(np.ravel(est._baseline_prediction)[0]),
        )

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        node = np.broadcast_to(self.roots, (x.shape[0], len(self.roots))).copy()
        rows = np.arange(x.shape[0])[:, None]
        for _ in range(self.depth):
            v = x[rows, self.feature[node]]
            go_left = np.where(np.isnan(v), self.missing_left[node], v <= self.threshold[node])
            node = np.where(go_left, self.left[node], self.right[node])
        return self.value[node].sum(axis=1) + self.baseline
