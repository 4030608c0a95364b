"""Validate incoming resources twice: fhir.resources R4B models (structure and datatypes) and the
official HL7 R4 JSON schema (value-set codes such as Observation.status, required elements).
fhir.schema.json is the HL7 FHIR R4 (4.0.1) schema, published under CC0."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from jsonschema import Draft6Validator
from pydantic import ValidationError

from fhir_gateway.fhir.outcome import FhirError, Issue

MAX_ISSUES = 20


@cache
def _schema_definitions() -> dict[str, Any]:
    text = resources.files("fhir_gateway.fhir").joinpath("fhir.schema.json").read_text()
    return json.loads(text)["definitions"]


@cache
def _schema_validator(resource_type: str) -> Draft6Validator:
    return Draft6Validator({"$ref": f"#/definitions/{resource_type}", "definitions": _schema_definitions()})


def preload_schema() -> None:
    """Parse the R4 schema now (at start-up) rather than in the first request."""
    _schema_definitions()


def schema_issues(resource: dict[str, Any]) -> list[Issue]:
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or rtype not in _schema_definitions():
        return [
            Issue(
                "invalid", "resourceType is missing or not an R4 resource type", expression=("resourceType",)
            )
        ]
    issues = []
    for err in sorted(_schema_validator(rtype).iter_errors(resource), key=lambda e: list(e.absolute_path)):
        path = ".".join([rtype, *(str(p) for p in err.absolute_path)])
        issues.append(Issue("invalid", f"{path}: {_short(err.message)}", expression=(path,)))
        if len(issues) >= MAX_ISSUES:
            break
    return issues


def _short(message: str) -> str:
    # jsonschema echoes the offending value; keep messages short and free of echoed PHI.
    if " is not one of " in message:
        return "value is not in the required value set " + message.split(" is not one of ", 1)[1][:200]
    if " is not valid under any of the given schemas" in message:
        return "value does not match the element's allowed types"
    if "does not match" in message:
        return "value does not match the required format"
    if " is not of type " in message:
        return "value has the wrong type; expected " + message.split(" is not of type ", 1)[1]
    return message[:300]


def model_issues(resource: dict[str, Any]) -> list[Issue]:
    rtype = resource.get("resourceType")
    try:
        model = get_fhir_model_class(str(rtype))
    except (KeyError, ValueError):
        return [Issue("invalid", "unknown resourceType", expression=("resourceType",))]
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        out = []
        for err in exc.errors(include_input=False, include_url=False)[:MAX_ISSUES]:
            path = ".".join([str(rtype), *(str(p) for p in err["loc"] if not str(p).startswith("function-"))])
            out.append(Issue("invalid", f"{path}: {err['msg']}", expression=(path,)))
        return out
    return []


def validate_resource(
    resource: Any, expected_type: str | None = None, *, schema: bool = True
) -> dict[str, Any]:
    """Return the resource unchanged if valid; raise a 400/422 FhirError naming every problem.

    `schema=False` skips the JSON-schema pass: used for resources the server builds itself, whose
    value sets are fixed in code and covered by the three-way validation in the test-suite."""
    if not isinstance(resource, dict):
        raise FhirError(400, "structure", "the body must be a JSON object holding one FHIR resource")
    rtype = resource.get("resourceType")
    if expected_type and rtype != expected_type:
        raise FhirError(
            400, "invalid", f"resourceType '{rtype}' does not match the endpoint type '{expected_type}'"
        )
    issues = model_issues(resource) or (schema_issues(resource) if schema else [])
    if issues:
        first, *rest = issues
        raise FhirError(422, "invalid", first.diagnostics, first.expression, extra_issues=rest)
    return resource
