"""Compact JSON for resource bodies and responses.

orjson is ~15x faster than the standard library on our bundles (0.02 ms vs 0.27 ms for an
`$analyze` result), which matters when every request serialises ~20 resources twice (sealing and
responding). It refuses integers beyond 64 bits, which a client can send in places the models do
not bound; those fall back to the standard library, which writes the same JSON, just slower.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """UTF-8 JSON without insignificant whitespace."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
