"""HMAC-SHA256 with each key set up once.

`hmac.digest` sets the key up again on every call: two SHA-256 blocks for the padded key plus
OpenSSL's per-call fetch of the digest and its context, about half the cost of one MAC over an
audit row. Here the standard library's keyed HMAC object is made once per key and copied per
message (`HMAC.copy`, done by OpenSSL), which gives exactly `hmac.digest(key, message,
"sha256")` (tests/audit/test_mac.py). An append computes four MACs (row, head, two blind
indexes), a verification two per row.
"""

from __future__ import annotations

import hashlib
import hmac

_MAX_KEYS = 64  # a process uses two or three keys; tests make many, so the table is bounded

# key -> HMAC object keyed with it and fed nothing; only ever copied, never updated in place
_KEYED: dict[bytes, hmac.HMAC] = {}


def _keyed(key: bytes) -> hmac.HMAC:
    if len(_KEYED) >= _MAX_KEYS:
        _KEYED.clear()
    keyed = _KEYED[bytes(key)] = hmac.new(key, digestmod=hashlib.sha256)
    return keyed


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    h = (_KEYED.get(key) or _keyed(key)).copy()
    h.update(message)
    return h.digest()
