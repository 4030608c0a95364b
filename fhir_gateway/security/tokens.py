"""Verify and mint bearer JWTs. HS256 with a local secret; RS256/ES256 against a JWKS."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jwt
from jwt import PyJWKClient, PyJWKSet

from fhir_gateway.config import Settings
from fhir_gateway.crypto.keyring import write_private_file
from fhir_gateway.security.roles import ROLES
from fhir_gateway.security.scopes import Scope, parse_scopes


class TokenError(Exception):
    """Any reason a token is not accepted; the message is safe to return to the client."""


@dataclass(frozen=True)
class Principal:
    sub: str
    role: str
    scopes: tuple[Scope, ...]
    client_id: str | None
    patient: str | None  # set for patient-context (patient/…) launches
    token_id: str | None


def load_or_create_secret(settings: Settings) -> str:
    if settings.jwt_secret:
        return settings.jwt_secret
    path: Path = settings.data_dir / "jwt_secret"
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    write_private_file(path, secret)
    return secret


# Verified tokens are remembered briefly (as API gateways do): a client sends the same bearer token
# on every call, and checking its signature and claims each time was a tenth of a small request.
# The expiry is still checked on every use; the short age bounds how long a rotated JWKS key or a
# changed secret keeps an already-verified token valid.
_CACHE_SIZE = 1024
_CACHE_SECONDS = 60.0
_LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    expires: float  # the token's exp
    not_before: float  # its nbf, if any
    remember_until: float  # monotonic


class TokenVerifier:
    def __init__(self, settings: Settings, hs_secret: str | None) -> None:
        self.settings = settings
        self.hs_secret = hs_secret
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        now = time.time()
        with self._lock:
            hit = self._verified.get(token)
            if (
                hit is not None
                and time.monotonic() < hit.remember_until
                and hit.not_before - _LEEWAY_SECONDS <= now < hit.expires + _LEEWAY_SECONDS
            ):
                self._verified.move_to_end(token)
                return hit.principal
            if hit is not None:
                del self._verified[token]
        principal, claims = self._verify_fully(token)
        entry = _Verified(
            principal,
            float(claims["exp"]),
            float(claims.get("nbf", 0)),
            time.monotonic() + _CACHE_SECONDS,
        )
        with self._lock:
            self._verified[token] = entry
            while len(self._verified) > _CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    @cached_property
    def _jwks_client(self) -> PyJWKClient | None:
        return PyJWKClient(self.settings.jwks_url, cache_keys=True) if self.settings.jwks_url else None

    @cached_property
    def _jwks_file(self) -> PyJWKSet | None:
        return PyJWKSet.from_json(self.settings.jwks_file.read_text()) if self.settings.jwks_file else None

    def _key_for(self, token: str, header: dict[str, Any]) -> Any:
        alg = header.get("alg")
        if alg not in self.settings.jwt_algorithms:
            raise TokenError(f"token algorithm '{alg}' is not accepted")
        if alg.startswith("HS"):
            if not self.hs_secret:
                raise TokenError("HMAC tokens are not accepted by this server")
            return self.hs_secret
        kid = header.get("kid")
        if self._jwks_file is not None:
            for key in self._jwks_file.keys:
                if kid is None or key.key_id == kid:
                    return key.key
            raise TokenError("no matching signing key")
        if self._jwks_client is not None:
            try:
                return self._jwks_client.get_signing_key_from_jwt(token).key
            except jwt.PyJWKClientError as exc:
                raise TokenError("no matching signing key") from exc
        raise TokenError("asymmetric tokens are not configured (no JWKS)")

    def _verify_fully(self, token: str) -> tuple[Principal, dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise TokenError("malformed token") from exc
        key = self._key_for(token, header)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=_LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError("token audience is not this server") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenError("token issuer is not trusted") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("token signature is invalid") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"invalid token: {exc}") from exc
        role = claims.get("role")
        if role not in ROLES:
            raise TokenError("token has no valid role claim")
        scope = claims.get("scope") or claims.get("scp")
        principal = Principal(
            sub=str(claims["sub"]),
            role=role,
            scopes=parse_scopes(scope),
            client_id=claims.get("client_id") or claims.get("azp"),
            patient=claims.get("patient"),
            token_id=claims.get("jti"),
        )
        return principal, claims


def mint_token(
    settings: Settings,
    secret: str,
    *,
    sub: str,
    role: str,
    scope: str,
    ttl_seconds: int = 3600,
    client_id: str = "fhir-gateway-cli",
    patient: str | None = None,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": sub,
        "role": role,
        "scope": scope,
        "client_id": client_id,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    if patient:
        claims["patient"] = patient
    return jwt.encode(claims, secret, algorithm="HS256")
