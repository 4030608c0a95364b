"""The shared occlusion batch and joint forest walk give exactly (bit for bit) what one occlusion
batch per model, scored by that model's own PackedForest, gave."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

import models.explain as explain_module
import models.task_model as task_model_module
from mappings.canonical import CanonicalCBC, PatientContext
from models.artifacts import loaded_models
from models.assessment import Contribution
from models.explain import Occlusion
from models.features import columns_from_cbc, complete_derivable
from models.forest import JointForest, PackedForest
from models.indices import compute_indices
from models.interpret import MAX_CONTRIBUTIONS, _drop_impossible, interpret
from models.task_model import TaskModel


def reference_explain_row(
    model: TaskModel, cols: Mapping[str, np.ndarray], k: int
) -> tuple[np.ndarray, tuple[Contribution, ...]]:
    """The per-model occlusion the shared batch replaced, kept verbatim as the reference."""
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


def reports(n: int, seed: int) -> list[tuple[CanonicalCBC, PatientContext]]:
    """Realistic and awkward CBCs: random missing inputs, impossible zeros, values outside the
    training ranges, a missing required input, near-empty reports."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        hgb, rbc, mcv = rng.uniform(5, 18), rng.uniform(2.0, 7.5), rng.uniform(50, 125)
        v = {"hgb": round(hgb, 1), "rbc": round(rbc, 2), "mcv": round(mcv, 1)}
        optional = {
            "mch": 10 * hgb / rbc * rng.uniform(0.9, 1.1),
            "hct": mcv * rbc / 10,
            "mchc": rng.uniform(26, 38),
            "rdw_cv": rng.uniform(10, 25),
            "wbc": rng.uniform(2, 20),
            "plt": rng.uniform(50, 600),
            "mpv": rng.uniform(6, 13),
            "neut_pct": rng.uniform(20, 80),
            "lymph_pct": rng.uniform(10, 60),
            "mono_pct": rng.uniform(1, 12),
            "eos_pct": rng.uniform(0, 8),
            "baso_pct": rng.uniform(0, 2),
            "ferritin": rng.uniform(5, 200),
        }
        v.update({k: round(x, 1) for k, x in optional.items() if rng.random() < 0.6})
        if i % 11 == 0:
            v.pop(str(rng.choice(["hgb", "rbc", "mcv"])))
        if i % 13 == 0:
            v[str(rng.choice(["mch", "rbc", "mcv", "rdw_cv"]))] = 0.0
        if i % 17 == 0:
            v = {"hgb": v.get("hgb", 12.0)}
        sex = (None, "male", "female")[i % 3]
        age = None if i % 5 == 0 else float(rng.choice([0.3, 1.5, 4, 9, 13, 30, 55, 80]))
        pregnant = None if i % 4 else bool(i % 8)
        out.append((CanonicalCBC(v), PatientContext(sex=sex, age_years=age, pregnant=pregnant)))
    return out


def assert_same_as_reference(models: Mapping[str, TaskModel], cases: list) -> None:
    for cbc, context in cases:
        raw = columns_from_cbc(cbc, context)
        itp = interpret(raw, models, explain=True)
        cols, _ = complete_derivable(_drop_impossible(raw)[0])
        for task_id, model in models.items():
            p, contributions = reference_explain_row(model, cols, MAX_CONTRIBUTIONS)
            np.testing.assert_array_equal(itp.probability[task_id], p, strict=True)
            assert itp.explanations[task_id] == contributions, (task_id, dict(cbc))
        expected = compute_indices(cols)
        assert itp.indices.keys() == expected.keys()
        for key, values in expected.items():
            np.testing.assert_array_equal(itp.indices[key], values, strict=True)


def test_shared_batch_equals_one_batch_per_model() -> None:
    assert_same_as_reference(loaded_models(), reports(400, seed=11))


def test_batches_too_big_for_the_numpy_forest_still_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over SMALL_BATCH_ROWS rows a model is scored by scikit-learn, in both implementations."""
    models = loaded_models()
    monkeypatch.setattr(task_model_module, "SMALL_BATCH_ROWS", 6)
    monkeypatch.setattr(explain_module, "SMALL_BATCH_ROWS", 6)
    fresh = Occlusion.build(models)  # layouts depend on SMALL_BATCH_ROWS
    monkeypatch.setattr(explain_module, "occlusion_for", lambda _: fresh)
    assert_same_as_reference(models, reports(60, seed=12))


def test_joint_walk_equals_each_packed_forest() -> None:
    """Rows that differ from row 0 only in the declared columns: skipped trees change nothing."""
    rng = np.random.default_rng(7)
    models = list(loaded_models().values())
    forests = [m.packed or PackedForest.from_estimator(m.estimator) for m in models]
    width = 40
    columns = [rng.permutation(width)[: len(m.features)] for m in models]
    joint = JointForest.combine(forests, columns, width)
    base = rng.normal(50, 40, size=width)
    base[rng.random(width) < 0.2] = np.nan
    x = np.tile(base, (30, 1))
    changed = np.zeros((29, width), dtype=bool)
    for j in range(29):
        cols = rng.choice(width, size=rng.integers(1, 4), replace=False)
        changed[j, cols] = True
        x[j + 1, cols] = np.where(rng.random(len(cols)) < 0.3, np.nan, rng.normal(50, 40, size=len(cols)))
    rows = [np.concatenate([[0], rng.choice(np.arange(1, 30), size=8, replace=False)]) for _ in models]
    rows[2] = rows[2][:0]  # a forest with nothing to score
    walk = joint.plan_walk(rows, [changed[r[1:] - 1] for r in rows], width)
    scores = joint.decision_functions(x, walk)
    assert scores[2] is None
    for forest, cols, r, got in zip(forests, columns, rows, scores, strict=True):
        if len(r):
            expected = forest.decision_function(np.ascontiguousarray(x[np.ix_(r, cols)]))
            np.testing.assert_array_equal(got, expected, strict=True)


def test_out_of_range_flagged_keeps_only_flagged_inputs() -> None:
    model = loaded_models()["iron_deficiency_anemia"]
    cols = {k: np.array([lo - 1.0, (lo + hi) / 2, np.nan]) for k, (lo, hi) in model.ranges.items()}
    cols["mcv"] = np.array([80.0, 80.0, 80.0])
    flags = model.out_of_range(cols)
    assert list(flags) == list(model.ranges)
    flagged = model.out_of_range_flagged(cols)
    assert list(flagged) == [k for k in model.ranges if k != "mcv"]
    for mask in flagged.values():
        np.testing.assert_array_equal(mask, [True, False, False])
