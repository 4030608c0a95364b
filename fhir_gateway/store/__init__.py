"""Versioned FHIR resource store over SQLAlchemy with encrypted bodies."""
