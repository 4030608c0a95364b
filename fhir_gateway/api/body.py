"""Read a FHIR JSON request body with media-type and size checks."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from fhir_gateway.fhir.outcome import FhirError

JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
MAX_DEPTH = 64  # far deeper than any FHIR resource; bounds recursion in parsing and validation


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FhirError(413, "too-costly", f"request body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise FhirError(413, "too-costly", f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_fhir_json(request: Request, limit: int) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        raise FhirError(415, "not-supported", "send application/fhir+json (or application/json)")
    raw = await read_limited(request, limit)
    if not raw.strip():
        raise FhirError(400, "structure", "the request body is empty")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", "?")
        raise FhirError(400, "structure", f"the body is not valid JSON (line {line})") from exc
    except RecursionError as exc:
        raise FhirError(400, "structure", "the body is nested too deeply") from exc
    if _depth(body) > MAX_DEPTH:
        raise FhirError(400, "structure", f"the body is nested deeper than {MAX_DEPTH} levels")
    return body


def _depth(value: Any) -> int:
    """Nesting depth, computed without recursion, one level at a time (no per-node tuples: this
    runs on every request body). Raises a 400 for a string holding NUL, which PostgreSQL text
    columns (search tokens) cannot store: found in the same walk."""
    depth, level = 0, [value]
    while level:
        depth += 1
        below: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                below.extend(node.values())
            elif isinstance(node, list):
                below.extend(node)
            elif isinstance(node, str) and "\x00" in node:
                raise FhirError(400, "invalid", "the body contains a NUL character")
        level = below
    return depth
