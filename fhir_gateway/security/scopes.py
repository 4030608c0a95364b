"""SMART on FHIR scopes (v2 `user/Observation.rs`, v1 `user/Observation.read`), parsed and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Interaction = Literal["c", "r", "u", "d", "s"]
_SCOPE = re.compile(r"^(patient|user|system)/([A-Za-z]+|\*)\.([a-z*]+)$")
_V2 = re.compile(r"^c?r?u?d?s?$")
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}


@dataclass(frozen=True)
class Scope:
    context: str  # patient | user | system
    resource_type: str  # a type or "*"
    permissions: frozenset[str]

    def allows(self, resource_type: str, interaction: Interaction) -> bool:
        return self.resource_type in ("*", resource_type) and interaction in self.permissions


def parse_scope(text: str) -> Scope | None:
    """A resource scope, or None for other scopes (openid, launch, …) and for granular
    `?param=` scopes, which this server does not support and so must not treat as broader."""
    m = _SCOPE.match(text)
    if not m:
        return None
    context, rtype, perms = m.groups()
    if perms in _V1:
        perms = _V1[perms]
    elif not perms or not _V2.match(perms):
        return None
    return Scope(context, rtype, frozenset(perms))


def parse_scopes(text: str | list[str] | None) -> tuple[Scope, ...]:
    items = text.split() if isinstance(text, str) else list(text or [])
    return tuple(s for s in (parse_scope(i) for i in items) if s is not None)


def scopes_allow(scopes: tuple[Scope, ...], resource_type: str, interaction: Interaction) -> bool:
    return any(s.allows(resource_type, interaction) for s in scopes)
