"""`assess`: behaviour on clinically distinct CBC profiles and on incomplete reports."""

from __future__ import annotations

import dataclasses

import pytest

from mappings.canonical import CanonicalCBC, PatientContext
from models import Assessment, assess

# Textbook profiles: beta-thal trait (high RBC, very low MCV, mild anaemia, modest RDW) versus
# iron-deficiency anaemia (low RBC, low MCV, high RDW) versus a normal adult woman.
BETA_TRAIT = {"hgb": 10.9, "rbc": 5.9, "mcv": 62.0, "mch": 18.5, "mchc": 29.8, "rdw_cv": 15.5}
IRON_DEF = {
    "hgb": 9.0,
    "hct": 29.5,
    "rbc": 3.9,
    "mcv": 75.6,
    "mch": 23.1,
    "mchc": 30.5,
    "rdw_cv": 18.5,
    "wbc": 6.5,
    "plt": 390,
}
NORMAL = {
    "hgb": 13.6,
    "hct": 40.5,
    "rbc": 4.6,
    "mcv": 88.0,
    "mch": 29.6,
    "mchc": 33.6,
    "rdw_cv": 12.8,
    "wbc": 6.0,
    "plt": 250,
}
WOMAN = PatientContext(sex="female", age_years=24, pregnant=False)


def run(values: dict[str, float], context: PatientContext = WOMAN) -> Assessment:
    return assess(CanonicalCBC(values), context)


def test_beta_trait_profile_outranks_normal_and_is_screen_positive() -> None:
    trait, normal = run(BETA_TRAIT).prediction("beta_thal_trait"), run(NORMAL).prediction("beta_thal_trait")
    assert trait.probability is not None and normal.probability is not None
    assert trait.probability > 10 * normal.probability
    assert trait.positive_at_screening and not normal.positive_at_screening
    assert trait.top_contributions[0].feature in {"mcv", "mch", "rbc"}
    assert "HPLC" in trait.recommendation


def test_iron_deficiency_profile_outranks_thal_profile_for_ida() -> None:
    ida = run(IRON_DEF).prediction("iron_deficiency_anemia")
    thal = run(BETA_TRAIT).prediction("iron_deficiency_anemia")
    assert ida.probability is not None and thal.probability is not None
    assert ida.probability > thal.probability and ida.positive_at_screening
    assert "ferritin" in ida.recommendation and ida.snomed_code == "87522002"


def test_rule_outputs_and_index_table() -> None:
    a = run(BETA_TRAIT)
    assert a.anemia.status == "yes" and a.anemia.threshold_g_dl == 12.0 and a.anemia.severity == "moderate"
    assert a.morphology.size == "microcytic" and a.morphology.hypochromic and a.morphology.alpha_zero_hint
    mentzer = next(i for i in a.indices if i.key == "mentzer")
    assert mentzer.value == pytest.approx(62.0 / 5.9) and mentzer.suggests == "thalassaemia trait"
    assert "not a diagnosis" in a.disclaimer and a.model_version


def test_missing_rdw_is_reported_and_lowers_stated_confidence() -> None:
    values = {k: v for k, v in BETA_TRAIT.items() if k != "rdw_cv"}
    pred = run(values).prediction("beta_thal_trait")
    assert pred.probability is not None
    assert "rdw_cv" in pred.missing_inputs and "rdw_cv" in pred.confidence_note
    assert all(
        i.value is None for i in run(values).indices if i.key in {"green_king", "ricerca", "rdw_index"}
    )


def test_missing_required_input_gives_no_probability() -> None:
    a = run({"hgb": 11.0, "mcv": 70.0})
    for pred in a.predictions:
        assert pred.probability is None and pred.positive_at_screening is None
        assert "rbc" in pred.missing_inputs and "not assessable" in pred.confidence_note
    assert a.anemia.status == "yes"  # WHO rule needs only Hb


def test_derived_values_are_warned_not_missing() -> None:
    values = {k: v for k, v in BETA_TRAIT.items() if k not in {"mch", "mchc"}}
    a = run(values)
    assert "mch" not in a.prediction("beta_thal_trait").missing_inputs
    assert any(w.startswith("mch not reported; derived") for w in a.warnings)


def test_out_of_training_range_is_flagged() -> None:
    odd = {**NORMAL, "mcv": 118.0, "mch": 39.0}
    pred = run(odd).prediction("beta_thal_trait")
    assert pred.out_of_distribution and "mcv" in pred.out_of_distribution_inputs
    assert not run(NORMAL).prediction("beta_thal_trait").out_of_distribution


def test_unknown_context_is_stated() -> None:
    a = run(NORMAL | {"hgb": 12.5}, PatientContext())
    assert a.anemia.status == "unknown" and a.anemia.threshold_range_g_dl == (12.0, 13.0)
    assert any("sex unknown" in s for s in a.assumptions) and any("age unknown" in s for s in a.assumptions)


def test_alpha_prediction_states_its_weakness() -> None:
    pred = run(BETA_TRAIT).prediction("alpha_thal_trait")
    assert "WEAK" in pred.confidence_note


def test_assessment_is_immutable() -> None:
    a = run(NORMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.model_version = "x"  # type: ignore[misc]


def test_impossible_zero_values_are_ignored_not_interpreted() -> None:
    a = run({**NORMAL, "rbc": 0.0})
    assert a.prediction("beta_thal_trait").probability is None  # RBC is required
    assert any("rbc <= 0" in w for w in a.warnings)
    assert next(i for i in a.indices if i.key == "mentzer").value is None
