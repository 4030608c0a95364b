"""Page image clean-up before OCR (OpenCV). Each step is switchable so the benchmark can
measure it; `DEFAULT_STEPS` holds the set the benchmark kept.

Order matters: find the paper in a photo first (everything else assumes a page), then the
coarse (90-degree) orientation, deskew, scale to the text size OCR reads best, and only then
the pixel-level clean-ups.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np


@dataclass(frozen=True, slots=True)
class Steps:
    page_detect: bool = True
    orientation: bool = True
    deskew: bool = True
    flatten: bool = True
    rescale: bool = True
    leaders: bool = True
    rules: bool = True
    denoise: bool = True
    binarize: bool = False
    soften: bool = True
    # median connected-component height (px) the rescale step aims for; Tesseract's LSTM reads
    # best with x-heights around 20-30 px, and larger only costs time.
    target_text_px: float = 20.0

    def without(self, **off: bool) -> Steps:
        return replace(self, **off)


DEFAULT_STEPS = Steps()


@dataclass(slots=True)
class PreprocessInfo:
    rotation: int = 0  # degrees clockwise applied to make text upright
    skew: float = 0.0
    page_found: bool = False
    scale: float = 1.0
    text_px: float | None = None
    denoised: bool = False
    # the page just before despeckling (same geometry): RapidOCR reads noisy grey levels better
    # than the binary page Tesseract needs
    grey: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)


def preprocess(gray: np.ndarray, steps: Steps = DEFAULT_STEPS) -> tuple[np.ndarray, PreprocessInfo]:
    """Return a cleaned grayscale page with text lines horizontal. Upside-down pages are left
    to the reader, which decides 0/180 from the OCR result itself (see `probe`)."""
    info = PreprocessInfo()
    img = gray

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        out = fn()
        info.timings[name] = info.timings.get(name, 0.0) + time.perf_counter() - t
        return out

    bilevel = steps.soften and timed("soften", lambda: is_bilevel(img))
    if bilevel:
        # a fax or a 1-bit scan: hard pixel edges resample into jagged strokes that Tesseract
        # misreads; a light blur restores the grey edges it was trained on (bench: fax pages
        # +5 points recall and fewer wrong values with Tesseract alone)
        img = timed("soften", lambda: cv2.GaussianBlur(img, (3, 3), 0))
    if steps.page_detect:
        warped = timed("page_detect", lambda: find_and_warp_page(img))
        if warped is not None:
            img, info.page_found = warped, True
    if steps.orientation and timed("orientation", lambda: lines_are_vertical(img)):
        img = cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
        info.rotation = 90
    if steps.deskew:
        info.skew = timed("deskew", lambda: estimate_skew(img))
        if abs(info.skew) >= 0.3:
            img = timed("deskew", lambda: rotate_bound(img, info.skew))
    # The flattened page drives every measurement and mask below (Otsu needs even lighting);
    # whether OCR sees it too is `steps.flatten` (on: +1.5 points recall and fewer wrong values
    # on photographed pages in the step benchmark).
    flat = timed("flatten", lambda: flatten_illumination(img))
    info.text_px = timed("rescale", lambda: text_height(flat))
    speckled = steps.denoise and timed("denoise", lambda: is_speckled(flat))
    if steps.flatten or speckled:
        img = flat  # a noisy page is binarised below, which needs the even lighting
    if steps.rules and info.text_px:
        img = timed("rules", lambda: remove_rules(img, info.text_px, mask_from=flat))
    if steps.leaders and info.text_px:
        img = timed("leaders", lambda: remove_leaders(img, info.text_px, mask_from=flat))
    if steps.rescale and info.text_px:
        f = steps.target_text_px / info.text_px
        # leave near-target pages alone: resampling costs time and sharpness
        if f > 1.25 or f < 0.85:
            f = min(max(f, 0.35), 3.0)
            interp = cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA
            img = timed("rescale", lambda: cv2.resize(img, None, fx=f, fy=f, interpolation=interp))
            info.scale = f
    if speckled:
        grey = img
        img = timed("denoise", lambda: despeckle(img))
        info.denoised = True
        # Rules broken into dashes and leader dots hidden among specks survive the first passes;
        # on the clean binary page they show. What goes is whited out on the grey page too.
        px = info.text_px * info.scale if info.text_px else steps.target_text_px
        binary = img
        if steps.rules:
            img = timed("rules", lambda: remove_broken_rules(img, px))
        if steps.leaders:
            img = timed("leaders", lambda: remove_leaders(img, px))
        info.grey = _whitened(grey, binary, img)
    elif bilevel and steps.rules and info.text_px:
        # a fax's thin grey table rules come out as dashes, too broken for `remove_rules`
        px = info.text_px * info.scale
        img = timed("rules", lambda: _without_broken_rules(img, px))
    elif steps.binarize:
        img = timed("binarize", lambda: cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1])
    return img, info


def is_bilevel(gray: np.ndarray) -> bool:
    """Black and white only (a fax, a 1-bit scan), allowing for speckle added later: nearly all
    of the ink is full black. A printed or photographed page's anti-aliased strokes have grey
    edges (at most ~45% of its ink is full black on generated pages; faxes >= 93%)."""
    k = max(1, gray.shape[1] // 800)
    # plain subsampling (averaging would invent grey levels), then a median drops the speckle
    small = cv2.medianBlur(np.ascontiguousarray(gray[::k, ::k]), 3)
    ink = int((small <= 215).sum())
    return ink > 0.002 * small.size and int((small < 40).sum()) >= 0.85 * ink


def _small(gray: np.ndarray, width: int = 900) -> tuple[np.ndarray, float]:
    f = width / gray.shape[1]
    if f >= 1:
        return gray, 1.0
    return cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), f


def _ink(gray: np.ndarray) -> np.ndarray:
    """Binary mask of dark strokes (255 = ink), robust to shading."""
    blk = max(15, (gray.shape[1] // 40) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, blk, 15)


def find_and_warp_page(gray: np.ndarray) -> np.ndarray | None:
    """Find a bright quadrilateral (paper) on a darker background and rectify it."""
    small, f = _small(gray, 600)
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    _, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(c)
    total = small.shape[0] * small.shape[1]
    if area < 0.25 * total or area > 0.97 * total:
        return None  # no page, or the page already fills the frame (a scan)
    quad = cv2.approxPolyDP(cv2.convexHull(c), 0.02 * cv2.arcLength(c, True), True)
    if len(quad) != 4:
        return None
    inside = small[mask > 0].mean()
    outside = small[mask == 0].mean() if (mask == 0).any() else 255
    if inside - outside < 30:
        return None  # not a clear paper/background contrast: leave the image alone
    pts = _order(quad.reshape(4, 2).astype(np.float32) / f)
    w = int(max(np.linalg.norm(pts[0] - pts[1]), np.linalg.norm(pts[3] - pts[2])))
    h = int(max(np.linalg.norm(pts[0] - pts[3]), np.linalg.norm(pts[1] - pts[2])))
    dst = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    m = cv2.getPerspectiveTransform(pts, dst)
    return cv2.warpPerspective(gray, m, (w, h), flags=cv2.INTER_CUBIC, borderValue=255)


def _order(pts: np.ndarray) -> np.ndarray:
    s, d = pts.sum(1), np.diff(pts, axis=1).ravel()
    return np.float32([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]])


def _profile_score(mask: np.ndarray, axis: int) -> float:
    prof = mask.sum(axis=axis).astype(np.float64)
    return float(np.square(np.diff(prof)).sum() / (prof.sum() ** 2 + 1e-9) * prof.size)


def lines_are_vertical(gray: np.ndarray) -> bool:
    """Text lines produce a sharp horizontal projection profile; a page turned by 90 degrees
    shows it on the other axis instead."""
    small, _ = _small(gray, 700)
    mask = _ink(small)
    best_h = max(_profile_score(_rot(mask, a), 1) for a in (-3, 0, 3))
    best_v = max(_profile_score(_rot(mask, a), 0) for a in (-3, 0, 3))
    if best_v <= 1.3 * best_h:
        return False
    # A table's column gaps sharpen the vertical profile as much as text lines do. Upright text
    # closed over its letter gaps gives long, one-letter-high blobs lying horizontally: when there
    # are several page widths of them and few standing, the page is upright after all. Where the
    # line check finds little either way (small or dense turned text), the projection stands.
    # (Seeds 6000-6299, 7000-7299, 9000-9299: upright table photos had >= 4 widths lying and
    # ~none standing; turned pages at most 1 width lying.)
    lying, standing = _line_ink(mask), _line_ink(np.ascontiguousarray(mask.T))
    return not (lying > 3 * standing and lying > 2 * mask.shape[1])


def _line_ink(mask: np.ndarray) -> float:
    """Total length of text-line-shaped blobs (closed over letter gaps) lying horizontally."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    big = np.maximum(w, h)
    big = big[(big >= 3) & (big <= mask.shape[0] / 20)]
    if big.size < 20:
        return 0.0
    big = big[big >= max(4.0, 0.4 * float(np.percentile(big, 90)))]
    s = float(np.median(big))  # letter size, whichever way the page is turned
    k = max(3, round(0.8 * s))
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1)))
    _, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    lines = (w >= 3 * h) & (h >= 0.5 * s) & (h <= 2.0 * s)
    return float(w[lines].sum())


def _rot(img: np.ndarray, angle: float) -> np.ndarray:
    if angle == 0:
        return img
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)


def estimate_skew(gray: np.ndarray, max_angle: float = 6.0) -> float:
    """Angle (degrees, counter-clockwise positive as in cv2) that makes text lines horizontal."""

    def best(mask: np.ndarray, cands: np.ndarray) -> float:
        return float(max(cands, key=lambda a: _profile_score(_rot(mask, a), 1)))

    # the 25 coarse angles on a quarter of the pixels (a 0.5 degree tilt still drifts ~4 px
    # across 450 px), the 11 fine ones at full measuring size: half the time of all at 900 px
    coarse = best(_ink(_small(gray, 450)[0]), np.arange(-max_angle, max_angle + 0.01, 0.5))
    return round(best(_ink(_small(gray, 900)[0]), np.arange(coarse - 0.5, coarse + 0.51, 0.1)), 2)


def rotate_bound(gray: np.ndarray, angle: float) -> np.ndarray:
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(gray, m, (nw, nh), flags=cv2.INTER_CUBIC, borderValue=255)


def flatten_illumination(gray: np.ndarray) -> np.ndarray:
    """Divide by a smooth estimate of the paper's brightness: removes shading and gradients."""
    small, _ = _small(gray, 400)
    k = max(3, (small.shape[1] // 25) | 1)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    bg = cv2.GaussianBlur(bg, (k, k), 0)
    bg = cv2.resize(bg, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    out = cv2.divide(gray, np.maximum(bg, 1), scale=255)
    return out


def text_height(gray: np.ndarray) -> float | None:
    """Median height of character-sized connected components, in pixels."""
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 10:
        return None
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    keep = (h >= 4) & (h <= gray.shape[0] / 15) & (w <= 3 * h) & (w >= 1)
    if keep.sum() < 20:
        return None
    hk = h[keep]
    # dotted leaders, decimal points and noise specks are many and tiny: drop them, or a page
    # full of "........" would look like 4-px text and get upscaled 3x
    hk = hk[hk >= max(5.0, 0.4 * float(np.percentile(hk, 90)))]
    return float(np.median(hk)) if hk.size else None


def remove_leaders(gray: np.ndarray, text_px: float, mask_from: np.ndarray | None = None) -> np.ndarray:
    """White out dotted leader lines ("Haemoglobin ........ 13.5"): Tesseract turns them into
    garbage words that swallow the neighbouring value. A decimal point survives because it has
    digits, not dots, on both sides."""
    src = gray if mask_from is None else mask_from
    _, mask = cv2.threshold(src, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 4:
        return gray
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    small = np.flatnonzero((w <= 0.4 * text_px) & (h <= 0.4 * text_px) & (w >= 1)) + 1
    if small.size < 3:
        return gray
    cx, cy = cents[small, 0], cents[small, 1]
    band = np.round(cy / max(1.0, 0.25 * text_px)).astype(np.int64)
    order = np.lexsort((cx, band))
    leaders: list[int] = []
    run = [order[0]]
    reach = int(text_px)
    for prev, cur in itertools.pairwise(order):
        if band[cur] == band[prev] and 0 < cx[cur] - cx[prev] < 1.3 * text_px:
            # nothing but paper between two dots of a leader; a digit between means a decimal point
            xa = int(cx[prev] + w[small[prev] - 1] / 2 + 1)
            xb = int(cx[cur] - w[small[cur] - 1] / 2 - 1)
            ya, yb = max(0, int(cy[cur]) - reach), int(cy[cur] + 0.3 * text_px) + 1
            if xb <= xa or not mask[ya:yb, xa:xb].any():
                run.append(cur)
                continue
        if len(run) >= 3:
            leaders.extend(run)
        run = [cur]
    if len(run) >= 3:
        leaders.extend(run)
    if not leaders:
        return gray
    out = gray.copy()
    out[np.isin(labels, small[leaders])] = 255
    return out


def is_speckled(gray: np.ndarray) -> bool:
    """Salt-and-pepper or sensor noise: many ink specks of one or two pixels. A median filter
    removes them; on a clean page it would only soften strokes, so it runs only when needed."""
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    specks = int((stats[1:, cv2.CC_STAT_AREA] <= 2).sum())
    return specks > 2e-4 * gray.size


def despeckle(gray: np.ndarray) -> np.ndarray:
    """Grey speckle and salt-and-pepper noise -> clean binary page. A 3x3 Gaussian averages
    the specks away and Otsu then drops them below the threshold; a median filter would do the
    same to the one-pixel strokes of faxed or small text, which the Gaussian keeps."""
    blur = cv2.GaussianBlur(gray, (3, 3), 0)
    return cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]


def remove_broken_rules(binary: np.ndarray, text_px: float, min_cover: float = 0.1) -> np.ndarray:
    """White out table rules that noise or fax broke into dashes (too short for
    `remove_rules`). A rule shows as a pixel row covered by thin horizontal strokes across much
    of the page (letters have a few such strokes per line, never a row's worth); every flat
    blob lying on such a row goes, anything taller (a letter crossing it) stays."""
    ink = (binary < 128).astype(np.uint8)
    seg = max(3, int(0.3 * text_px))
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (seg, 1)))
    horiz = cv2.dilate(horiz, np.ones((3, 1), np.uint8))  # a dash may sit a pixel higher or lower
    cover = horiz.sum(axis=1) / max(1, binary.shape[1])
    rows = np.flatnonzero(cover >= min_cover)
    if rows.size == 0:
        return binary
    on_rule = np.zeros(binary.shape[0], dtype=bool)
    for dy in range(-2, 3):  # a rule is 1-3 px thick and may drift a pixel or two
        on_rule[np.clip(rows + dy, 0, binary.shape[0] - 1)] = True
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    top, h, w = stats[1:, cv2.CC_STAT_TOP], stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    bottom = np.minimum(top + h - 1, binary.shape[0] - 1)
    # elongated dashes only: a decimal point on a busy baseline row is flat too, but square
    flat = (h <= max(3, 0.25 * text_px)) & (w >= np.maximum(seg, 2 * h)) & on_rule[top] & on_rule[bottom]
    if not flat.any():
        return binary
    out = binary.copy()
    out[np.isin(labels, np.flatnonzero(flat) + 1)] = 255
    return out


def _without_broken_rules(gray: np.ndarray, text_px: float) -> np.ndarray:
    """`remove_broken_rules` for a grey page: found on its binary form, whited out on it."""
    binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    cleaned = remove_broken_rules(binary, text_px)
    return gray if cleaned is binary else _whitened(gray, binary, cleaned)


def _whitened(gray: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """A copy of `gray` with white wherever a clean-up changed `before` into `after` (binary
    pages of the same geometry), and a pixel around it for the grey edges."""
    out = gray.copy()
    out[cv2.dilate((after != before).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = 255
    return out


def remove_rules(gray: np.ndarray, text_px: float, mask_from: np.ndarray | None = None) -> np.ndarray:
    """White out long horizontal and vertical table rules: Tesseract reads them, or their
    broken remains on a noisy scan, as "_", "|" or garbage glued to the cells."""
    src = gray if mask_from is None else mask_from
    _, mask = cv2.threshold(src, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    span = max(25, int(6 * text_px))
    horiz = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (span, 1)))
    vert = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, span)))
    horiz, vert = (
        _lone_lines(horiz, mask, vert, text_px),
        _lone_lines(vert, mask, horiz, text_px, across=True),
    )
    rules = cv2.dilate(cv2.bitwise_or(horiz, vert), np.ones((3, 3), np.uint8))
    if not rules.any():
        return gray
    out = gray.copy()
    out[rules > 0] = 255
    return out


def _lone_lines(
    runs: np.ndarray, mask: np.ndarray, other: np.ndarray, text_px: float, across: bool = False
) -> np.ndarray:
    """The long ink runs (horizontal, or vertical if `across`) that are rules, not text. On a
    blurred or coarse page a word's letters merge along the middle of the line into a run as
    long as a rule; unlike a rule's pixels, such a run's have the rest of the letters a few pixels
    above and below them. Those pixels go, and what is left must still be rule-long. `other`: the
    runs of the other direction, which flank a rule where they cross it but are no letters."""
    lines = np.flatnonzero(runs.any(axis=0 if across else 1))
    if lines.size == 0:
        return runs
    lo, hi = 3, max(4, int(0.45 * text_px))
    reach = np.zeros((hi + 1, 1), np.uint8)
    reach[: hi - lo + 1] = 1  # with the anchor at the end: ink 3..hi px before a pixel
    span = max(25, int(6 * text_px)) | 1  # odd: an even kernel's opening shifts the run ends by a pixel
    before, after, line = (
        (reach.T, reach.T[:, ::-1], (1, span)) if across else (reach, reach[::-1], (span, 1))
    )
    before, after = np.ascontiguousarray(before), np.ascontiguousarray(after)
    anchor = (hi, 0) if across else (0, hi)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, line)
    out = np.zeros_like(runs)
    # only the few bands that hold runs: full-page morphology would cost ~20 ms a page
    for band in np.split(lines, np.flatnonzero(np.diff(lines) > 1) + 1):
        a, b = max(0, int(band[0]) - hi), min(runs.shape[1 if across else 0], int(band[-1]) + 1 + hi)
        cut = (slice(None), slice(a, b)) if across else (slice(a, b), slice(None))
        m = cv2.bitwise_and(mask[cut], cv2.bitwise_not(other[cut]))
        flanked = cv2.bitwise_and(cv2.dilate(m, before, anchor=anchor), cv2.dilate(m, after, anchor=(0, 0)))
        lone = cv2.bitwise_and(runs[cut], cv2.bitwise_not(flanked))
        out[cut] |= cv2.morphologyEx(lone, cv2.MORPH_OPEN, kernel)
    return out
