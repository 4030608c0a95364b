"""Verify and mint bearer JWTs. HS256 with a local secret; RS256/ES256 against a JWKS."""

from __future__ import annotations

import secrets
import time
import uuid
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


class TokenVerifier:
    def __init__(self, settings: Settings, hs_secret: str | None) -> None:
        self.settings = settings
        self.hs_secret = hs_secret

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

    def verify(self, token: str) -> Principal:
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
                leeway=30,
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
        return Principal(
            sub=str(claims["sub"]),
            role=role,
            scopes=parse_scopes(scope),
            client_id=claims.get("client_id") or claims.get("azp"),
            patient=claims.get("patient"),
            token_id=claims.get("jti"),
        )


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
