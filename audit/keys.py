"""Key material the caller hands to the audit trail, and the blind indexes derived from it.

The service's keyring owns the keys; this package never stores or generates production keys.
Encryption keys are versioned: a rotation adds a version and makes it current, and every stored
record names the version that sealed it, so old records stay readable. The MAC key and the
blind-index key are deliberately not versioned — rotating them would break the chain's MACs or
orphan every index entry.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from audit.mac import hmac_sha256

AES_KEY_BYTES = 32  # AES-256
MIN_MAC_KEY_BYTES = 32


class UnknownKeyVersion(KeyError):
    """A stored record names an encryption key version the caller did not supply."""


class IndexKind(StrEnum):
    # Each kind hashes under its own label, so equal strings of different kinds never collide
    # and the audit indexes are unlinkable to any other blind index made with the same key.
    PATIENT = "patient"
    AGENT = "agent"
    ENTITY = "entity"


@dataclass(frozen=True, repr=False)
class AuditKeys:
    encryption_keys: Mapping[int, bytes]
    current_version: int
    mac_key: bytes
    index_key: bytes
    _frozen_keys: dict[int, bytes] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        keys = {int(v): bytes(k) for v, k in self.encryption_keys.items()}
        if self.current_version not in keys:
            raise ValueError(f"current key version {self.current_version} has no key")
        if any(len(k) != AES_KEY_BYTES for k in keys.values()):
            raise ValueError("every encryption key must be 32 bytes (AES-256)")
        if len(self.mac_key) < MIN_MAC_KEY_BYTES or len(self.index_key) < MIN_MAC_KEY_BYTES:
            raise ValueError("the MAC key and the blind-index key must be at least 32 bytes")
        if hmac.compare_digest(self.mac_key, self.index_key):
            raise ValueError("the MAC key and the blind-index key must differ")
        # A private copy, so a caller mutating its dict cannot change keys under a running writer.
        object.__setattr__(self, "_frozen_keys", keys)

    def __repr__(self) -> str:  # never print key bytes, e.g. in a traceback or a log line
        return f"AuditKeys(versions={sorted(self._frozen_keys)}, current_version={self.current_version})"

    @property
    def current_key(self) -> bytes:
        return self._frozen_keys[self.current_version]

    def encryption_key(self, version: int) -> bytes:
        try:
            return self._frozen_keys[version]
        except KeyError:
            raise UnknownKeyVersion(version) from None

    def blind_index(self, kind: IndexKind, value: str) -> str:
        """Keyed hash for equality lookups; hex so it indexes well as a plain string column."""
        return _blind_index(self.index_key, kind, value)

    def rotated(self, new_key: bytes | None = None) -> AuditKeys:
        """A copy with a new current version; mirrors what the service keyring's rotation does."""
        version = max(self._frozen_keys) + 1
        return AuditKeys(
            encryption_keys={**self._frozen_keys, version: new_key or secrets.token_bytes(AES_KEY_BYTES)},
            current_version=version,
            mac_key=self.mac_key,
            index_key=self.index_key,
        )

    @classmethod
    def generate(cls) -> AuditKeys:
        """Fresh random keys, for tests and benchmarks only."""
        return cls(
            encryption_keys={1: secrets.token_bytes(AES_KEY_BYTES)},
            current_version=1,
            mac_key=secrets.token_bytes(32),
            index_key=secrets.token_bytes(32),
        )


@lru_cache(maxsize=4096)
def _blind_index(index_key: bytes, kind: IndexKind, value: str) -> str:
    # Cached: every record of a session hashes the same agent, and a patient's reads repeat.
    message = b"cbc-audit-index\x00" + kind.value.encode() + b"\x00" + value.encode()
    return hmac_sha256(index_key, message).hex()
