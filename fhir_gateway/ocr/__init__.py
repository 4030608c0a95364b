"""Reading CBC report documents (images, scans, PDFs) into coded analytes.

Public API: `read_report`, `ReportReading`, and the typed input errors.
"""

from fhir_gateway.ocr.errors import DocumentError, DocumentTooLarge, UnreadableDocument, UnsupportedMediaType
from fhir_gateway.ocr.limits import DEFAULT_LIMITS, Limits
from fhir_gateway.ocr.reader import DEFAULT_ENGINE, PageInfo, ReportReading, read_report

__all__ = [
    "DEFAULT_ENGINE",
    "DEFAULT_LIMITS",
    "DocumentError",
    "DocumentTooLarge",
    "Limits",
    "PageInfo",
    "ReportReading",
    "UnreadableDocument",
    "UnsupportedMediaType",
    "read_report",
]
