"""Response and request models of the plain-JSON API (they document every field in OpenAPI)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mappings.canonical import CANONICAL_KEYS


class AnalyteOut(BaseModel):
    key: str = Field(description="Canonical analyte key, e.g. hgb, mcv, neut_abs")
    loinc: str = Field(description="LOINC code of the Observation")
    display: str = Field(description="LOINC display name")
    value: float = Field(description="Value as reported, in `unit`")
    unit: str = Field(description="UCUM unit of `value`")
    value_canonical: float | None = Field(description="Value in the canonical unit (`unit_canonical`)")
    unit_canonical: str | None = Field(description="Canonical UCUM unit of this analyte")
    ref_low: float | None = Field(None, description="Reference range low, in `unit`")
    ref_high: float | None = Field(None, description="Reference range high, in `unit`")
    flag: str | None = Field(None, description="Interpretation: H, L, HH, LL or A")
    confidence: float | None = Field(None, description="OCR confidence 0..1 (absent for structured input)")
    status: str = Field(description="ok, uncertain (excluded from interpretation), repaired or assumed")
    observation_id: str = Field(description="Id of the stored FHIR Observation")


class IndexOut(BaseModel):
    key: str = Field(description="Index key, e.g. mentzer")
    name: str = Field(description="Index name")
    value: float = Field(description="Computed value")
    note: str = Field(description="Cutoff, direction and literature source")
    suggests: str | None = Field(None, description="What this value suggests relative to the cutoff")


class PredictionOut(BaseModel):
    task: str = Field(description="beta_thal_trait, hbe_trait, iron_deficiency_anemia or alpha_thal_trait")
    outcome: str = Field(description="What is screened for")
    probability: float | None = Field(
        description="Calibrated probability; null when required inputs are missing"
    )
    screen_positive: bool | None = Field(description="At or above the screening operating point")
    rationale: str = Field(description="Threshold, inputs that moved the probability, missing inputs")


class AssessmentOut(BaseModel):
    conclusion: str = Field(description="Anemia status (WHO 2024), morphology, screening results, disclaimer")
    predictions: list[PredictionOut]
    indices: list[IndexOut] = Field(description="Discriminant indices (derived, not measured)")
    recommendation: str = Field(description="Confirmatory tests to order")
    model: str = Field(description="Model name and version")


class ResultOut(BaseModel):
    id: str = Field(description="Analysis id (the DiagnosticReport and RiskAssessment id)")
    patient_id: str = Field(description="Id of the FHIR Patient the results belong to")
    issued: str | None = Field(None, description="When the analysis ran")
    effective: str | None = Field(None, description="Collection time, when known")
    analytes: list[AnalyteOut]
    assessment: AssessmentOut
    warnings: list[str] = Field(description="What to check before trusting the result (no PHI)")


class HistoryItem(BaseModel):
    id: str
    issued: str | None
    effective: str | None
    conclusion: str


class HistoryOut(BaseModel):
    patient_id: str
    total: int
    count: int
    offset: int
    items: list[HistoryItem] = Field(description="Newest first")


class PredictIn(BaseModel):
    """A CBC in canonical keys and units plus patient context; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid")

    sex: str | None = Field(None, pattern="^(M|F|male|female)$", description="M/F or male/female")
    age: float | None = Field(None, ge=0, le=130, description="Age in years")
    pregnant: bool | None = Field(None, description="Pregnancy status")
    trimester: int | None = Field(None, ge=1, le=3)
    values: dict[str, float] = Field(
        description=f"Canonical keys and units: {', '.join(CANONICAL_KEYS)} (see README for units)"
    )
