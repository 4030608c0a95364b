"""Rewrite `urn:uuid:` references inside a transaction to the server ids assigned to them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def rewrite_references(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        out = {k: rewrite_references(v, mapping) for k, v in value.items()}
        ref = out.get("reference")
        if isinstance(ref, str) and ref in mapping:
            out["reference"] = mapping[ref]
        return out
    if isinstance(value, list):
        return [rewrite_references(v, mapping) for v in value]
    return value
