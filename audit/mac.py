"""HMAC-SHA256 (RFC 2104) with each key's padded states computed once.

`hmac.digest` sets the key up again on every call: two SHA-256 blocks for the padded key plus
OpenSSL's per-call fetch of the digest and its context, about half the cost of one MAC over an
audit row. Here the two hash states after the padded key are kept per key and copied per
message; the bytes are exactly `hmac.digest(key, message, "sha256")` (tests/audit/test_mac.py).
An append computes four MACs (row, head, two blind indexes), a verification two per row.
"""

from __future__ import annotations

import hashlib
from typing import Any

_BLOCK = 64  # SHA-256's block size in bytes
_TRANS_36 = bytes(x ^ 0x36 for x in range(256))
_TRANS_5C = bytes(x ^ 0x5C for x in range(256))
_MAX_KEYS = 64  # a process uses two or three keys; tests make many, so the table is bounded

# key -> (inner, outer) hash states; only ever copied, never updated in place
_STATES: dict[bytes, tuple[Any, Any]] = {}


def _states(key: bytes) -> tuple[Any, Any]:
    padded = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    padded = padded.ljust(_BLOCK, b"\0")
    states = hashlib.sha256(padded.translate(_TRANS_36)), hashlib.sha256(padded.translate(_TRANS_5C))
    if len(_STATES) >= _MAX_KEYS:
        _STATES.clear()
    _STATES[bytes(key)] = states
    return states


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    states = _STATES.get(key) or _states(key)
    inner = states[0].copy()
    inner.update(message)
    outer = states[1].copy()
    outer.update(inner.digest())
    return outer.digest()
