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


@dataclass(frozen=True)
class Walk:
    """Which (row, tree) pairs a JointForest walks, and how their leaves form each forest's
    (rows, trees) table (see JointForest.plan_walk)."""

    node: np.ndarray  # pair -> its tree's root
    start: np.ndarray  # pair -> offset of its row in the flattened matrix
    gather: np.ndarray  # every forest's (rows, trees) cells, in order -> the pair holding its leaf
    shapes: tuple[tuple[int, int] | None, ...]  # per forest: (rows, trees), None if it scores nothing


@dataclass(frozen=True)
class JointForest:
    """Several PackedForests walked in one pass over one shared matrix.

    An assessment scores ~10 occlusion rows with each of four models: at that size numpy's
    per-call overhead is the whole cost, so four separate walks cost four times one joint walk.
    Each forest's features are remapped to columns of the shared matrix and each forest sees only
    its own rows. Leaves are found by the same comparisons as `PackedForest.decision_function` and
    summed per row in the same (rows, trees) layout, so the scores are identical bit for bit.
    """

    feature: np.ndarray  # node -> column of the shared matrix
    threshold: np.ndarray
    step: np.ndarray  # 4 * node + 2 * isnan(x) + (x <= threshold) -> next node
    value: np.ndarray
    roots: tuple[np.ndarray, ...]  # per forest: its tree roots in the joint node arrays
    uses: tuple[np.ndarray, ...]  # per forest: (trees, columns), True where a tree splits on a column
    baselines: tuple[float, ...]
    depth: int

    @classmethod
    def combine(cls, forests: list[PackedForest], columns: list[np.ndarray], width: int) -> JointForest:
        """`columns[i][j]`: the column of the shared matrix (`width` columns) holding forest i's
        feature j."""
        offsets = np.cumsum([0] + [len(f.feature) for f in forests[:-1]])
        feature = np.concatenate([cols[f.feature] for f, cols in zip(forests, columns, strict=True)])
        left = np.concatenate([f.left + off for f, off in zip(forests, offsets, strict=True)])
        right = np.concatenate([f.right + off for f, off in zip(forests, offsets, strict=True)])
        missing_left = np.concatenate([f.missing_left for f in forests])
        # One gather per level instead of two `where`s: slots (x > t), (x <= t), then NaN twice
        # (`x <= t` is False for NaN, so the last slot is never reached).
        missing = np.where(missing_left, left, right)
        step = np.stack([right, left, missing, missing], axis=1).ravel()
        uses = []
        for f, cols in zip(forests, columns, strict=True):
            split = f.left != np.arange(len(f.left))  # leaves point to themselves
            tree = np.searchsorted(f.roots, np.arange(len(f.feature)), side="right") - 1
            table = np.zeros((len(f.roots), width), dtype=bool)
            table[tree[split], cols[f.feature[split]]] = True
            uses.append(table)
        return cls(
            feature=feature.astype(np.intp),
            threshold=np.concatenate([f.threshold for f in forests]),
            step=step.astype(np.intp),
            value=np.concatenate([f.value for f in forests]),
            roots=tuple(f.roots + off for f, off in zip(forests, offsets, strict=True)),
            uses=tuple(uses),
            baselines=tuple(f.baseline for f in forests),
            depth=max(f.depth for f in forests),
        )

    def plan_walk(self, rows: list[np.ndarray], changed: list[np.ndarray], width: int) -> Walk:
        """Forest i scores rows `rows[i]` (none if empty) of a `width`-column matrix. Row
        `rows[i][j]` (j >= 1) may differ from row `rows[i][0]` only in the columns where
        `changed[i][j - 1]` (a boolean (rows - 1, width) table) is True: a tree splitting on none
        of them reaches the same leaf, so that pair is not walked but reuses row 0's leaf."""
        node, start, gather = [], [], []
        shapes: list[tuple[int, int] | None] = []
        pairs = 0
        for roots, uses, r, ch in zip(self.roots, self.uses, rows, changed, strict=True):
            if len(r) == 0:
                shapes.append(None)
                continue
            walk = np.ones((len(r), len(roots)), dtype=bool)
            walk[1:] = (ch.astype(np.int32) @ uses.T.astype(np.int32)) > 0
            cell = (np.cumsum(walk.ravel()) - 1 + pairs).reshape(walk.shape)
            gather.append(np.where(walk, cell, cell[0]).ravel())
            node.append(np.broadcast_to(roots, walk.shape)[walk])
            start.append(np.broadcast_to(r[:, None] * width, walk.shape)[walk])
            shapes.append(walk.shape)
            pairs += int(walk.sum())
        empty = [np.zeros(0, dtype=np.intp)]
        return Walk(
            node=np.concatenate(empty + node).astype(np.intp),
            start=np.concatenate(empty + start).astype(np.intp),
            gather=np.concatenate(empty + gather).astype(np.intp),
            shapes=tuple(shapes),
        )

    def decision_functions(self, x: np.ndarray, walk: Walk) -> list[np.ndarray | None]:
        """Per forest, the scores of its rows of the C-contiguous matrix `x` (None if it has none)."""
        flat = x.ravel()
        node = walk.node
        for _ in range(self.depth):  # leaves point to themselves, so shallower trees just wait
            v = flat[walk.start + self.feature[node]]
            at = node * 4
            at += np.isnan(v) * 2
            at += v <= self.threshold[node]
            node = self.step[at]
        leaf = self.value[node][walk.gather]
        out: list[np.ndarray | None] = []
        begin = 0
        for shape, baseline in zip(walk.shapes, self.baselines, strict=True):
            if shape is None:
                out.append(None)
                continue
            end = begin + shape[0] * shape[1]
            out.append(leaf[begin:end].reshape(shape).sum(axis=1) + baseline)
            begin = end
        return out
