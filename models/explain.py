"""Per-prediction explanations by occlusion: how much the probability changes when one input is
replaced by its typical (training-median) value, with the indices that depend on it recomputed.

Cheaper than SHAP (one batched predict of n_inputs + 1 rows), exact for the model as shipped, and
easy to read: "MCV 64 fL (typical 86) raised the probability by +0.41".

All task models share one occlusion batch: row 0 is the actual CBC, then, model after model, one
row per present input set to that model's reference. Each model scores row 0 and its own rows, in
the order a batch of its own would hold them, so its numbers are those of scoring such a batch
alone (`tests/models/test_explain.py` checks bit for bit). The indices are computed once for the
whole batch and the forests are walked together (`JointForest`): with ~10 rows per model, numpy's
per-call overhead, not arithmetic, was the cost. Everything that depends only on which inputs are
missing (rows, tree walks) is worked out once per missing-input pattern.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from models.assessment import Contribution
from models.features import INDEX_PREFIX
from models.forest import JointForest, PackedForest, Walk
from models.indices import INDICES, compute_indices
from models.task_model import SMALL_BATCH_ROWS, TaskModel

Explanation = tuple[np.ndarray, tuple[Contribution, ...]]  # (probability of the row, top inputs)
MAX_LAYOUTS = 256  # missing-input patterns remembered (~50 kB each); a lab's panel gives a few


@dataclass(frozen=True)
class _Plan:
    """One model's constants, in the shared column space."""

    task_id: str
    model: TaskModel
    inputs: tuple[str, ...]  # inputs occluded, in the model's reference order
    input_cols: np.ndarray  # their raw columns
    reference: np.ndarray  # their typical values for this model
    feature_cols: np.ndarray  # the model's features -> shared-matrix columns
    required_cols: np.ndarray


@dataclass(frozen=True)
class _Rows:
    """One model's part of the batch, for one missing-input pattern."""

    rows: np.ndarray  # row 0, then one row per present input
    present: tuple[str, ...]  # the inputs occluded, in row order
    features: np.ndarray  # flat positions of the model's (rows, features) matrix in the batch
    lacks_required: np.ndarray | None  # rows missing a required input; None if no row does


@dataclass(frozen=True)
class _Layout:
    """Everything that depends only on which inputs are missing."""

    occluded_cols: np.ndarray  # batch row i + 1 sets column occluded_cols[i] ...
    occluded_values: np.ndarray  # ... to occluded_values[i]
    parts: tuple[_Rows | None, ...]  # per model; None when a required input is missing
    walk: Walk


@dataclass(frozen=True)
class Occlusion:
    raw_keys: tuple[str, ...]  # shared columns 0..len-1; the indices follow, in INDICES order
    index_inputs: tuple[tuple[str, int], ...]  # raw inputs of the indices and their columns
    affects: np.ndarray  # (raw columns, columns): True where a column changes with the raw one
    plans: tuple[_Plan, ...]
    forest: JointForest
    layout_cols: np.ndarray  # the raw columns whose absence shapes the layout
    layouts: dict[bytes, _Layout] = field(default_factory=dict, compare=False, repr=False)

    @property
    def width(self) -> int:
        return len(self.raw_keys) + len(INDICES)

    @classmethod
    def build(cls, models: Mapping[str, TaskModel]) -> Occlusion:
        raw: dict[str, None] = {}  # ordered set
        for m in models.values():
            raw.update((f, None) for f in m.features if not f.startswith(INDEX_PREFIX))
            raw.update((k, None) for k in (*m.reference, *m.task.required))
        raw.update((k, None) for spec in INDICES for k in spec.inputs)
        raw_keys = tuple(raw)
        column = {k: j for j, k in enumerate(raw_keys)}
        column.update({INDEX_PREFIX + s.key: len(raw_keys) + j for j, s in enumerate(INDICES)})
        plans = tuple(
            _Plan(
                task_id=task_id,
                model=m,
                inputs=tuple(m.reference),
                input_cols=np.array([column[k] for k in m.reference], dtype=np.intp),
                reference=np.array(list(m.reference.values()), dtype=float),
                feature_cols=np.array([column[f] for f in m.features], dtype=np.intp),
                required_cols=np.array([column[k] for k in m.task.required], dtype=np.intp),
            )
            for task_id, m in models.items()
        )
        width = len(raw_keys) + len(INDICES)
        affects = np.zeros((len(raw_keys), width), dtype=bool)
        for j, k in enumerate(raw_keys):
            affects[j, [j] + [column[INDEX_PREFIX + s.key] for s in INDICES if k in s.inputs]] = True
        forests = [m.packed or PackedForest.from_estimator(m.estimator) for m in models.values()]
        forest = JointForest.combine(forests, [p.feature_cols for p in plans], width)
        index_inputs = tuple((k, column[k]) for k in dict.fromkeys(k for s in INDICES for k in s.inputs))
        layout_cols = np.unique(np.concatenate([c for p in plans for c in (p.input_cols, p.required_cols)]))
        return cls(raw_keys, index_inputs, affects, plans, forest, layout_cols)

    def _layout(self, missing: np.ndarray) -> _Layout:
        key = missing[self.layout_cols].tobytes()
        layout = self.layouts.get(key)
        if layout is None:
            if len(self.layouts) >= MAX_LAYOUTS:
                self.layouts.clear()
            layout = self.layouts[key] = self._new_layout(missing)
        return layout

    def _new_layout(self, missing: np.ndarray) -> _Layout:
        parts: list[_Rows | None] = []
        walked: list[np.ndarray] = []
        changed: list[np.ndarray] = []
        occluded_cols, occluded_values = [], []
        n = 1
        for plan in self.plans:
            if missing[plan.required_cols].any():
                # Every row would lack a required input, so every probability is NaN.
                parts.append(None)
                walked.append(np.zeros(0, dtype=np.intp))
                changed.append(self.affects[:0])
                continue
            present = ~missing[plan.input_cols]
            cols, values = plan.input_cols[present], plan.reference[present]
            rows = np.concatenate([[0], np.arange(n, n + len(cols))]).astype(np.intp)
            n += len(cols)
            occluded_cols.append(cols)
            occluded_values.append(values)
            # A row lacks a required input only where that input's reference is NaN.
            lacks = np.zeros(len(rows), dtype=bool)
            lacks[1:] = np.isin(cols, plan.required_cols) & np.isnan(values)
            parts.append(
                _Rows(
                    rows=rows,
                    present=tuple(k for k, p in zip(plan.inputs, present, strict=True) if p),
                    features=rows[:, None] * self.width + plan.feature_cols,
                    lacks_required=lacks if lacks.any() else None,
                )
            )
            # The numpy forest serves batches up to SMALL_BATCH_ROWS, as in TaskModel.raw_score.
            walked.append(rows if len(rows) <= SMALL_BATCH_ROWS else rows[:0])
            changed.append(self.affects[cols])
        return _Layout(
            occluded_cols=np.concatenate([np.zeros(0, dtype=np.intp), *occluded_cols]),
            occluded_values=np.concatenate([np.zeros(0), *occluded_values]),
            parts=tuple(parts),
            walk=self.forest.plan_walk(walked, changed, self.width),
        )

    def _matrix(self, x0: np.ndarray, layout: _Layout) -> np.ndarray:
        """The batch as a C-contiguous (rows, raw + index columns) matrix."""
        n = len(layout.occluded_cols) + 1
        raw = np.repeat(x0[:, None], n, axis=1)  # (columns, rows): each input contiguous
        raw[layout.occluded_cols, np.arange(1, n)] = layout.occluded_values
        indices = compute_indices({k: raw[j] for k, j in self.index_inputs})
        return np.concatenate([raw, [indices[s.key] for s in INDICES]]).T.copy()

    def explain(
        self, cols: Mapping[str, np.ndarray], k: int
    ) -> tuple[dict[str, Explanation], dict[str, np.ndarray]]:
        """For one-row `cols`, per task: the probability (a 1-element array) and up to k inputs
        ordered by |delta probability|; and the row's indices (as `compute_indices` gives them)."""
        x0 = np.array([cols[key][0] for key in self.raw_keys], dtype=float)
        layout = self._layout(np.isnan(x0))
        x = self._matrix(x0, layout)
        trees = self.forest.decision_functions(x, layout.walk)
        out: dict[str, Explanation] = {}
        for plan, part, t in zip(self.plans, layout.parts, trees, strict=True):
            out[plan.task_id] = (
                (np.full(1, np.nan), ()) if part is None else _explain(plan, part, cols, x, t, k)
            )
        row = x[0, len(self.raw_keys) :].copy()
        return out, {s.key: row[j : j + 1] for j, s in enumerate(INDICES)}


def _explain(
    plan: _Plan, part: _Rows, cols: Mapping[str, np.ndarray], x: np.ndarray, trees: np.ndarray | None, k: int
) -> Explanation:
    model = plan.model
    features = x.ravel()[part.features]  # C-contiguous (rows, features), as feature_matrix builds it
    raw = model.raw_score(features) if trees is None else model.blend(trees, features)
    p = model.calibrated(raw)
    if part.lacks_required is not None:
        p = np.where(part.lacks_required, np.nan, p)
    if np.isnan(p[0]) or not part.present:
        return p[:1], ()
    deltas = p[0] - p[1:]
    order = np.argsort(-np.abs(deltas))[:k]
    return p[:1], tuple(
        Contribution(
            feature=part.present[i],
            value=float(cols[part.present[i]][0]),
            reference=float(model.reference[part.present[i]]),
            delta_probability=float(deltas[i]),
        )
        for i in order
    )


_BUILT: dict[tuple[tuple[str, int], ...], tuple[tuple[TaskModel, ...], Occlusion]] = {}


def occlusion_for(models: Mapping[str, TaskModel]) -> Occlusion:
    """The Occlusion for these model objects, built once (the shipped models are loaded once)."""
    key = tuple((task_id, id(m)) for task_id, m in models.items())
    hit = _BUILT.get(key)
    if hit is None:
        if len(_BUILT) >= 8:  # tests build many model sets; the service uses one
            _BUILT.clear()
        # Holding the models keeps their ids from being reused by other objects.
        hit = (tuple(models.values()), Occlusion.build(models))
        _BUILT[key] = hit
    return hit[1]


def explain_rows(
    models: Mapping[str, TaskModel], cols: Mapping[str, np.ndarray], k: int
) -> tuple[dict[str, Explanation], dict[str, np.ndarray]]:
    """Per task: the probability of one-row `cols` and its top-k occlusion contributions; and the
    row's discriminant indices."""
    if not models:
        return {}, compute_indices(cols)
    return occlusion_for(models).explain(cols, k)
