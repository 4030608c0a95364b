"""Printed test names -> analyte keys, including lab-software names and OCR damage."""

from __future__ import annotations

import pytest

from mappings.matching import match_name, near_keys


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Haemoglobin", "hgb"),
        ("Hemoglobin", "hgb"),
        ("HGB", "hgb"),
        ("Hb", "hgb"),
        ("Hb%", "hgb"),
        ("Hemoglobin (Hb)", "hgb"),
        ("HAEMOGLOBIN", "hgb"),
        ("Haemoglobin (SLS method)", "hgb"),
        ("Haem0gl0bin", "hgb"),
        ("Hemoglobn", "hgb"),
        ("Hemoglobin, Blood", "hgb"),
        ("PCV", "hct"),
        ("Packed Cell Volume", "hct"),
        ("Packed Cell Volume (PCV)", "hct"),
        ("Haematocrit", "hct"),
        ("HCT", "hct"),
        ("Hematocrit (calculated)", "hct"),
        ("RBC count", "rbc"),
        ("R.B.C.", "rbc"),
        ("Red Blood Cell Count", "rbc"),
        ("Total RBC Count", "rbc"),
        ("Erythrocytes", "rbc"),
        ("Red Cell Count", "rbc"),
        ("Total Leucocyte Count", "wbc"),
        ("Total Leukocyte Count", "wbc"),
        ("TLC", "wbc"),
        ("WBC", "wbc"),
        ("W.B.C", "wbc"),
        ("White Blood Cell Count", "wbc"),
        ("Total WBC Count", "wbc"),
        ("Total Count", "wbc"),
        ("White Cell Count", "wbc"),
        ("TotaI Leucocyte Count", "wbc"),
        ("Platelet Count", "plt"),
        ("Platelets", "plt"),
        ("PLT", "plt"),
        ("P1atelet Count", "plt"),
        ("Platelets (Electrical impedance)", "plt"),
        ("Thrombocytes", "plt"),
        ("MCV", "mcv"),
        ("Mean Corpuscular Volume", "mcv"),
        ("Mean Cell Volume", "mcv"),
        ("MCH", "mch"),
        ("Mean Corpuscular Haemoglobin", "mch"),
        ("MCHC", "mchc"),
        ("Mean Corp. Hb Conc.", "mchc"),
        ("Mean Corpuscular Hemoglobin Concentration", "mchc"),
        ("RDW-CV", "rdw_cv"),
        ("RDW CV", "rdw_cv"),
        ("Red Cell Distribution Width", "rdw_cv"),
        ("RDW-SD", "rdw_sd"),
        ("MPV", "mpv"),
        ("Mean Platelet Volume", "mpv"),
        ("PDW", "pdw"),
        ("Plateletcrit", "pct"),
        ("PCT", "pct"),
        ("Polymorphs", "neut_pct"),
        ("Neutrophils", "neut_pct"),
        ("Neutrophils %", "neut_pct"),
        ("NEUT%", "neut_pct"),
        ("Segmented Neutrophils", "neut_pct"),
        ("NEUT#", "neut_abs"),
        ("Absolute Neutrophil Count", "neut_abs"),
        ("ANC", "neut_abs"),
        ("Lymphocytes", "lymph_pct"),
        ("LYM%", "lymph_pct"),
        ("Absolute Lymphocyte Count", "lymph_abs"),
        ("Monocytes", "mono_pct"),
        ("Eosinophils", "eos_pct"),
        ("AEC", "eos_abs"),
        ("8asophils", "baso_pct"),
        ("Reticulocyte Count", "retic_pct"),
        ("Nucleated RBC", "nrbc"),
        ("NRBC", "nrbc"),
        ("HbA2", "hba2"),
        ("Hb A2", "hba2"),
        ("Haemoglobin A2", "hba2"),
        ("HbF", "hbf"),
        ("Foetal Haemoglobin", "hbf"),
        ("Serum Ferritin", "ferritin"),
        ("Ferritin", "ferritin"),
        ("Serum Iron", "iron"),
        ("Sr. Iron", "iron"),
        ("TIBC", "tibc"),
        ("Total Iron Binding Capacity", "tibc"),
        ("Transferrin Saturation", "tsat"),
        ("% Saturation", "tsat"),
        ("Saturation", "tsat"),  # seed 9086: the "%" before it lost to a rotated scan
        ("R,8,¢,", "rbc"),  # seed 9254, a fax: dotted letters, B read as 8, C as a cent sign
        ("E05%", "eos_pct"),  # seed 9254: O and S read as digits; the % says it is a name
        ("E05 %", "eos_pct"),
    ],
)
def test_names(name: str, key: str) -> None:
    match = match_name(name)
    assert match is not None, name
    assert key in match.keys


def test_rdw_alone_is_left_to_the_unit() -> None:
    match = match_name("RDW")
    assert match is not None and set(match.keys) == {"rdw_cv", "rdw_sd"}


@pytest.mark.parametrize(
    "name",
    [
        "Patient Name",
        "Age",
        "Sex",
        "Date",
        "Referred by",
        "Doctor",
        "Sample Type",
        "Page",
        "Method",
        "Remarks",
        "Signature",
        "Interpretation",
        "Test",
        "Result",
    ],
)
def test_header_words_do_not_match(name: str) -> None:
    assert match_name(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "HbA1c",
        "Glycated Haemoglobin",
        "Glycosylated Hemoglobin",
        "UIBC",
        "Hb A",
        "HbS",
        "ESR",
        "Immature Granulocytes",
        "P-LCR",
        "Transferrin",
        "Band forms",
    ],
)
def test_near_misses_are_ignored_not_mismapped(name: str) -> None:
    match = match_name(name)
    assert match is not None and match.ignored, name


@pytest.mark.parametrize(
    ("name", "wrong"), [("MCH", "mchc"), ("MCHC", "mch"), ("MCV", "mch"), ("TLC", "tibc")]
)
def test_short_abbreviations_are_exact(name: str, wrong: str) -> None:
    match = match_name(name)
    assert match is not None and wrong not in match.keys


@pytest.mark.parametrize(
    ("name", "hint"),
    [("Neutrophils %", "pct"), ("NEUT#", "abs"), ("Lymphocytes Absolute", "abs"), ("Neutrophils", None)],
)
def test_percent_absolute_hints(name: str, hint: str | None) -> None:
    match = match_name(name)
    assert match is not None and match.hint == hint


def test_only_rdw_is_deliberately_shared_between_analytes() -> None:
    from mappings.matching import _index

    exact, _ = _index()
    shared = {alias for alias, keys in exact.items() if len(keys) > 1}
    assert shared == {"rdw"}, "a new alias collides between two analytes"


def test_catalog_name_beats_an_ignored_name_that_squashes_to_it() -> None:
    match = match_name("Hemoglobine")  # French spelling; "Hemoglobin E" squashed is the same string
    assert match is not None and match.keys == ("hgb",)


@pytest.mark.parametrize("printed", ["Tron", "lron", "1ron", "Serum Tron"])
def test_first_letter_ocr_confusions_still_match(printed: str) -> None:
    m = match_name(printed)
    assert m is not None and m.keys == ("iron",) and m.method == "ocr"


@pytest.mark.parametrize("printed", ["Lymonocytes", "Xeutrophils"])
def test_fuzzy_match_must_start_alike(printed: str) -> None:
    # "Lymonocytes" is as close to monocytes as to lymphocytes: unmapped beats a wrong analyte.
    assert match_name(printed) is None


@pytest.mark.parametrize(("printed", "key"), [("MC1I", "mch"), ("MClIC", "mchc"), ("11b", "hgb")])
def test_h_without_its_crossbar_still_matches(printed: str, key: str) -> None:
    # a fax loses thin horizontal strokes: "H" reads as two uprights
    m = match_name(printed)
    assert m is not None and m.keys == (key,) and m.method == "ocr"


@pytest.mark.parametrize("printed", ["Cell", "Mill", "lli", "Hill"])
def test_broken_h_repair_needs_an_exact_alias(printed: str) -> None:
    assert match_name(printed) is None


@pytest.mark.parametrize(
    ("printed", "key"),
    [
        ("Reliculoeytes", "retic_pct"),  # faxed serif print: thin strokes gone, c/e/o confused
        ("Roticulocyas", "retic_pct"),
        ("Noutaophils", "neut_pct"),
        ("Homoqlobin", "hgb"),
        ("Plalelels", "plt"),
        ("Footl Hao moglabin", "hbf"),
    ],
)
def test_names_degraded_past_plain_fuzzy_match_by_glyph_class(printed: str, key: str) -> None:
    m = match_name(printed)
    assert m is not None and m.keys == (key,) and m.method == "fuzzy"
    assert m.score < 88  # below the plain fuzzy threshold: only the glyph classes found it


@pytest.mark.parametrize(
    "printed",
    [
        "Faxiaxtils",  # too far from any name (it was "Eosinophils"; classes bring "platelets" closer)
        "Lymonocytes",  # as near monocytes as lymphocytes: still unmapped
        "Minuxytes",  # "Monocytes", but too garbled to tell from other "-cytes" safely
    ],
)
def test_glyph_class_match_leaves_far_names_unmapped(printed: str) -> None:
    assert match_name(printed) is None


def test_glyph_classes_keep_every_analyte_apart() -> None:
    from mappings.matching import _glyph_index, _index

    _, fuzzy = _index()
    shared = {g: names for g, (_, names) in _glyph_index().items() if len({fuzzy[n] for n in names}) > 1}
    assert not shared, "two analytes' names are spelt alike by glyph class (the match refuses them)"


@pytest.mark.parametrize(
    ("printed", "key", "hint"),
    [
        ("Eosiophils %", "eos_pct", "pct"),
        ("Neutrophls %", "neut_pct", "pct"),
        ("Eosiophils #", "eos_pct", "abs"),
    ],
)
def test_misread_name_with_a_percent_or_absolute_mark_still_matches(
    printed: str, key: str, hint: str
) -> None:
    # the mark is matched apart: the name alone is what OCR garbled; the hint keeps the form
    m = match_name(printed)
    assert m is not None and m.keys == (key,) and m.hint == hint


def test_a_name_that_swallowed_its_value_is_not_matched_without_its_mark() -> None:
    # real Tesseract row: "65.8" read "65:8", so the span before the next number held it
    assert match_name('"Segmented Neutrophils : 65:8 % (40.0-80.0) -.') is None


@pytest.mark.parametrize("name", ["O2 Saturation", "Oxygen Saturation", "SpO2", "Desaturation"])
def test_other_saturations_are_not_transferrin(name: str) -> None:
    match = match_name(name)
    assert match is None or "tsat" not in match.keys


@pytest.mark.parametrize(
    ("garbled", "key"),
    [
        ("FOS#", "eos_abs"),  # fax: E lost its bars
        ("LYMPIH#", "lymph_abs"),
        ("IYMPII#", "lymph_abs"),  # an H broken into two uprights
        ("HOB", "hgb"),
        ("Meati Coll I ktetnoglobin", "mch"),
    ],
)
def test_near_keys_shortlist_garbled_names(garbled: str, key: str) -> None:
    assert match_name(garbled) is None  # too far gone for a match on the name alone
    assert key in near_keys(garbled)


@pytest.mark.parametrize("text", ["", "ab", "12.5", "Total count of tests", "%#"])
def test_near_keys_need_a_name_like_text(text: str) -> None:
    assert near_keys(text) == []
