"""Typed errors of the reading path; each carries the HTTP status the API should answer with."""

from __future__ import annotations


class DocumentError(Exception):
    """Base class: the caller sent something we cannot read. Messages never contain PHI."""

    http_status: int = 422


class DocumentTooLarge(DocumentError):
    """Too many bytes, pixels or pages (decompression-bomb guard)."""

    http_status = 413


class UnsupportedMediaType(DocumentError):
    """Neither the declared content type nor the bytes are a format we read."""

    http_status = 415


class UnreadableDocument(DocumentError):
    """A supported format whose content is corrupt, empty or holds no readable page."""

    http_status = 422
