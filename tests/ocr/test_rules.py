"""OCR-specific fixes and the merge rules of the combined engine (no images involved)."""

from __future__ import annotations

import numpy as np
import pytest

from fhir_gateway.ocr.checks import arrow_read_as_digit, mark_ocr_suspects
from fhir_gateway.ocr.combine import merge, reread_rows, settled_rows
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


def test_arrow_glued_to_abnormal_value_is_suspect() -> None:
    a = _a("rdw_cv", 15.17, source="RDW CV: 15.17% (11.5 - 14.5)", ref_low=11.5, ref_high=14.5)
    assert arrow_read_as_digit(a)
    normal = _a("rbc", 4.81, source="RBC 4.81 (4.5 - 5.5)", ref_low=4.5, ref_high=5.5)
    assert not arrow_read_as_digit(normal)  # labs print RBC with one decimal more than the range
    (out,) = mark_ocr_suspects([a], trusted_sources=set())
    assert out.status == "uncertain"
    (kept,) = mark_ocr_suspects([a], trusted_sources={a.source_text})  # PDF text layer: trusted
    assert kept.status == "ok"


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
    assert Counting.crops == 3 * 2  # value cell and the one after it, for the three other rows
