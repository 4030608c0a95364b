"""The plain-JSON convenience API for non-FHIR clients; the same pipeline and storage underneath."""
