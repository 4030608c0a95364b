"""FHIR JSON responses (application/fhir+json) with the standard resource headers."""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime
from typing import Any

from fastapi import Response

from fhir_gateway.fhir import json_codec
from fhir_gateway.store.resource_store import StoredResource

FHIR_JSON = "application/fhir+json"


class FhirJSONResponse(Response):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return json_codec.dumps(content)


def resource_response(stored: StoredResource, base_url: str, status: int = 200) -> FhirJSONResponse:
    headers = {
        "ETag": stored.etag,
        "Last-Modified": format_datetime(stored.last_updated.replace(tzinfo=UTC), usegmt=True),
    }
    if status == 201:
        headers["Location"] = (
            f"{base_url}/{stored.resource_type}/{stored.resource_id}/_history/{stored.version_id}"
        )
    return FhirJSONResponse(stored.resource, status_code=status, headers=headers)
