"""Versioned key material, created on first run in a 0600 file or supplied through the environment.

Layout (JSON): {"current": 2, "data_keys": {"1": b64, "2": b64}, "index_key": b64, "audit_mac_key": b64}
Data keys are versioned so rotation keeps old rows readable; the blind-index and audit MAC keys
are stable because rotating them would orphan every index entry and break the audit chain.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_BYTES = 32  # AES-256


class KeyringError(RuntimeError):
    pass


@dataclass(frozen=True)
class Keyring:
    current: int
    data_keys: dict[int, bytes]
    index_key: bytes
    audit_mac_key: bytes

    def data_key(self, version: int) -> bytes:
        try:
            return self.data_keys[version]
        except KeyError as exc:
            raise KeyringError(f"data key version {version} is not in the keyring") from exc

    def with_new_key(self) -> Keyring:
        version = max(self.data_keys) + 1
        return Keyring(
            current=version,
            data_keys={**self.data_keys, version: secrets.token_bytes(KEY_BYTES)},
            index_key=self.index_key,
            audit_mac_key=self.audit_mac_key,
        )

    def to_json(self) -> str:
        enc = lambda b: base64.b64encode(b).decode()  # noqa: E731
        return json.dumps(
            {
                "current": self.current,
                "data_keys": {str(v): enc(k) for v, k in sorted(self.data_keys.items())},
                "index_key": enc(self.index_key),
                "audit_mac_key": enc(self.audit_mac_key),
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        try:
            raw = json.loads(text)
            dec = base64.b64decode
            keyring = cls(
                current=int(raw["current"]),
                data_keys={int(v): dec(k) for v, k in raw["data_keys"].items()},
                index_key=dec(raw["index_key"]),
                audit_mac_key=dec(raw["audit_mac_key"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyringError("keyring is malformed") from exc
        keys = [*keyring.data_keys.values(), keyring.index_key, keyring.audit_mac_key]
        if any(len(k) != KEY_BYTES for k in keys) or keyring.current not in keyring.data_keys:
            raise KeyringError("keyring keys must be 32 bytes and include the current version")
        return keyring

    @classmethod
    def generate(cls) -> Keyring:
        return cls(
            current=1,
            data_keys={1: secrets.token_bytes(KEY_BYTES)},
            index_key=secrets.token_bytes(KEY_BYTES),
            audit_mac_key=secrets.token_bytes(KEY_BYTES),
        )


def write_private_file(path: Path, text: str) -> None:
    """Write atomically with mode 0600 from the start (never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def load_or_create_keyring(path: Path, inline_json: str | None = None) -> Keyring:
    if inline_json:
        return Keyring.from_json(inline_json)
    if path.exists():
        return Keyring.from_json(path.read_text())
    keyring = Keyring.generate()
    write_private_file(path, keyring.to_json())
    return keyring


def rotate_keyring_file(path: Path) -> Keyring:
    keyring = Keyring.from_json(path.read_text()).with_new_key()
    write_private_file(path, keyring.to_json())
    return keyring
