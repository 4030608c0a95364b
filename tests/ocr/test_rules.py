"""OCR-specific fixes and the merge rules of the combined engine (no images involved)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fhir_gateway.ocr.checks import arrow_read_as_digit, low_flag_read_as_digit, mark_ocr_suspects
from fhir_gateway.ocr.combine import (
    CORE_KEYS,
    echoed_rows,
    hybrid_rows,
    merge,
    needs_full_read,
    orphan_rows,
    reread_rows,
    settled_rows,
)
from fhir_gateway.ocr.textfix import fix_token
from mappings.readings import AnalyteReading, Extraction, HeaderContext
from mappings.rows import TextRow, Word


@pytest.mark.parametrize(
    ("token", "fixed"),
    [
        ("10A3/uL", "10^3/uL"),
        ("1043/uL", "10^3/uL"),
        ("10%3/uL", "10^3/uL"),
        ("x1049/L", "x10^9/L"),
        ("%o", "%"),
        ("HfL", "HfL"),  # a flag glued to a unit is split by mappings.rowparse, not here
        ("Lymphs", "Lymphs"),
        ("13.5", "13.5"),
        ("1043", "1043"),  # a number is never rewritten
    ],
)
def test_fix_token(token: str, fixed: str) -> None:
    assert fix_token(token) == fixed


def _a(
    key: str, value: float, *, conf: float = 0.95, status: str = "ok", source: str = "", **kw: object
) -> AnalyteReading:
    return AnalyteReading(
        key=key,
        loinc="x",
        display=key,
        value=value,
        unit="u",
        value_canonical=value,
        unit_canonical="u",
        confidence=conf,
        status=status,
        source_text=source,
        **kw,
    )  # type: ignore[arg-type]


def test_arrow_glued_to_abnormal_value_is_dropped_and_becomes_the_flag() -> None:
    a = _a("rdw_cv", 15.17, source="RDW CV: 15.17% (11.5 - 14.5)", ref_low=11.5, ref_high=14.5)
    assert arrow_read_as_digit(a)
    normal = _a("rbc", 4.81, source="RBC 4.81 (4.5 - 5.5)", ref_low=4.5, ref_high=5.5)
    assert not arrow_read_as_digit(normal)  # labs print RBC with one decimal more than the range
    (out,) = mark_ocr_suspects([a], trusted_sources=set())
    assert (out.value, out.value_canonical, out.flag, out.status) == (15.1, 15.1, "H", "repaired")
    assert "read as 15.1 ↑" in out.notes[-1]
    low = _a("hgb", 7.71, source="Hb 7.71 g/dL 12.0 16.0", ref_low=12.0, ref_high=16.0)
    (out,) = mark_ocr_suspects([low], trusted_sources=set())
    assert (out.value, out.flag, out.status) == (7.7, "L", "repaired")
    # without the digit the value is in range, where no arrow is printed: left in doubt
    edge = _a("rdw_cv", 14.51, source="RDW CV: 14.51% (11.5 - 14.5)", ref_low=11.5, ref_high=14.5)
    (out,) = mark_ocr_suspects([edge], trusted_sources=set())
    assert (out.value, out.status) == (14.51, "uncertain")
    (kept,) = mark_ocr_suspects([a], trusted_sources={a.source_text})  # PDF text layer: trusted
    assert kept.status == "ok" and kept.value == 15.17


def test_low_flag_glued_and_read_as_one_is_suspect() -> None:
    """ "42L" read as 421: above 60-170 with no flag, while 42 is below it."""
    a = _a("iron", 421.0, source="Serum Iron  421  ug/dL  60-170", ref_low=60.0, ref_high=170.0)
    assert low_flag_read_as_digit(a)
    flagged_elsewhere = _a("hgb", 9.1, flag="L", source="Hb 9.1 L 12-16", ref_low=12.0, ref_high=16.0)
    out, _ = mark_ocr_suspects([a, flagged_elsewhere], trusted_sources=set())
    assert out.status == "uncertain" and "flag L" in out.notes[-1]
    # a report that prints no flags says nothing by leaving this one unflagged
    (kept,) = mark_ocr_suspects([a], trusted_sources=set())
    assert kept.status == "ok"
    assert not low_flag_read_as_digit(dataclasses.replace(a, flag="H"))
    for value in (161.0, 422.0, 1701.0):  # in range; not ending in 1; 170 is not low
        assert not low_flag_read_as_digit(
            dataclasses.replace(a, value=value, source_text=f"Iron {value:.0f}")
        )


def _cbc(**over: float) -> list[AnalyteReading]:
    base = {"hgb": 12.0, "hct": 36.0, "rbc": 4.0, "mcv": 90.0, "mch": 30.0, "mchc": 33.3}
    base.update(over)
    return [_a(k, v) for k, v in base.items()]


def test_merge_agreement_and_consistency_decide() -> None:
    tess = Extraction(analytes=_cbc(mcv=98.0))  # misread: Hct = RBC x MCV / 10 says 90
    rapid = Extraction(analytes=_cbc())
    analytes, warnings, stats = merge(tess, rapid)
    by = {a.key: a for a in analytes}
    assert by["mcv"].value == 90.0 and by["mcv"].status != "uncertain"
    assert stats["agree"] == 5 and stats["disagree"] == 1 and stats["resolved"] == 1
    assert not warnings


def test_merge_unresolvable_disagreement_is_uncertain() -> None:
    tess = Extraction(analytes=[_a("ferritin", 45.0)])  # nothing to check ferritin against
    rapid = Extraction(analytes=[_a("ferritin", 48.0)])
    analytes, warnings, _ = merge(tess, rapid)
    assert analytes[0].status == "uncertain"
    assert warnings and warnings[0].key == "ferritin"


def test_merge_agreement_settles_ocr_doubt() -> None:
    tess = Extraction(
        analytes=[_a("ferritin", 45.0, conf=0.4, status="uncertain", notes=["low OCR confidence"])]
    )
    rapid = Extraction(analytes=[_a("ferritin", 45.0, conf=0.97)])
    analytes, _, _ = merge(tess, rapid)
    assert analytes[0].status == "ok" and analytes[0].confidence == 0.97


def _row(text: str, conf: float) -> TextRow:
    words = tuple(Word(t, conf, 100 * i, 0, 100 * i + 60, 20) for i, t in enumerate(text.split()))
    return TextRow(text=text, words=words, confidence=conf, page=0, cells=tuple(text.split()))


def test_confident_plain_readings_skip_the_cross_check() -> None:
    rows = [
        _row("Hb 13.5 g/dL", 0.97),
        _row("MCV 88.0 fL", 0.97),
        _row("RBC 4.5 x", 0.5),
        _row("PLT 250 x", 0.97),
    ]
    analytes = [
        _a("hgb", 13.5, conf=0.96, source=rows[0].text),
        _a("mcv", 88.0, conf=0.96, source=rows[1].text, notes=["unit not printed; assumed fL"]),
        _a("rbc", 4.5, conf=0.5, source=rows[2].text),
        _a("plt", 250, conf=0.97, status="uncertain", source=rows[3].text),
    ]
    ex = Extraction(analytes=analytes, context=HeaderContext(), warnings=[])
    assert settled_rows(rows, ex) == {0}  # a note, low confidence or doubt keeps a row checked

    class Counting:
        crops = 0

        def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
            Counting.crops += len(crops)
            return [("9.9", 0.99)] * len(crops)

    image = np.full((40, 400), 255, np.uint8)
    out = reread_rows(image, rows, Counting(), skip={0})  # type: ignore[arg-type]
    assert out[0] == rows[0]  # kept as Tesseract read it
    assert "9.9" in out[2].text
    # value cell and the one after it, for the three other rows; not MCV's "fL", a unit
    # Tesseract read at 0.97
    assert Counting.crops == 3 * 2 - 1


def test_ranges_and_confident_units_are_not_reread() -> None:
    def cells(*texts: str, conf: float = 0.5) -> TextRow:
        words = tuple(Word(t, conf, 150 * i, 0, 150 * i + 120, 20) for i, t in enumerate(texts))
        return TextRow(text="  ".join(texts), words=words, confidence=conf, page=0, cells=texts)

    rows = [
        cells("WBC", "7.8x10^9/L", "(4.0-11.0)", "H"),  # the value cell holds its unit; then a range
        cells("Hb", "13.5", "g/dL"),  # a unit read at 0.5: worth a second look
        cells("Hb", "13.5", "g/dL", conf=0.95),  # a unit read at 0.95: not
        cells("BASO", "0.08", "<0.10"),
    ]

    class Counting:
        crops = 0

        def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
            Counting.crops += len(crops)
            return [("1", 0.99)] * len(crops)

    reread_rows(np.full((40, 800), 255, np.uint8), rows, Counting())  # type: ignore[arg-type]
    assert Counting.crops == 1 + 2 + 1 + 1


def test_rows_not_reread_are_no_second_opinion() -> None:
    # seed 4004: Tesseract read "RBC 2..." (5.03 lost to noise); the cross-check skipped the row
    # and passed Tesseract's text through, so "both engines" read 2.0 from the same text
    rows = [_row("RBC 2...", 0.43), _row("Hb 13.5 g/dL", 0.6)]

    class Reader:
        def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
            return [("13.5", 0.99), ("g/dL", 0.99)][: len(crops)]

    image = np.full((40, 400), 255, np.uint8)
    out = reread_rows(image, rows, Reader(), skip={0})  # type: ignore[arg-type]
    assert echoed_rows(rows, out) == {"RBC 2..."}
    doubt = ["last digit may be a misread flag arrow"]  # a glyph doubt a real re-read settles
    tess = Extraction(
        analytes=[
            _a("rbc", 2.0, conf=0.9, status="uncertain", notes=doubt, source=rows[0].text),
            _a("hgb", 13.5, conf=0.4, status="uncertain", notes=doubt, source=rows[1].text),
        ]
    )
    rapid = Extraction(
        analytes=[
            _a("rbc", 2.0, conf=0.9, status="uncertain", notes=doubt, source=out[0].text),
            _a("hgb", 13.5, conf=0.97, source=out[1].text),
        ]
    )
    analytes, _, stats = merge(tess, rapid, echoes=echoed_rows(rows, out))
    by = {a.key: a for a in analytes}
    assert by["rbc"].status == "uncertain" and "read identically by two OCR engines" not in by["rbc"].notes
    assert by["hgb"].status == "ok"  # a real re-read still settles the doubt
    assert stats["agree"] == 1 and stats["only_primary"] == 1


def test_two_unsure_engines_agreeing_stay_uncertain() -> None:
    doubt = ["low OCR confidence"]
    tess = Extraction(analytes=[_a("rbc", 2.0, conf=0.1, status="uncertain", notes=doubt)])
    rapid = Extraction(analytes=[_a("rbc", 2.0, conf=0.3, status="uncertain", notes=doubt)])
    analytes, _, _ = merge(tess, rapid)
    assert analytes[0].status == "uncertain"


def test_a_row_whose_number_cannot_be_cropped_is_not_reread() -> None:
    def row(*words: Word) -> TextRow:
        texts = tuple(w.text for w in words)
        return TextRow(text="  ".join(texts), words=words, confidence=0.7, page=0, cells=texts)

    hb, value = Word("Hb", 0.9, 0, 0, 40, 20), Word("13.5", 0.5, 60, 0, 120, 20)
    unit = Word("g/dL", 0.5, 160, 0, 220, 20)
    flat_value = row(hb, Word("10^3", 0.5, 60, 18, 120, 20), unit)  # 2 px high: no crop
    dash = row(hb, value, Word("-", 0.5, 140, 9, 150, 11), unit)  # a sliver without digits

    class Reader:
        def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
            return [("18.5", 0.99)] * len(crops)

    image = np.full((40, 400), 255, np.uint8)
    out = reread_rows(image, [flat_value, dash], Reader(), whole={0, 1})  # type: ignore[arg-type]
    assert out[0] is flat_value and echoed_rows([flat_value, dash], out) == {flat_value.text}
    assert "18.5" in out[1].text and "-" in out[1].cells  # re-read; the dash keeps its text


def test_full_read_only_for_rows_neither_engine_could_place() -> None:
    rows = [
        _row("Hb 13.5 g/dL", 0.95),
        _row("Monocytes ar % 2.0-10.0", 0.6),  # the value came out as letters: a lost result
        _row("fk 39.0-46.0", 0.3),  # the split-off tail of a row above: no result of its own
        _row("Age/Sex: 42 Y / M", 0.5),  # header, not a result
    ]
    core = [_a(k, 1.0, source=rows[0].text) for k in CORE_KEYS]
    ex = Extraction(analytes=core, context=HeaderContext(), warnings=[])
    assert orphan_rows(rows, ex) == {1}
    lost = [*rows[:1], _row("Tron 116 ug/dL", 0.5), _row("RDW CV 125 % 11.5-14.5", 0.5)]
    assert orphan_rows(lost, ex) == {1, 2}
    assert needs_full_read(ex, lost)  # two low-confidence results nobody placed
    reread = [lost[0], _row("Iron 116 ug/dL", 0.99), _row("RDW CV 12.5 % 11.5-14.5", 0.99)]
    found = Extraction(
        analytes=[*core, _a("iron", 116.0, source=reread[1].text), _a("rdw_cv", 12.5, source=reread[2].text)],
        context=HeaderContext(),
        warnings=[],
    )
    assert not needs_full_read(found, lost, reread)  # the cross-check placed both


def test_engines_agree_on_the_quantity_not_the_printed_digits() -> None:
    # "4,610*" read as 4610 cells/uL by one engine, "4.610*" as 4.61 x10^3/uL by the other
    tess = Extraction(analytes=[dataclasses.replace(_a("lymph_abs", 4610.0), value_canonical=4.61)])
    rapid = Extraction(analytes=[_a("lymph_abs", 4.61)])
    analytes, warnings, stats = merge(tess, rapid)
    assert stats["agree"] == 1 and analytes[0].status != "uncertain" and not warnings
    other = Extraction(analytes=[_a("lymph_abs", 4.16)])
    assert merge(tess, other)[2]["disagree"] == 1


def _cells_row(*texts: str, conf: float = 0.5, per_word: bool = True) -> TextRow:
    """Tesseract's rows hold a word per token; the cross-check's, one per re-read cell."""
    words = tuple(
        Word(t, conf, 150 * i + 30 * j, 0, 150 * i + 30 * j + 25, 20)
        for i, cell in enumerate(texts)
        for j, t in enumerate(cell.split() if per_word else [cell])
    )
    return TextRow(text="  ".join(texts), words=words, confidence=conf, page=0, cells=texts)


def test_hybrid_rows_join_one_engines_name_to_the_others_number() -> None:
    # seed 9038 (a fax): Tesseract kept the name and lost the number, RapidOCR the reverse
    tess = [
        _cells_row("fotal Leucocyte Court", "iA", "x10%9IL", "4.0 - 11.0"),
        _cells_row("Hb", "13.5", "g/dL"),  # not re-read: passed through as the same object
        _cells_row("MCV", "88.1", "fL"),  # re-read, but it has nothing to swap
    ]
    rapid = [
        _cells_row("Tokal Leticocyte Coumt", "7.4", "x10^9/l.", "4.0 - 11.0", conf=0.9, per_word=False),
        tess[1],
        _cells_row("MCV", "88.1", "fL", conf=0.9, per_word=False),
    ]
    out = hybrid_rows(tess, rapid)
    assert out[0].text == "fotal Leucocyte Court  7.4  x10^9/l.  4.0 - 11.0"
    assert out[0].cells == ("fotal Leucocyte Court", "7.4", "x10^9/l.", "4.0 - 11.0")
    assert out[0].words[0].conf == 0.5 and out[0].words[1].conf == 0.9
    assert out[1] is rapid[1] and out[2] is rapid[2]  # nothing to join: the cross-check's rows
    from mappings.extract import extract_report

    assert not [a for a in extract_report(tess[:1]).analytes if a.key == "wbc"]
    assert not [a for a in extract_report(rapid[:1]).analytes if a.key == "wbc"]
    (wbc,) = [a for a in extract_report(out).analytes if a.key == "wbc"]
    assert wbc.value == 7.4


def test_hybrid_rows_skip_rows_whose_cells_do_not_line_up() -> None:
    tess = [_cells_row("Platelets", "2l0", "10^3/uL")]
    rapid = [_cells_row("Platelets 210", "10^3/uL", conf=0.9, per_word=False)]
    assert hybrid_rows(tess, rapid)[0] is rapid[0]


def test_hybrid_rows_only_add_what_neither_engine_read() -> None:
    from fhir_gateway.ocr.reader import _hybrid_added
    from mappings.extract import extract_report

    tess = [
        _cells_row("Haemoglobin", "l3.5", "g/dL"),
        _cells_row("fotal Leucocyte Court", "iA", "x10^9/L"),
    ]
    rapid = [
        _cells_row("Haernoglobin", "18.5", "g/dL", conf=0.9, per_word=False),
        _cells_row("Tokal Leticocyte Coumt", "7.4", "x10^9/L", conf=0.9, per_word=False),
    ]
    read = Extraction(analytes=[_a("hgb", 13.5, source=tess[0].text)])
    out, stats = _hybrid_added(read, tess, rapid, extract_report, merge, {})
    by = {a.key: a for a in out.analytes}
    assert by["hgb"].value == 13.5  # the engines' own reading stands, the hybrid's 18.5 is not used
    assert by["wbc"].value == 7.4 and stats["hybrid_only_secondary"] == 1


def test_an_arrow_read_as_a_digit_by_one_engine_loses_to_the_other() -> None:
    # seed 9092 (noise): Tesseract read "235↑" as 2351, RapidOCR read 235↑
    tess = Extraction(
        analytes=[
            _a(
                "ferritin",
                2351,
                conf=0.72,
                source="Serum Ferritin  2351  ng/mL  15-150",
                ref_low=15,
                ref_high=150,
            )
        ]
    )
    rapid = Extraction(
        analytes=[
            _a(
                "ferritin",
                235,
                conf=0.96,
                source="Serum Ferritin  235↑  ng/mL  15-150",
                ref_low=15,
                ref_high=150,
            )
        ]
    )
    for first, second in ((tess, rapid), (rapid, tess)):
        (a,), warnings, stats = merge(first, second)
        assert a.value == 235 and a.status == "ok" and not warnings and stats["resolved"] == 1
        assert "a flag arrow beside the value read as a digit" in a.notes[-1]


@pytest.mark.parametrize(
    ("long", "short", "glued"),
    [
        ((421, "Serum Iron  421  ug/dL  60-170"), (42, "Serum Iron  42 1  ug/dL  60-170"), True),
        ((3.311, "RBC  3.311  M/uL  4.00-5.50"), (3.31, "RBC  3.31↓  M/uL  4.00-5.50"), True),
        # within its range the shorter value would carry no arrow: a real disagreement
        ((1251, "Platelets  1251  10^3/uL  150-410"), (125, "Platelets  125  10^3/uL  100-410"), False),
        ((2354, "Serum Ferritin  2354  ng/mL  15-150"), (235, "Serum Ferritin  235  ng/mL  15-150"), False),
        ((23.51, "Ferritin  23.51  ng/mL  15-150"), (235, "Ferritin  235  ng/mL  15-150"), False),
    ],
)
def test_which_disagreements_an_arrow_explains(
    long: tuple[float, str], short: tuple[float, str], glued: bool
) -> None:
    from fhir_gateway.ocr.combine import arrow_glued
    from mappings.values import find_ranges

    def reading(value: float, source: str) -> AnalyteReading:
        (ref,) = find_ranges(source.split("  ")[-1])
        return _a("x", value, source=source, ref_low=ref.low, ref_high=ref.high)

    assert arrow_glued(reading(*long), reading(*short)) is glued


def test_hybrid_rows_are_read_in_their_section() -> None:
    """A joined row is extracted among its neighbours: under "ABSOLUTE COUNTS" a bare
    "Neutrophils 4.41" is the absolute count; read alone it could be either."""
    from fhir_gateway.ocr.reader import _hybrid_added
    from mappings.extract import extract_report

    heading = _cells_row("ABSOLUTE COUNTS", "")
    tess = [heading, _cells_row("Neutrophils", "AAI")]
    rapid = [heading, _cells_row("Neutrophlis", "4.41", conf=0.9, per_word=False)]
    out, _ = _hybrid_added(Extraction(analytes=[]), tess, rapid, extract_report, merge, {})
    assert [(a.key, a.value) for a in out.analytes] == [("neut_abs", 4.41)]


def test_the_right_hand_column_of_a_two_column_row_is_checked_too() -> None:
    # seed 9079: "EOS% 2.1" printed beside RBC came out as "Zieh"; seed 9148: "Basophils 1.1"
    # as "Ll". Only the first value of the row was re-read, and the row counted as settled
    # because its one analyte (RBC) was read plainly.
    def cells(*texts: str, conf: float = 0.95) -> TextRow:
        words = tuple(Word(t, conf, 150 * i, 0, 150 * i + 120, 20) for i, t in enumerate(texts))
        return TextRow(text="  ".join(texts), words=words, confidence=conf, page=0, cells=texts)

    rows = [
        cells("R.B.C.", "4.90", "mill/cumm", "EOS%", "Zieh", "%"),
        cells("HGB", "10.5L", "g/dL", "Basophils", "Ll", "%"),
        cells("MCV", "88.0", "fL", "80 - 100"),
    ]
    ex = Extraction(
        analytes=[
            _a("rbc", 4.9, conf=0.95, source=rows[0].text),
            _a("hgb", 10.5, conf=0.95, source=rows[1].text),
            _a("mcv", 88.0, conf=0.95, source=rows[2].text),
        ]
    )
    assert settled_rows(rows, ex) == {2}  # a second name without a reading is not settled

    class Reader:
        def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
            return [("1.1", 0.99)] * len(crops)

    out = reread_rows(np.full((40, 1000), 255, np.uint8), rows, Reader(), skip={2})  # type: ignore[arg-type]
    assert out[0].cells[4] == "1.1" and out[1].cells[4] == "1.1"
    assert out[0].cells[2] == "mill/cumm"  # a confident unit is not re-read
    assert out[2] is rows[2]


def test_a_reading_on_the_wrong_side_of_its_own_flag_loses() -> None:
    # seed 9254: "E0S% 6,5 (L) 1.0-6.0" by one engine, "0,5 (L)" by the other; seed 9096:
    # "7.1L" (its last 1 read as an L) above 2.00-7.00, against 7.11
    eos_a = _a("eos_pct", 6.5, conf=0.5, status="uncertain", flag="L", ref_low=1.0, ref_high=6.0)
    eos_b = _a("eos_pct", 0.5, conf=0.88, flag="L", ref_low=1.0, ref_high=6.0)
    neut_a = _a("neut_abs", 7.1, conf=0.8, flag="L", ref_low=2.0, ref_high=7.0)
    neut_b = _a("neut_abs", 7.11, conf=0.8, ref_low=2.0, ref_high=7.0)
    analytes, _, stats = merge(Extraction(analytes=[eos_a, neut_a]), Extraction(analytes=[eos_b, neut_b]))
    by = {a.key: a for a in analytes}
    assert by["eos_pct"].value == 0.5 and by["eos_pct"].status == "ok"
    assert by["neut_abs"].value == 7.11  # not 7.1, which an arrow glued to 7.1 would also explain
    assert stats["resolved"] == 2 and "contradicts the printed flag" in by["neut_abs"].notes[-1]
    # flags that agree with both readings decide nothing
    plain_a = dataclasses.replace(eos_a, value=0.6, value_canonical=0.6, status="ok")
    analytes, _, stats = merge(Extraction(analytes=[plain_a]), Extraction(analytes=[eos_b]))
    assert stats["resolved"] == 0
