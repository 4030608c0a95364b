"""The source DocumentReference for an uploaded report (its body is stored encrypted)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from fhir_gateway.fhir.builders.codes import DOC_TYPE_LOINC, LOINC


def document_reference(
    *, data: bytes, content_type: str, subject: str | None, created: str, title: str | None = None
) -> dict[str, Any]:
    attachment: dict[str, Any] = {
        "contentType": content_type,
        "data": base64.b64encode(data).decode(),
        "size": len(data),
        "hash": base64.b64encode(hashlib.sha1(data).digest()).decode(),  # FHIR R4 defines hash as SHA-1
        "creation": created,
    }
    if title:
        attachment["title"] = title
    doc: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {
            "coding": [{"system": LOINC, "code": DOC_TYPE_LOINC, "display": "Laboratory report"}],
            "text": "Complete blood count report",
        },
        "date": created,
        "content": [{"attachment": attachment}],
    }
    if subject:
        doc["subject"] = {"reference": subject}
    return doc
