"""What is encrypted and what is MACed — the one place both writer and verifier take it from.

Row MAC = HMAC-SHA256(mac_key, tag ‖ prev_mac ‖ seq ‖ lane ‖ position ‖ every other stored
column), each field length-prefixed so no two different rows encode to the same bytes. Covering
every column (search columns, key version, nonce, ciphertext) means any edit, including to a
plaintext index, breaks that row's MAC; covering prev_mac and the row's place means deletion,
insertion and reordering break it too.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audit.keys import AuditKeys, IndexKind
from audit.mac import hmac_sha256
from audit.record import AuditRecord, format_instant

GENESIS_MAC = bytes(32)  # the "previous MAC" of position 1 in every lane
NONCE_BYTES = 12
_ROW_TAG = b"cbc-audit-row/v1"
_HEAD_TAG = b"cbc-audit-head/v1"
_AAD_TAG = b"cbc-audit-body/v1"
_NONE = b"\xff\xff\xff\xff"  # a length no real field can have, so None differs from ""
_LENGTH = struct.Struct(">I").pack  # a field's 4-byte big-endian length prefix


class DecryptError(Exception):
    """The ciphertext did not authenticate under its key version, sequence number and key."""


class Place(NamedTuple):
    """Where a row sits: its global sequence number and its position in its lane's chain.

    A named tuple for the same reason as SearchColumns: one is built per append and per row
    verified."""

    seq: int
    lane: int
    position: int


class SearchColumns(NamedTuple):
    """The plaintext part of a row, derived from a record; nothing here is PHI.

    A named tuple rather than a frozen dataclass: it is built on every append and every
    verified row, and a frozen dataclass sets each of its ten fields through a Python call."""

    recorded_at: datetime
    action: str
    interaction: str
    outcome: int
    http_status: int | None
    resource_type: str | None
    agent_role: str | None
    agent_index: str | None
    patient_index: str | None
    entity_index: str | None

    @classmethod
    def of(cls, record: AuditRecord, keys: AuditKeys) -> SearchColumns:
        index = keys.blind_index
        patient, entity = record.patient, record.entity_reference
        return cls(
            record.recorded,
            record.action.value,
            record.interaction.value,
            int(record.outcome),
            record.http_status,
            record.resource_type,
            record.agent_role,
            index(IndexKind.AGENT, record.agent_sub) if record.agent_sub else None,
            index(IndexKind.PATIENT, patient) if patient else None,
            index(IndexKind.ENTITY, entity) if entity else None,
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SearchColumns:
        return cls(*(row[name] for name in cls._fields))

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))


def _field(value: bytes | str | int | None) -> bytes:
    if value is None:
        return _NONE
    if isinstance(value, int):
        value = str(value).encode()
    elif isinstance(value, str):
        value = value.encode()
    return len(value).to_bytes(4, "big") + value


def row_mac(
    mac_key: bytes,
    prev_mac: bytes,
    place: Place,
    columns: SearchColumns,
    key_version: int,
    nonce: bytes,
    ciphertext: bytes,
) -> bytes:
    # The same bytes as _field() over each value in turn (tests/audit/test_stored_format.py), built
    # in one pass: one call per field cost more than the HMAC itself, on every append and check.
    # Values from small vocabularies (codes, status, role, type, lane, key version) are spelled
    # once and looked up; the rest are spelled inline.
    known = _SPELLED.get
    c = columns
    lane, outcome, status, version = str(place.lane), str(c.outcome), c.http_status, str(key_version)
    status_text = None if status is None else str(status)
    agent, patient, entity = c.agent_index, c.patient_index, c.entity_index
    message = b"".join(
        (
            _ROW_TAG,
            _LENGTH(len(prev_mac)),
            prev_mac,
            _LENGTH(len(seq := str(place.seq).encode())),
            seq,
            known(lane) or _spell(lane),
            _LENGTH(len(position := str(place.position).encode())),
            position,
            _spelled_instant(c.recorded_at),
            known(c.action) or _spell(c.action),
            known(c.interaction) or _spell(c.interaction),
            known(outcome) or _spell(outcome),
            known(status_text) or _spell(status_text),
            known(c.resource_type) or _spell(c.resource_type),
            known(c.agent_role) or _spell(c.agent_role),
            _NONE if agent is None else _LENGTH(len(a := agent.encode())) + a,
            _NONE if patient is None else _LENGTH(len(p := patient.encode())) + p,
            _NONE if entity is None else _LENGTH(len(e := entity.encode())) + e,
            known(version) or _spell(version),
            _LENGTH(len(nonce)),
            nonce,
            _LENGTH(len(ciphertext)),
            ciphertext,
        )
    )
    return hmac_sha256(mac_key, message)


# Length-prefixed spellings of strings that repeat across rows, by value; bounded, since a forged
# or odd column could bring new values on every row checked.
_SPELLED: dict[str | None, bytes] = {None: _NONE}
_MAX_SPELLED = 4096


def _spell(text: str | None) -> bytes:
    if text is None:
        return _NONE
    encoded = text.encode()
    spelled = _LENGTH(len(encoded)) + encoded
    if len(_SPELLED) < _MAX_SPELLED:
        _SPELLED[text] = spelled
    return spelled


@lru_cache(maxsize=256)
def _spelled_instant(value: datetime) -> bytes:
    encoded = format_instant(value).encode()
    return _LENGTH(len(encoded)) + encoded


def head_mac(mac_key: bytes, lane: int, last_position: int, last_mac: bytes) -> bytes:
    message = _HEAD_TAG + _field(lane) + _field(last_position) + _field(last_mac)
    return hmac_sha256(mac_key, message)


def _aad(seq: int, key_version: int) -> bytes:
    # Binding the body to its sequence number means a ciphertext moved to another row no longer
    # decrypts, independently of the MAC check.
    return _AAD_TAG + struct.pack(">QI", seq, key_version)


@lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESGCM:
    return AESGCM(key)  # its key schedule is set up once per key, not per record


def seal(record: AuditRecord, seq: int, keys: AuditKeys) -> tuple[int, bytes, bytes]:
    """Encrypt under the current key: (key_version, nonce, ciphertext)."""
    version = keys.current_version
    nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonces: fine far below 2^32 records per key
    ciphertext = _cipher(keys.current_key).encrypt(nonce, record.to_json_bytes(), _aad(seq, version))
    return version, nonce, ciphertext


def open_sealed(seq: int, key_version: int, nonce: bytes, ciphertext: bytes, keys: AuditKeys) -> AuditRecord:
    key = keys.encryption_key(key_version)
    try:
        plaintext = _cipher(key).decrypt(nonce, ciphertext, _aad(seq, key_version))
    except InvalidTag:
        raise DecryptError(f"audit record {seq} failed authentication") from None
    return AuditRecord.from_json_bytes(plaintext)
