"""CBC consistency: the redundant indices catch OCR misreads, and sometimes repair them.

    Hct ≈ RBC × MCV / 10        MCH ≈ Hb × 10 / RBC        MCHC ≈ Hb × 100 / Hct
    neut% + lymph% + mono% + eos% + baso% ≈ 100          X_abs ≈ X% × WBC / 100

A relation that fails points at its members. For each suspect we try the readings an OCR engine
could have produced instead (confusable digits, lost or extra decimal point); a repair is made
only when exactly one (analyte, value) pair makes every relation it takes part in hold. Anything
else becomes "uncertain" — a wrong number is worse than a missing one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mappings.catalog import analyte
from mappings.readings import AnalyteReading, ReadingWarning
from mappings.values import COLON_POINT, find_ranges, printed_numbers

# Two tolerances: a relation "fails" (raising suspicion) beyond LOOSE, but a repair candidate
# must satisfy it within TIGHT. Analyzers compute the indices, so printed values agree to
# rounding (<1.5%); the gap keeps real reports quiet and repairs unambiguous.
LOOSE, TIGHT = 0.04, 0.015
DIFF_SUM = {LOOSE: (94.0, 103.0), TIGHT: (99.0, 101.0)}  # bands/IG printed apart may leave a gap
_DIFF = ("neut", "lymph", "mono", "eos", "baso")

# Readings marked uncertain only for OCR reasons may be confirmed or repaired by the rules;
# other uncertain readings (ambiguous analyte, conflicting rows) stay out of the arithmetic.
TRUNCATED = "printed value ends in a decimal point; a digit after it was probably lost"
OCR_NOTES = (
    "a letter in the printed value was read as a digit",
    COLON_POINT,
    "low OCR confidence",
    TRUNCATED,
    "value is unusual for the printed unit; the unit or decimal point may be misread",
    "far outside the printed range with no flag, while a tenfold shift fits it: decimal point misread?",
)

# Digits OCR engines confuse with each other (shape-alike on print, fax and photos).
_CONFUSABLE: dict[str, str] = {
    "0": "869",
    "1": "74",
    "2": "73",
    "3": "8592",
    "4": "91",
    "5": "6839",
    "6": "5809",
    "7": "12",
    "8": "03695",
    "9": "80463",
}


@dataclass(frozen=True)
class Relation:
    name: str
    keys: tuple[str, ...]
    holds: Callable[[dict[str, float], float], bool]


def _close(actual: float, expected: float, tol: float) -> bool:
    if expected == 0:
        return abs(actual) < 1e-9
    return abs(actual - expected) <= tol * abs(expected)


def _abs_relation(cell: str) -> Relation:
    pct, abs_, wbc = f"{cell}_pct", f"{cell}_abs", "wbc"

    def holds(v: dict[str, float], tol: float) -> bool:
        expected = v[pct] * v[wbc] / 100
        # rounding: an integer % is +-0.5 % of WBC, an absolute count +-0.005
        return abs(v[abs_] - expected) <= tol * expected + 0.005 * v[wbc] + 0.011

    return Relation(f"{cell} absolute = % × WBC", (pct, abs_, wbc), holds)


RELATIONS: tuple[Relation, ...] = (
    Relation(
        "Hct = RBC × MCV / 10",
        ("hct", "rbc", "mcv"),
        lambda v, t: _close(v["hct"], v["rbc"] * v["mcv"] / 10, t),
    ),
    Relation(
        "MCH = Hb × 10 / RBC",
        ("mch", "hgb", "rbc"),
        lambda v, t: _close(v["mch"], v["hgb"] * 10 / v["rbc"], t),
    ),
    Relation(
        "MCHC = Hb × 100 / Hct",
        ("mchc", "hgb", "hct"),
        lambda v, t: _close(v["mchc"], v["hgb"] * 100 / v["hct"], t),
    ),
    Relation(
        "differential % sums to 100",
        tuple(f"{c}_pct" for c in _DIFF),
        lambda v, t: DIFF_SUM[t][0] <= sum(v[f"{c}_pct"] for c in _DIFF) <= DIFF_SUM[t][1],
    ),
    *(_abs_relation(c) for c in _DIFF),
)


def _safe_holds(rel: Relation, values: dict[str, float], tol: float = LOOSE) -> bool | None:
    """None when a member is missing (relation not computable)."""
    if any(k not in values for k in rel.keys):
        return None
    try:
        return rel.holds(values, tol)
    except ZeroDivisionError:
        return False


def alternative_readings(value: float) -> set[float]:
    """Values an OCR engine might have misread as ``value``: one confusable digit, or a lost,
    extra or moved decimal point."""
    text = f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    out: set[float] = set()
    for factor in (10, 100, 1000):
        out.update((value * factor, value / factor))
    for i, ch in enumerate(text):
        for alt in _CONFUSABLE.get(ch, ""):
            out.add(float(text[:i] + alt + text[i + 1 :]))
    digits = text.replace(".", "")
    for pos in range(1, len(digits)):
        out.add(float(digits[:pos] + "." + digits[pos:]))
    out.add(float(digits))
    return {round(v, 6) for v in out if v > 0 and abs(v - value) > 1e-9}


def _usable(r: AnalyteReading) -> bool:
    return r.status != "uncertain" or any(n in OCR_NOTES for n in r.notes)


def _relations_of(key: str, values: dict[str, float]) -> list[Relation]:
    return [rel for rel in RELATIONS if key in rel.keys and all(k in values for k in rel.keys)]


def _consistent(key: str, values: dict[str, float], tol: float = LOOSE) -> bool:
    rels = _relations_of(key, values)
    return bool(rels) and all(_safe_holds(rel, values, tol) for rel in rels)


def _components(violated: list[Relation]) -> list[set[str]]:
    """Groups of keys linked by failed relations; each group is repaired independently."""
    groups: list[set[str]] = []
    for rel in violated:
        keys = set(rel.keys)
        merged = [g for g in groups if g & keys]
        for g in merged:
            groups.remove(g)
            keys |= g
        groups.append(keys)
    return groups


def check_and_repair(analytes: list[AnalyteReading]) -> tuple[list[AnalyteReading], list[ReadingWarning]]:
    """Reject impossible values, repair a misread when exactly one reading fits, mark the rest.

    Returns new readings (rejected ones removed; status "repaired"/"uncertain"/"ok" when
    confirmed, plus a note saying why) and warnings. The input list and readings are not changed,
    so callers may try alternative readings against the same report.
    """
    analytes = [dataclasses.replace(r, notes=list(r.notes)) for r in analytes]
    warnings: list[ReadingWarning] = []
    by_key = {r.key: r for r in analytes}
    values = {r.key: r.value_canonical for r in analytes if _usable(r)}
    implausible = {r.key for r in analytes if not analyte(r.key).is_plausible(r.value_canonical)}
    for k in implausible:
        values.pop(k, None)

    # 1. implausible values: repair only if a relation confirms exactly one alternative
    for key in sorted(implausible):
        r = by_key[key]
        fits = _fitting_alternatives(r, values)
        if len(fits) == 1:
            _repair(r, fits[0], values, "outside the physiologically plausible range")
        else:
            analytes = [a for a in analytes if a.key != key]
            warnings.append(
                ReadingWarning(
                    "implausible_value", f"{key} value is outside the plausible range and was not used", key
                )
            )

    # 2-3. OCR-doubtful readings are set aside; the trusted ones are repaired one unambiguous
    #      misread at a time, then each doubtful one is confirmed or repaired against them, then
    #      pairs of lost decimal points are tried; repeated while anything changes, because one
    #      repair can make the next relation computable.
    doubtful = sorted(k for k in values if by_key[k].status == "uncertain")
    trusted = {k: v for k, v in values.items() if k not in doubtful}
    progress, rounds = True, 0
    while progress and rounds < 10:  # each round settles at least one reading; 10 is plenty
        progress, rounds = False, rounds + 1
        while (repair := _unique_repair(trusted, by_key)) is not None:
            key, new, names = repair
            _repair(by_key[key], new, trusted, f"inconsistent with {names}")
            progress = True
        for key in [k for k in doubtful if k not in trusted and _only_ocr_doubt(by_key[k])]:
            progress |= _settle_doubtful(by_key[key], values[key], trusted)
        pending = [k for k in doubtful if k not in trusted and _only_ocr_doubt(by_key[k])]
        pair = _unique_pair_repair(pending, values, trusted, by_key)
        for key, new in pair or ():
            trusted[key] = values.get(key, trusted.get(key, 0.0))
            _repair(by_key[key], new, trusted, "inconsistent, together with one other lost decimal point")
            progress = True

    # 4. whatever still fails cannot be explained by one misread: mark it, never guess. Readings
    #    still in doubt take part here, so a trusted partner of a failed relation is marked too
    #    unless another relation vouches for it.
    unsettled = {k: values[k] for k in doubtful if k not in trusted}
    everything = {**trusted, **unsettled}
    violated = [rel for rel in RELATIONS if _safe_holds(rel, everything) is False]
    for group in _components(violated):
        rels = [rel for rel in violated if set(rel.keys) <= group]
        names = "; ".join(rel.name for rel in rels)
        marked = False
        # a failed relation with a still-doubtful member most likely fails because of that member
        blame_doubtful = bool(unsettled.keys() & {k for rel in rels for k in rel.keys})
        for k in sorted(k for k in group if k in trusted):
            r = by_key[k]
            vouched = any(
                _safe_holds(rel, everything) for rel in _relations_of(k, everything) if rel not in rels
            )
            if r.status == "uncertain" or (blame_doubtful and vouched):
                continue
            r.status = "uncertain"
            r.notes.append(f"fails CBC consistency check ({names}); no single misread explains it")
            marked = True
        if marked:
            warnings.append(
                ReadingWarning(
                    "inconsistent_values",
                    f"values fail {names}; no single misread explains it; marked uncertain",
                    None,
                )
            )
    return analytes, warnings


def _settle_doubtful(r: AnalyteReading, value: float, trusted: dict[str, float]) -> bool:
    """Confirm or repair one OCR-doubtful reading against trusted values; True if settled."""
    if not _relations_of(r.key, {**trusted, r.key: value}):
        return False
    # "31." for 31.1: the lost digits shift the value by less than rounding, so the rules that
    # vouch for 31.0 vouch for 31.1 to 31.9 as well; such a reading can be repaired, not confirmed
    vouching = (
        []
        if TRUNCATED in r.notes and _printed_with_decimals(r)
        else vouching_relations(r.key, value, trusted)
    )
    if vouching:
        trusted[r.key] = value
        r.status = "ok"
        r.notes.append("confirmed by CBC consistency: " + "; ".join(vouching))
        return True
    fits = _fitting_alternatives(r, trusted)
    if len(fits) == 1:
        _repair(r, fits[0], trusted, "doubtful and inconsistent")
        return True
    return False


def vouching_relations(
    key: str, value: float, trusted: dict[str, float], *, supported: bool = True
) -> list[str]:
    """Names of the relations that vouch for `value` as `key` among trusted values, as tightly
    as a repair must fit (empty if they do not). `supported`: also ask that the partners are
    vouched for themselves (`_supported`), as a doubtful value's confirmation must."""
    trial = {**trusted, key: value}
    if (
        _consistent(key, trial, TIGHT)
        and (not supported or _supported(key, trial))
        and _tells_scale(key, trial)
    ):
        return [rel.name for rel in _relations_of(key, trial)]
    return []


def _printed_with_decimals(r: AnalyteReading) -> bool:
    """Whether the row's reference range has decimals, so its value should too. Labs print a
    value with its range's precision: "EOS# 91. cells/cumm 20-500" lost no digit (the point is a
    speck), "Lymphocytes 31. % 20.0-40.0" did. Without a range, assume a digit was lost."""
    ranges = find_ranges(r.source_text)
    if not ranges:
        return True
    return any(n.decimals > 0 for x in ranges for n in printed_numbers(x.text))


def _tells_scale(key: str, values: dict[str, float]) -> bool:
    """Whether the relations that hold for ``key`` would fail for a tenfold shift of it. Near zero
    they cannot: "BASO# 0.01" read in /uL instead of 10^3/uL is 0.00001, and % × WBC agrees with
    that as well as with 0.01 within rounding, so the relation vouches for nothing."""
    v = values[key]
    return not any(_consistent(key, {**values, key: v * f}) for f in (0.1, 10.0))


def _supported(key: str, values: dict[str, float]) -> bool:
    """Enough evidence to change or vouch for ``key``: two relations, or one relation whose other
    members are each vouched for by a relation of their own (else a wrong partner would be
    'confirmed' along with it)."""
    rels = _relations_of(key, values)
    if len(rels) >= 2:
        return True
    if not rels:
        return False
    return all(_anchored(k, key, values) for k in rels[0].keys if k != key)


def _anchored(key: str, other: str, values: dict[str, float]) -> bool:
    return any(other not in rel.keys and _safe_holds(rel, values) for rel in _relations_of(key, values))


def _unique_repair(
    values: dict[str, float], by_key: dict[str, AnalyteReading]
) -> tuple[str, float, str] | None:
    """The one (key, printed value) that makes a failed group of relations hold, if exactly one."""
    violated = [rel for rel in RELATIONS if _safe_holds(rel, values) is False]
    for group in _components(violated):
        rels = [rel for rel in violated if set(rel.keys) <= group]
        fits = [
            (k, v)
            # a reading is repaired at most once: a second change would be guessing
            for k in sorted(k for k in group if k in values and by_key[k].status != "repaired")
            for v in _fitting_alternatives(by_key[k], values)
            if _group_holds(rels, {**values, k: _canonical(by_key[k], v)})
        ]
        if len(fits) == 1:
            return fits[0][0], fits[0][1], "; ".join(rel.name for rel in rels)
    return None


def _unique_pair_repair(
    pending: list[str],
    doubtful_values: dict[str, float],
    trusted: dict[str, float],
    by_key: dict[str, AnalyteReading],
) -> list[tuple[str, float]] | None:
    """Exactly one pair (doubtful reading, other reading), both shifted tenfold, that makes every
    failed relation around them hold; None when there is no such pair or more than one. Other
    doubtful readings stay out of the arithmetic so they cannot block or fake a fit."""
    found: set[tuple[tuple[str, float], ...]] = set()
    for k1 in pending:
        values = {**trusted, k1: doubtful_values[k1]}
        violated = [rel for rel in RELATIONS if _safe_holds(rel, values) is False]
        group = next((g for g in _components(violated) if k1 in g), None)
        if group is None:
            continue
        rels = [rel for rel in violated if set(rel.keys) <= group]
        for k2 in sorted(k for k in group if k in values and k != k1):
            for v1 in _tenfold(by_key[k1]):
                for v2 in _tenfold(by_key[k2]):
                    trial = {**values, k1: _canonical(by_key[k1], v1), k2: _canonical(by_key[k2], v2)}
                    if not (analyte(k1).is_plausible(trial[k1]) and analyte(k2).is_plausible(trial[k2])):
                        continue
                    if (
                        _consistent(k1, trial, TIGHT)
                        and _consistent(k2, trial, TIGHT)
                        and _group_holds(rels, trial)
                        and _supported(k1, trial)
                        and _supported(k2, trial)
                    ):
                        found.add(tuple(sorted([(k1, v1), (k2, v2)])))
    return list(found.pop()) if len(found) == 1 else None


def _tenfold(r: AnalyteReading) -> tuple[float, float]:
    return (round(r.value * 10, 6), round(r.value / 10, 6))


def _canonical(r: AnalyteReading, printed: float) -> float:
    return printed * (r.value_canonical / r.value if r.value else 1.0)


def _group_holds(rels: list[Relation], values: dict[str, float]) -> bool:
    """A repair must fix every failed relation of its group, not just its own."""
    return all(_safe_holds(rel, values, LOOSE) for rel in rels)


def _only_ocr_doubt(r: AnalyteReading) -> bool:
    blocking = ("contradicts", "twice", "could be", "several", "fails CBC")
    return not any(any(b in n for b in blocking) for n in r.notes)


def _fitting_alternatives(r: AnalyteReading, values: dict[str, float]) -> list[float]:
    """Printed-unit alternatives for ``r`` that are plausible and make all its relations hold."""
    factor = r.value_canonical / r.value if r.value else 1.0
    a = analyte(r.key)
    fits = []
    for alt in sorted(alternative_readings(r.value)):
        canonical = alt * factor
        if not a.is_plausible(canonical):
            continue
        trial = {**values, r.key: canonical}
        if _consistent(r.key, trial, TIGHT) and _supported(r.key, trial):
            fits.append(alt)
    return fits


def _repair(r: AnalyteReading, new_value: float, values: dict[str, float], why: str) -> None:
    factor = r.value_canonical / r.value if r.value else 1.0
    old = r.value
    r.value = new_value
    r.value_canonical = round(new_value * factor, 6)
    r.status = "repaired"
    r.confidence = round(min(r.confidence, 0.8), 3)
    rels = ", ".join(rel.name for rel in _relations_of(r.key, {**values, r.key: r.value_canonical}))
    r.notes.append(f"printed {old:g} {why}; read as {new_value:g}, the only reading consistent with {rels}")
    values[r.key] = r.value_canonical


def relations_for(keys: Iterable[str]) -> list[str]:
    """Names of the consistency rules that can be checked with these analytes (for reports)."""
    present = set(keys)
    return [rel.name for rel in RELATIONS if set(rel.keys) <= present]
