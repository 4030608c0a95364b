"""Deskew finds the tilt of a page's text lines to a tenth of a degree."""

from __future__ import annotations

import numpy as np
import pytest

from bench.synthetic_reports import generate
from fhir_gateway.ocr.preprocess import estimate_skew, rotate_bound


@pytest.fixture(scope="module")
def upright() -> np.ndarray:
    return np.asarray(generate(11, degraded=False).render_page(0).convert("L"))


@pytest.mark.parametrize("angle", [-5.3, -2.0, -0.7, 0.0, 0.4, 1.8, 4.6])
def test_tilt_is_measured(upright: np.ndarray, angle: float) -> None:
    tilted = rotate_bound(upright, angle)
    assert abs(estimate_skew(tilted) + angle) <= 0.15
