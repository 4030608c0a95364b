"""Is a page upright? First asked of RapidOCR's tiny 0/180 text-line classifier on a few line
crops found with OpenCV (~30-60 ms a page), so an upside-down page is turned before its one OCR
pass. Only when that vote is unclear is the page scored from an OCR pass's own words and, if it
reads badly, OCR'd again turned by 180 degrees.

Both engines read upside-down Latin text as low-confidence garbage, so the share of confident,
word-like tokens separates the two orientations reliably.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import cv2
import numpy as np

from mappings.rows import Word

_WORDLIKE = re.compile(r"^[(]?[A-Za-z]{3,}[:.,)]?$|^\d+([.,]\d+)?$")

# Below this share of good tokens a page is re-read turned by 180 degrees.
RETRY_BELOW = 0.45


def upright_score(words: Sequence[Word]) -> float:
    tokens = [t for w in words for t in w.text.split() if t.strip()]
    if not tokens:
        return 0.0
    confs = [w.conf for w in words for t in w.text.split() if t.strip()]
    good = sum(1 for t, c in zip(tokens, confs, strict=True) if c >= 0.75 and _WORDLIKE.match(t))
    return good / (len(tokens) + 2)


def line_crops(gray: np.ndarray, text_px: float, limit: int = 16) -> list[np.ndarray]:
    """The widest text-line-like blobs of a page (ink closed horizontally over letter gaps), for
    the 0/180 classifier: enough lines for a vote, few enough to cost ~30 ms."""
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    k = max(3, int(0.8 * text_px))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    boxes = [
        (int(x), int(y), int(w), int(h))
        for x, y, w, h, _ in stats[1:]
        if 0.6 * text_px <= h <= 2.5 * text_px and w >= 4 * h  # a line of text, not a rule or a blot
    ]
    boxes.sort(key=lambda b: -b[2])
    return [gray[y : y + h, x : x + w] for x, y, w, h in boxes[:limit]]


def upside_down_vote(scores: Sequence[tuple[bool, float]]) -> float | None:
    """Classifier votes (is 180, score) -> share in -1 (upright) .. +1 (upside down); None
    without votes."""
    if not scores:
        return None
    return sum((s if flipped else -s) for flipped, s in scores) / len(scores)


# |vote| above this settles 0 vs 180 without the OCR-based retry (seeds 3000-3029: every page
# voted beyond ±0.9, rotated or not, noisy or not).
CLEAR_VOTE = 0.5
