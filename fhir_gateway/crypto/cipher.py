"""AES-256-GCM for PHI bodies and HMAC blind indexes for equality lookups on PHI."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fhir_gateway.crypto.keyring import Keyring

NONCE_BYTES = 12


class DecryptionError(RuntimeError):
    pass


@dataclass(frozen=True)
class Sealed:
    key_version: int
    nonce: bytes
    ciphertext: bytes


class FieldCipher:
    """Encrypts with the keyring's current key; decrypts with whichever version sealed the row.

    The associated data binds a ciphertext to its row (e.g. "Observation/123/1"), so a body
    copied onto another row fails authentication instead of being served as that row.
    """

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def seal(self, plaintext: bytes, associated_data: bytes) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        key = self.keyring.data_key(self.keyring.current)
        return Sealed(self.keyring.current, nonce, AESGCM(key).encrypt(nonce, plaintext, associated_data))

    def open(self, sealed: Sealed, associated_data: bytes) -> bytes:
        key = self.keyring.data_key(sealed.key_version)
        try:
            return AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, associated_data)
        except InvalidTag as exc:
            raise DecryptionError("stored body failed authentication") from exc

    def blind_index(self, value: str) -> str:
        return hmac.new(self.keyring.index_key, value.encode(), hashlib.sha256).hexdigest()
