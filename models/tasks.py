"""The screening tasks the classifiers answer: inputs, labels, operating points and advice.

HbA2, HbF and other HPLC fractions (and ferritin for IDA) are the *source* of the labels and are
deliberately absent from every `inputs` tuple; `tests/models` checks this.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TaskSpec:
    task_id: str
    title: str
    dataset: str
    inputs: tuple[str, ...]  # raw canonical/context inputs the model may see
    required: tuple[str, ...]  # without these no probability is given
    optional_groups: tuple[tuple[str, ...], ...]  # masked together during training (missing-input robustness)
    index_features: tuple[str, ...]  # discriminant indices added as engineered features
    target_sensitivity: float  # screening operating point chosen on out-of-fold training predictions
    recommendation: str
    outcome_label: str  # SNOMED CT-friendly wording of the screened-for finding
    snomed_code: str | None  # verified concept (may be the broader parent); None if not bound
    snomed_display: str | None
    csv_column: str
    applicability: str  # who the probability is meaningful for


HPLC_INPUTS = ("hgb", "rbc", "mcv", "mch", "mchc", "rdw_cv", "sex_male", "age")
# MCH/MCHC/Hct are never "missing" at inference (derived from Hb, RBC, MCV), so they are not masked.
HPLC_OPTIONAL = (("rdw_cv",), ("sex_male",), ("age",))
RBC_INDEX_FEATURES = (
    "mentzer",
    "england_fraser",
    "srivastava",
    "shine_lal",
    "ehsani",
    "sirdah",
    "matos_carvalho",
)
RDW_INDEX_FEATURES = ("green_king", "rdw_index", "ricerca")

BETA_THAL = TaskSpec(
    task_id="beta_thal_trait",
    title="Beta-thalassaemia trait",
    dataset="hplc_westbengal",
    inputs=HPLC_INPUTS,
    required=("hgb", "rbc", "mcv"),
    optional_groups=HPLC_OPTIONAL,
    index_features=RBC_INDEX_FEATURES + RDW_INDEX_FEATURES,
    target_sensitivity=0.97,  # OOF-chosen thresholds lose 1-2 points of sensitivity on new data
    recommendation="Confirm with HbA2/HbF quantification by HPLC or capillary electrophoresis; "
    "check ferritin first if iron deficiency is possible (it lowers HbA2).",
    outcome_label="Beta thalassaemia trait (beta thalassaemia minor)",
    snomed_code="40108008",
    snomed_display="Thalassemia (disorder)",
    csv_column="p_beta_thal_trait",
    applicability="people screened for haemoglobinopathy in West Bengal (HPLC-confirmed labels)",
)

HBE_TRAIT = TaskSpec(
    task_id="hbe_trait",
    title="Haemoglobin E trait",
    dataset="hplc_westbengal",
    inputs=HPLC_INPUTS,
    required=("hgb", "rbc", "mcv"),
    optional_groups=HPLC_OPTIONAL,
    index_features=RBC_INDEX_FEATURES + RDW_INDEX_FEATURES,
    target_sensitivity=0.90,
    recommendation="Confirm with HPLC or capillary electrophoresis (HbE elutes in the HbA2 window on HPLC).",
    outcome_label="Haemoglobin E trait",
    snomed_code=None,
    snomed_display=None,
    csv_column="p_hbe_trait",
    applicability="people screened for haemoglobinopathy in West Bengal (HPLC-confirmed labels)",
)

IRON_DEFICIENCY_ANEMIA = TaskSpec(
    task_id="iron_deficiency_anemia",
    title="Iron-deficiency anaemia",
    dataset="nhanes_ida",
    inputs=(
        "hgb",
        "hct",
        "rbc",
        "mcv",
        "mch",
        "mchc",
        "rdw_cv",
        "wbc",
        "plt",
        "mpv",
        "neut_pct",
        "lymph_pct",
        "mono_pct",
        "eos_pct",
        "baso_pct",
        "sex_male",
        "age",
        "pregnant",
    ),
    required=("hgb", "rbc", "mcv"),
    optional_groups=(
        ("rdw_cv",),
        ("neut_pct", "lymph_pct", "mono_pct", "eos_pct", "baso_pct"),
        ("wbc",),
        ("plt",),
        ("mpv",),
        ("sex_male",),
        ("age",),
        ("pregnant",),
    ),
    index_features=("mentzer", "srivastava", "green_king", "rdw_index"),
    target_sensitivity=0.97,  # OOF-chosen thresholds lose 1-2 points of sensitivity on new data
    recommendation="Check serum ferritin (with CRP) and transferrin saturation before starting iron.",
    outcome_label="Iron deficiency anaemia",
    snomed_code="87522002",
    snomed_display="Iron deficiency anemia (disorder)",
    csv_column="p_iron_deficiency_anemia",
    applicability="US general population aged 1-60 years (NHANES); "
    "label = WHO-style Hb cutoff + ferritin < 15",
)

ALPHA_THAL = TaskSpec(
    task_id="alpha_thal_trait",
    title="Alpha-thalassaemia trait (weak, experimental)",
    dataset="alpha_thal_srilanka",
    inputs=(
        "hgb",
        "hct",
        "rbc",
        "mcv",
        "mch",
        "mchc",
        "rdw_cv",
        "wbc",
        "neut_pct",
        "lymph_pct",
        "plt",
        "sex_male",
    ),
    required=("hgb", "rbc", "mcv"),
    optional_groups=(("rdw_cv",), ("wbc", "neut_pct", "lymph_pct"), ("plt",), ("sex_male",)),
    index_features=("mentzer", "srivastava", "shine_lal"),
    target_sensitivity=0.90,
    recommendation="Exclude iron deficiency (ferritin); if MCH < 25 pg, refer for alpha-globin DNA analysis "
    "(gap-PCR for common deletions) - HPLC is normal in alpha-thalassaemia trait.",
    outcome_label="Alpha thalassaemia trait",
    snomed_code="40108008",
    snomed_display="Thalassemia (disorder)",
    csv_column="p_alpha_thal_trait",
    applicability="microcytic family members referred for alpha-thalassaemia work-up in Sri Lanka (n=203); "
    "screen-positive only when MCH < 27 pg",
)

TASKS: tuple[TaskSpec, ...] = (BETA_THAL, HBE_TRAIT, IRON_DEFICIENCY_ANEMIA, ALPHA_THAL)
TASK_BY_ID: dict[str, TaskSpec] = {t.task_id: t for t in TASKS}

# Label-source measurements that must never become model inputs.
FORBIDDEN_INPUTS: frozenset[str] = frozenset({"hba2", "hbf", "ferritin", "iron", "tibc", "tsat"})


def feature_names(task: TaskSpec) -> tuple[str, ...]:
    return task.inputs + tuple(f"idx_{k}" for k in task.index_features)
