"""Parse what a caller sent to `$analyze` into one typed input (pure; no I/O)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from fhir_gateway.fhir.outcome import FhirError

DOCUMENT_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/jpg",
        "image/tiff",
        "image/webp",
        "image/heic",
        "image/heif",
        "application/pdf",
    }
)
BUNDLE_TYPES = frozenset({"collection", "transaction", "searchset", "batch", "document", "message"})


@dataclass(frozen=True)
class DocumentInput:
    data: bytes
    content_type: str
    title: str | None = None
    stored_id: str | None = None  # set when re-analysing a stored DocumentReference
    subject: str | None = None  # the DocumentReference's subject, when it names one


@dataclass(frozen=True)
class ObservationsInput:
    observations: list[dict[str, Any]]
    patient: dict[str, Any] | None = None


@dataclass(frozen=True)
class AnalyzeInput:
    payload: DocumentInput | ObservationsInput
    subject: str | None = None  # an existing Patient/{id} chosen by the caller
    pregnant: bool | None = None
    trimester: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


def media_type(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def document_from_bytes(data: bytes, content_type: str) -> DocumentInput:
    ctype = media_type(content_type)
    if ctype not in DOCUMENT_TYPES:
        raise FhirError(
            415,
            "not-supported",
            f"unsupported document type '{ctype}'; send one of {', '.join(sorted(DOCUMENT_TYPES))}",
        )
    if not data:
        raise FhirError(400, "required", "the document is empty")
    return DocumentInput(data=data, content_type="image/jpeg" if ctype == "image/jpg" else ctype)


def document_from_reference(doc: dict[str, Any], stored_id: str | None = None) -> DocumentInput:
    contents = doc.get("content")
    if not isinstance(contents, list) or not contents:
        raise FhirError(
            422,
            "required",
            "DocumentReference.content with an attachment is required",
            ("DocumentReference.content",),
        )
    for i, content in enumerate(contents):
        attachment = content.get("attachment") if isinstance(content, dict) else None
        if not isinstance(attachment, dict):
            continue
        where = f"DocumentReference.content[{i}].attachment"
        if "data" not in attachment:
            raise FhirError(
                422,
                "not-supported",
                "attachments must carry their data inline (base64); URLs are not fetched",
                (where,),
            )
        try:
            data = base64.b64decode(attachment["data"], validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise FhirError(
                400, "invalid", "attachment data is not valid base64", (f"{where}.data",)
            ) from exc
        doc_input = document_from_bytes(data, str(attachment.get("contentType", "")))
        subject = (
            (doc.get("subject") or {}).get("reference") if isinstance(doc.get("subject"), dict) else None
        )
        return DocumentInput(
            doc_input.data,
            doc_input.content_type,
            attachment.get("title"),
            stored_id,
            subject if isinstance(subject, str) else None,
        )
    raise FhirError(422, "required", "no attachment found in DocumentReference.content")


def _from_bundle(bundle: dict[str, Any]) -> ObservationsInput:
    if bundle.get("type") not in BUNDLE_TYPES:
        raise FhirError(400, "invalid", "Bundle.type must be collection, transaction, searchset or batch")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise FhirError(400, "structure", "Bundle.entry must be a list")
    resources = [
        e.get("resource") for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]
    observations = [r for r in resources if r.get("resourceType") == "Observation"]
    patients = [r for r in resources if r.get("resourceType") == "Patient"]
    if not observations:
        raise FhirError(422, "required", "the Bundle holds no Observation to analyze")
    if len(patients) > 1:
        raise FhirError(422, "business-rule", "the Bundle holds more than one Patient")
    return ObservationsInput(observations, patients[0] if patients else None)


def _parameter_value(param: dict[str, Any]) -> Any:
    for key, value in param.items():
        if key.startswith("value") or key == "resource":
            return value
    return None


def parse_analyze_body(body: Any) -> AnalyzeInput:
    if not isinstance(body, dict):
        raise FhirError(400, "structure", "the body must be a FHIR resource")
    rtype = body.get("resourceType")
    if rtype == "DocumentReference":
        return AnalyzeInput(document_from_reference(body))
    if rtype == "Bundle":
        return AnalyzeInput(_from_bundle(body))
    if rtype == "Parameters":
        return _from_parameters(body)
    raise FhirError(
        422,
        "not-supported",
        "$analyze accepts a DocumentReference, a Bundle of Observations, "
        "a Parameters resource, or raw image/PDF bytes",
    )


def _from_parameters(body: dict[str, Any]) -> AnalyzeInput:
    params = body.get("parameter") or []
    if not isinstance(params, list):
        raise FhirError(400, "structure", "Parameters.parameter must be a list")
    by_name = {p.get("name"): _parameter_value(p) for p in params if isinstance(p, dict)}
    inner = by_name.get("resource")
    if not isinstance(inner, dict) or inner.get("resourceType") == "Parameters":
        raise FhirError(
            422, "required", "Parameters needs a 'resource' parameter holding a DocumentReference or a Bundle"
        )
    base = parse_analyze_body(inner)
    subject = by_name.get("subject")
    subject_ref = subject.get("reference") if isinstance(subject, dict) else None
    pregnant, trimester = by_name.get("pregnant"), by_name.get("trimester")
    if pregnant is not None and not isinstance(pregnant, bool):
        raise FhirError(400, "invalid", "'pregnant' must be a valueBoolean")
    if trimester is not None and (not isinstance(trimester, int) or trimester not in (1, 2, 3)):
        raise FhirError(400, "invalid", "'trimester' must be valueInteger 1, 2 or 3")
    engine = by_name.get("engine")
    return AnalyzeInput(
        base.payload,
        subject=subject_ref if isinstance(subject_ref, str) else None,
        pregnant=pregnant,
        trimester=trimester,
        options={"engine": engine} if isinstance(engine, str) else {},
    )
