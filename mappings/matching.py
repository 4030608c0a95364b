"""Printed test name -> candidate analyte keys (exact, OCR-repaired, then fuzzy).

Short abbreviations are matched exactly only: a fuzzy "MCH" would happily become "MCHC".
Names of tests we deliberately do not map (HbA1c, UIBC, ESR...) compete in the same index, so a
near miss lands on "ignore" instead of on the wrong analyte.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from mappings.catalog import all_analytes, ignored_names

IGNORE = "__ignore__"
FUZZY_THRESHOLD = 88.0  # rapidfuzz ratio (0..100) needed for a fuzzy match
FUZZY_MARGIN = 4.0  # best must beat the best *different* analyte by this much
FUZZY_MIN_LEN = 6  # names shorter than this are matched exactly or not at all

Hint = Literal["pct", "abs"]

# Words that describe method, specimen or calculation and never identify the analyte.
_NOISE = re.compile(
    r"\b(?:calculated|calc|derived|measured|automated|auto|by|impedance|electrical|photometry|"
    r"photometric|spectrophotometry|spectrophotometric|colorimetric|colorimetry|flow|cytometry|"
    r"flowcytometry|coulter|microscopy|microscopic|manual|method|whole|blood|edta|sls|cyanmeth|"
    r"cyanmethemoglobin|hplc|facs|vcs|optical|sheath|laser|scatter|computed|estimation|level|"
    r"value|result|test|of|in|the|serum|sr|s|plasma)\b"
)
_PCT_HINT = re.compile(r"%|\bpercent(?:age)?\b|\brelative\b|\bdifferential\b|\bdlc\b")
_ABS_HINT = re.compile(r"#|\babs(?:olute)?\b|\babs\.")
_OCR_LETTERS = str.maketrans({"0": "o", "1": "l", "5": "s", "8": "b", "|": "l", "$": "s"})


def normalize_name(text: str) -> str:
    """Lower-case, strip accents and punctuation (keeping % and #), unify spaces."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.lower().replace("µ", "u").replace("&", " and ").replace("¢", "c")  # "R.B.¢." on a fax
    t = re.sub(r"[^a-z0-9%#]+", " ", t)
    return " ".join(t.split())


def _ocr_repair(norm: str) -> str:
    """Digits inside words were probably letters ('haem0gl0bin', 'p1ate1ets', '8asophils')."""
    words = []
    signed = norm.endswith(("%", "#"))  # "e05 %": a % or # sign says name, not number
    for w in norm.split():
        letters = sum(c.isalpha() for c in w)
        # only words that are mostly letters; keeps 'hba2', 'a2', 'rdw' intact
        mostly = letters >= sum(c.isdigit() for c in w) or signed
        if letters >= 1 and mostly and not re.search(r"a2$", w):
            w = w.translate(_OCR_LETTERS)
        words.append(w)
    return " ".join(words)


@cache
def _index() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(exact alias -> keys, fuzzy-eligible long name -> keys)."""
    exact: dict[str, set[str]] = {}
    fuzzy: dict[str, set[str]] = {}
    for a in all_analytes():
        for alias in (*a.names, *a.abbrev, a.key.replace("_", " ")):
            norm = normalize_name(alias)
            exact.setdefault(norm, set()).add(a.key)
            exact.setdefault(norm.replace(" ", ""), set()).add(a.key)
        for name in a.names:
            norm = normalize_name(name)
            if len(norm) >= FUZZY_MIN_LEN:
                fuzzy.setdefault(norm, set()).add(a.key)
    for name in ignored_names():
        norm = normalize_name(name)
        # a catalog alias wins a collision: "hemoglobin e" squashed is French "hemoglobine"
        for variant in (norm, norm.replace(" ", "")):
            if variant not in exact:
                exact[variant] = {IGNORE}
        if len(norm) >= FUZZY_MIN_LEN:
            fuzzy.setdefault(norm, set()).add(IGNORE)
    return ({k: frozenset(v) for k, v in exact.items()}, {k: frozenset(v) for k, v in fuzzy.items()})


@dataclass(frozen=True, slots=True)
class NameMatch:
    keys: tuple[str, ...]  # candidates, e.g. ("neut_pct", "neut_abs"); ("__ignore__",) for known non-CBC
    score: float  # 100 for exact
    method: Literal["exact", "ocr", "fuzzy"]
    hint: Hint | None  # "%"/"#"/"absolute" printed in the name

    @property
    def ignored(self) -> bool:
        return IGNORE in self.keys


def _hint(norm: str) -> Hint | None:
    if _ABS_HINT.search(norm):
        return "abs"
    if _PCT_HINT.search(norm):
        return "pct"
    return None


def _strip(norm: str) -> str:
    t = _PCT_HINT.sub(" ", norm)
    t = _ABS_HINT.sub(" ", t)
    t = re.sub(r"\bcount\b", " ", t) if re.search(r"\b(abs|absolute)\b", norm) else t
    return " ".join(t.split())


def _exact(candidates: list[str]) -> frozenset[str] | None:
    exact, _ = _index()
    for c in candidates:
        if c in exact:
            return exact[c]
        if c.replace(" ", "") in exact:
            return exact[c.replace(" ", "")]
    return None


@lru_cache(maxsize=8192)
def match_name(text: str) -> NameMatch | None:
    """Best catalog match for a printed test name, or None if nothing is close enough. Cached:
    the combined reader extracts the same rows several times (each engine, joined rows, a full
    read), and the answer (a frozen NameMatch) depends on the text alone."""
    norm = normalize_name(text)
    if not norm or not any(c.isalpha() for c in norm):
        return None
    hint = _hint(norm)
    no_paren = normalize_name(re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", text))
    base = " ".join(_NOISE.sub(" ", norm).split())
    tried = [norm, no_paren, base, _strip(norm), _strip(base), _strip(no_paren)]
    # Parenthesised abbreviations: "Packed Cell Volume (PCV)" -> also try "pcv"
    tried += [normalize_name(p) for p in re.findall(r"\(([^)]*)\)", text)]
    if len(norm.split()) > 1 and all(len(w) == 1 for w in norm.split()):
        tried.append(norm.replace(" ", ""))  # "R,8,C," -> "r8c", for the repairs below
    keys = _exact([t for t in tried if t])
    if keys:
        return NameMatch(tuple(sorted(keys)), 100.0, "exact", hint)
    repaired = [_ocr_repair(t) for t in tried if t]
    keys = (
        _exact(repaired)
        or _exact([_first_letter_repair(t) for t in repaired])
        or _exact([_broken_h_repair(t) for t in (*tried, *repaired) if t])
    )
    if keys:
        return NameMatch(tuple(sorted(keys)), 95.0, "ocr", hint)
    queries = [t for t in {*(tried[:3]), *(repaired[:3])} if len(t) >= FUZZY_MIN_LEN - 1]
    # then without "%"/"#"/"absolute" ("Eosiophils %"): the hint keeps the percent/absolute form.
    # Not a span holding digits: that is a name that swallowed its value ("Neutrophils: 65:8 %").
    bare = [
        t
        for t in {*(tried[3:6]), *(repaired[3:6])}
        if len(t) >= FUZZY_MIN_LEN - 1 and not any(c.isdigit() for c in t)
    ]
    return (
        _fuzzy(queries, hint)
        or _fuzzy(bare, hint)
        or _fuzzy_glyphs(queries, hint)
        or _fuzzy_glyphs(bare, hint)
    )


# Characters OCR confuses at the start of a word ("Tron" for "Iron", "lron", "1ron").
_START_CLASS = str.maketrans({"l": "i", "t": "i", "1": "i", "|": "i", "0": "o", "5": "s", "8": "b"})


def _first_letter_repair(norm: str) -> str:
    return " ".join("i" + w[1:] if w[:1] in ("t", "l", "1", "|") else w for w in norm.split())


# An "H" whose crossbar a fax or a coarse scan lost reads as two uprights: "MC1I" (MCH), "MClIC"
# (MCHC), "11b" (Hb): any two of "l", "i", "1". Exact aliases only.
_BROKEN_H = re.compile(r"[li1]{2}")


def _broken_h_repair(norm: str) -> str:
    return _BROKEN_H.sub("h", norm)


def _same_start(query: str, name: str) -> bool:
    """OCR garbles letters inside a word far more often than it invents a first letter, so a fuzzy
    match must start alike: "Lymonocytes" is not taken for "Monocytes" (better unmapped than wrong)."""
    return query[:1].translate(_START_CLASS) == name[:1].translate(_START_CLASS)


def _fuzzy(queries: list[str], hint: Hint | None) -> NameMatch | None:
    _, fuzzy = _index()
    choices = list(fuzzy)
    best: tuple[float, frozenset[str]] | None = None
    runner_up = 0.0
    for q in queries:
        for name, score, _ in process.extract(q, choices, scorer=fuzz.ratio, limit=8):
            if not _same_start(q, name):
                continue
            keys = fuzzy[name]
            if best is None or score > best[0]:
                if best is not None and not (keys & best[1]):
                    runner_up = max(runner_up, best[0])
                best = (score, keys)
            elif not (keys & best[1]):
                runner_up = max(runner_up, score)
    if best is None or best[0] < FUZZY_THRESHOLD or best[0] - runner_up < FUZZY_MARGIN:
        return None
    return NameMatch(tuple(sorted(best[1])), float(best[0]), "fuzzy", hint)


# Letters OCR confuses on coarse or faxed print, where thin strokes break or vanish: the round
# letters (c e o a), the arches (n u h), the uprights (i l t 1 j), y/v, q/g; "rn" for "m".
_GLYPH_CLASS = str.maketrans("ceao0unhilt1jyq", "ooooonnnlllllvg")
GLYPH_THRESHOLD = 90.0  # ratio of the glyph-class spellings needed
GLYPH_MARGIN = 8.0  # over the best different analyte, also by glyph class (classes make names closer)
GLYPH_MIN_RATIO = 75.0  # and the plain spellings must still be this alike


def _glyphs(norm: str) -> str:
    return re.sub(r"rn|nn", "m", norm).translate(_GLYPH_CLASS)


@cache
def _glyph_index() -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
    """Glyph-class spelling -> (keys, the names spelt so), over the fuzzy-eligible names
    (ignored names compete too)."""
    _, fuzzy = _index()
    keys: dict[str, set[str]] = {}
    names: dict[str, list[str]] = {}
    for name, ks in fuzzy.items():
        keys.setdefault(_glyphs(name), set()).update(ks)
        names.setdefault(_glyphs(name), []).append(name)
    return {g: (frozenset(keys[g]), tuple(names[g])) for g in keys}


def _fuzzy_glyphs(queries: list[str], hint: Hint | None) -> NameMatch | None:
    """A name degraded past the plain fuzzy match ("Reliculoeytes", "Noutaophils"): compared
    with the catalog by glyph class, so a confusable letter costs nothing. Stricter threshold and
    margin than the plain match, since the classes bring different analytes' names closer."""
    index = _glyph_index()
    choices = list(index)
    best: tuple[float, frozenset[str], str, str] | None = None
    runner_up = 0.0
    for q in queries:
        gq = _glyphs(q)
        for name, score, _ in process.extract(gq, choices, scorer=fuzz.ratio, limit=8):
            if name[:1] != gq[:1]:
                continue
            keys = index[name][0]
            if best is None or score > best[0]:
                if best is not None and not (keys & best[1]):
                    runner_up = max(runner_up, best[0])
                best = (score, keys, q, name)
            elif not (keys & best[1]):
                runner_up = max(runner_up, score)
    if best is None or best[0] < GLYPH_THRESHOLD or best[0] - runner_up < GLYPH_MARGIN:
        return None
    _, keys, q, spelt = best
    _, fuzzy = _index()
    if len({fuzzy[name] for name in index[spelt][1]}) > 1:
        return None  # names of different analytes that only the classes made alike
    plain = max(fuzz.ratio(q, name) for name in index[spelt][1])
    if plain < GLYPH_MIN_RATIO:
        return None
    return NameMatch(tuple(sorted(keys)), float(plain), "fuzzy", hint)


# --------------------------------------------------------------------------- names past reading

NEAR_RATIO = 75.0  # glyph-class ratio for a long name to count as near


def near_keys(text: str) -> list[str]:
    """Analytes whose printed name `text` may be, when it is too garbled for `match_name` ("FOS#"
    for EOS#, "LYMPIH#", "HOB" for HGB): an abbreviation one glyph-class edit away, or a long name
    by the glyph-class ratio. A shortlist, never an answer: the caller must confirm each one by
    other evidence (see `mappings.extract`, which asks the CBC relations)."""
    norm = normalize_name(text)
    if len(norm.replace(" ", "")) < 3 or not any(c.isalpha() for c in norm):
        return []
    variants = {_glyphs(v) for v in (norm, _broken_h_repair(norm), _ocr_repair(norm)) if v}
    variants |= {v.replace(" ", "") for v in variants}
    out: set[str] = set()
    for key, spelt in _spelt_aliases():
        if key in out:
            continue
        if len(spelt) <= FUZZY_MIN_LEN:
            near = any(len(v) >= 3 and Levenshtein.distance(v, spelt, score_cutoff=1) <= 1 for v in variants)
        else:
            near = any(fuzz.ratio(v, spelt, score_cutoff=NEAR_RATIO) for v in variants)
        if near:
            out.add(key)
    return sorted(out)


@cache
def _spelt_aliases() -> tuple[tuple[str, str], ...]:
    """(key, glyph-class spelling) of every catalog name and abbreviation of 3+ letters."""
    pairs = {
        (a.key, _glyphs(normalize_name(alias))) for a in all_analytes() for alias in (*a.names, *a.abbrev)
    }
    return tuple(sorted(p for p in pairs if len(p[1]) >= 3))
