"""FHIR R4 resources: validation, search, bundles (R4 4.0.1 on the wire, fhir.resources R4B models)."""
