"""Morphology rules and discriminant indices (formulas checked against hand arithmetic)."""

from __future__ import annotations

import numpy as np
import pytest

from models.indices import INDEX_BY_KEY, INDICES, compute_indices
from models.morphology import classify_morphology


def test_morphology_categories() -> None:
    m = classify_morphology(
        np.array([70.0, 90.0, 105.0, np.nan]),
        np.array([22.0, 30.0, 34.0, np.nan]),
        np.array([33.0, 31.0, 33.0, np.nan]),
    )
    assert list(m.size) == ["microcytic", "normocytic", "macrocytic", "unknown"]
    # MCHC 31 < 32 makes row 2 hypochromic even though MCH is normal.
    assert (
        m.hypochromic[0] == 1
        and m.hypochromic[1] == 1
        and m.hypochromic[2] == 0
        and np.isnan(m.hypochromic[3])
    )
    assert list(m.label[:2]) == ["microcytic hypochromic", "normocytic hypochromic"]


@pytest.mark.parametrize(
    ("mch", "trigger", "alpha_zero"), [(24.9, 1, 1), (25.0, 1, 0), (26.9, 1, 0), (27.0, 0, 0)]
)
def test_antenatal_trigger_and_alpha_zero_hint(mch: float, trigger: int, alpha_zero: int) -> None:
    m = classify_morphology(np.array([80.0]), np.array([mch]), np.array([np.nan]))
    assert (m.antenatal_trigger[0], m.alpha_zero_hint[0]) == (trigger, alpha_zero)


def cols(**values: float) -> dict[str, np.ndarray]:
    return {k: np.array([v]) for k, v in values.items()}


def test_index_formulas_match_hand_arithmetic() -> None:
    c = cols(hgb=10.0, rbc=5.0, mcv=65.0, mch=20.0, mchc=30.0, rdw_cv=16.0)
    v = {k: float(a[0]) for k, a in compute_indices(c).items()}
    assert v["mentzer"] == pytest.approx(13.0)
    assert v["england_fraser"] == pytest.approx(65 - 5 - 50 - 3.4)
    assert v["srivastava"] == pytest.approx(4.0)
    assert v["shine_lal"] == pytest.approx(65**2 * 20 / 100)
    assert v["green_king"] == pytest.approx(65**2 * 16 / 1000)
    assert v["rdw_index"] == pytest.approx(65 * 16 / 5)
    assert v["ricerca"] == pytest.approx(3.2)
    assert v["ehsani"] == pytest.approx(15.0)
    assert v["sirdah"] == pytest.approx(65 - 5 - 30)
    assert v["matos_carvalho"] == pytest.approx(1.91 * 5 + 0.44 * 30)


def test_missing_rdw_only_blanks_rdw_indices() -> None:
    c = cols(hgb=10.0, rbc=5.0, mcv=65.0, mch=20.0, mchc=30.0, rdw_cv=np.nan)
    values = compute_indices(c)
    for spec in INDICES:
        assert np.isnan(values[spec.key][0]) == ("rdw_cv" in spec.inputs)


def test_directions_and_citations() -> None:
    assert INDEX_BY_KEY["mentzer"].suggests_thal(np.array([12.9]))[0]
    assert not INDEX_BY_KEY["mentzer"].suggests_thal(np.array([13.1]))[0]
    assert INDEX_BY_KEY["matos_carvalho"].suggests_thal(np.array([24.0]))[0]  # reversed direction
    assert {s.key for s in INDICES} >= {
        "mentzer",
        "england_fraser",
        "srivastava",
        "shine_lal",
        "green_king",
        "rdw_index",
        "ricerca",
        "ehsani",
        "sirdah",
        "matos_carvalho",
    }
    for spec in INDICES:
        assert any(str(y) in spec.citation for y in range(1970, 2025)), spec.key


def test_scalar_suggestion_matches_the_array_form() -> None:
    for spec in INDICES:
        values = np.array([spec.cutoff - 1e-9, spec.cutoff, spec.cutoff + 1e-9, -5.0, 1e6])
        expected = spec.suggests_thal(values)
        assert [spec.suggests_thal_value(float(v)) for v in values] == expected.tolist(), spec.key
