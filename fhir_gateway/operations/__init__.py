"""One FHIR interaction or operation per module; each is plain Python callable without HTTP."""
