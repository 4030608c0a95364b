"""SNOMED CT codes for the findings a DiagnosticReport concludes.

Every id below was seen beside its fully specified name in public sources (HL7/NAPKON value sets,
OHDSI cohort definitions, NHS code lists). Findings without a verified pre-coordinated concept
(microcytic anemia, HbE trait, thalassaemia *trait*) are sent as text, or with the verified
parent disorder plus explanatory text, never with a guessed id.
"""

from __future__ import annotations

from typing import Any

from fhir_gateway.fhir.builders.codes import SNOMED

# finding key -> (SNOMED CT id, fully specified name)
FINDING_CODES: dict[str, tuple[str, str]] = {
    "anemia": ("271737000", "Anemia (disorder)"),
    "macrocytic_anemia": ("83414005", "Macrocytic anemia (disorder)"),
    "iron_deficiency_anemia": ("87522002", "Iron deficiency anemia (disorder)"),
    "thalassemia": ("40108008", "Thalassemia (disorder)"),
    "beta_thalassemia": ("65959000", "Beta thalassemia (disorder)"),
    "alpha_thalassemia": ("68913001", "Alpha thalassemia (disorder)"),
}
SEVERITY_CODES: dict[str, tuple[str, str]] = {
    "mild": ("255604002", "Mild (qualifier value)"),
    "severe": ("24484000", "Severe (severity modifier) (qualifier value)"),
}


def finding_concept(key: str, text: str) -> dict[str, Any]:
    code = FINDING_CODES.get(key)
    if code is None:
        return {"text": text}
    return {"coding": [{"system": SNOMED, "code": code[0], "display": code[1]}], "text": text}
