"""Verified tokens are remembered briefly; expiry, tampering and the cache bound still hold."""

from __future__ import annotations

import time
from unittest import mock

import jwt
import pytest

from fhir_gateway.config import Settings
from fhir_gateway.security import tokens
from fhir_gateway.security.tokens import TokenError, TokenVerifier
from tests.conftest import TEST_SECRET
from tests.fhir_gateway.conftest import token_claims


def _token(settings: Settings, exp_in: int, **extra: object) -> str:
    claims = token_claims(settings, exp=int(time.time()) + exp_in, **extra)
    return jwt.encode(claims, TEST_SECRET, algorithm="HS256")


@pytest.fixture
def verifier(settings: Settings) -> TokenVerifier:
    return TokenVerifier(settings, TEST_SECRET)


def test_a_verified_token_is_not_decoded_again(settings: Settings, verifier: TokenVerifier) -> None:
    token = _token(settings, 600)
    first = verifier.verify(token)
    with mock.patch.object(tokens.jwt, "decode", side_effect=AssertionError("decoded again")):
        assert verifier.verify(token) == first


def test_a_remembered_token_still_expires(settings: Settings, verifier: TokenVerifier) -> None:
    token = _token(settings, 5)
    verifier.verify(token)
    later = time.time() + 5 + tokens._LEEWAY_SECONDS + 1
    # Past its exp the cache must not answer: the token goes back to full verification, which
    # (with PyJWT's own clock moved on as well) rejects it.
    with (
        mock.patch.object(tokens.time, "time", return_value=later),
        mock.patch.object(tokens.jwt, "decode", side_effect=jwt.ExpiredSignatureError("expired")),
        pytest.raises(TokenError, match="expired"),
    ):
        verifier.verify(token)


def test_a_remembered_token_is_checked_again_later(settings: Settings, verifier: TokenVerifier) -> None:
    token = _token(settings, 3600)
    verifier.verify(token)
    later = time.monotonic() + tokens._CACHE_SECONDS + 1
    with (
        mock.patch.object(tokens.time, "monotonic", return_value=later),
        mock.patch.object(tokens.jwt, "decode", side_effect=jwt.InvalidSignatureError("key rotated")),
        pytest.raises(TokenError, match="signature"),
    ):
        verifier.verify(token)


def test_a_tampered_copy_is_rejected(settings: Settings, verifier: TokenVerifier) -> None:
    token = _token(settings, 600)
    verifier.verify(token)
    header, _payload, signature = token.split(".")
    forged = _token(settings, 600, role="auditor").split(".")[1]
    with pytest.raises(TokenError):
        verifier.verify(f"{header}.{forged}.{signature}")


def test_the_cache_is_bounded(settings: Settings, verifier: TokenVerifier, monkeypatch) -> None:
    monkeypatch.setattr(tokens, "_CACHE_SIZE", 3)
    for i in range(5):
        verifier.verify(_token(settings, 600, jti=f"t{i}"))
    assert len(verifier._verified) == 3
