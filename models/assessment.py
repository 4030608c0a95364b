"""The Assessment returned by `models.assess`: plain frozen values, ready to be rendered as FHIR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AnemiaStatus = Literal["yes", "no", "unknown"]

DISCLAIMER = (
    "Screening decision support, not a diagnosis: probabilities and indices indicate who should have "
    "a confirmatory test (HPLC/electrophoresis, ferritin, DNA analysis); they neither confirm nor exclude "
    "a carrier state or iron deficiency."
)


@dataclass(frozen=True, slots=True)
class AnemiaFinding:
    status: AnemiaStatus
    hgb_g_dl: float | None
    threshold_g_dl: float | None  # the WHO cutoff applied; None when it depends on unknown details
    threshold_range_g_dl: tuple[float, float] | None  # plausible cutoffs when a detail is unknown
    who_group: str
    severity: str | None  # none | mild | moderate | severe | "mild or moderate" ...; None if not classified
    citation: str


@dataclass(frozen=True, slots=True)
class MorphologyFinding:
    size: str  # microcytic | normocytic | macrocytic | unknown
    hypochromic: bool | None
    antenatal_screen_trigger: bool | None  # MCH < 27 pg
    alpha_zero_hint: bool | None  # MCH < 25 pg
    label: str


@dataclass(frozen=True, slots=True)
class IndexEntry:
    key: str
    name: str
    formula: str
    value: float | None  # None if an input is missing
    cutoff: float
    direction: str  # e.g. "< 13 suggests thalassaemia trait"
    suggests: str | None  # which side this value falls on; None when not computable
    citation: str
    inputs: tuple[str, ...] = ()  # the CBC keys the formula reads


@dataclass(frozen=True, slots=True)
class Contribution:
    feature: str
    value: float
    reference: float  # training median the value was compared against
    delta_probability: float  # p(actual) - p(with this input at the reference)


@dataclass(frozen=True, slots=True)
class TaskPrediction:
    task_id: str
    title: str
    probability: float | None  # calibrated; None when required inputs are missing
    threshold: float  # screening operating point
    positive_at_screening: bool | None
    missing_inputs: tuple[str, ...]
    confidence_note: str
    top_contributions: tuple[Contribution, ...]
    out_of_distribution: bool
    out_of_distribution_inputs: tuple[str, ...]
    recommendation: str
    outcome_label: str
    snomed_code: str | None
    snomed_display: str | None


@dataclass(frozen=True, slots=True)
class Assessment:
    anemia: AnemiaFinding
    morphology: MorphologyFinding
    indices: tuple[IndexEntry, ...]
    predictions: tuple[TaskPrediction, ...]
    warnings: tuple[str, ...]
    assumptions: tuple[str, ...]
    model_name: str
    model_version: str
    disclaimer: str = DISCLAIMER

    def prediction(self, task_id: str) -> TaskPrediction:
        return next(p for p in self.predictions if p.task_id == task_id)
