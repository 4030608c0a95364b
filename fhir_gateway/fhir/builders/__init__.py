"""Pure builders from readings and assessments to FHIR R4 resources (plain JSON dicts)."""
