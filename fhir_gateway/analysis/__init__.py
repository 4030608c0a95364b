"""The `$analyze` pipeline: request parsing, the structured-FHIR reading path, interpretation and
resource assembly. OCR itself lives in `fhir_gateway.ocr` and runs in a process pool."""
