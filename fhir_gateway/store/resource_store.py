"""Create, update, read, vread and search FHIR resources; bodies sealed with AES-256-GCM.

Works inside the caller's Session/transaction (the unit of work), so a request's writes and
its audit record commit or roll back together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fhir_gateway.crypto.cipher import FieldCipher, Sealed
from fhir_gateway.db.tables import ResourceVersion, SearchToken
from fhir_gateway.fhir import json_codec
from fhir_gateway.fhir.dates import format_instant
from fhir_gateway.fhir.outcome import FhirError, not_found
from fhir_gateway.fhir.search_index import build_index
from fhir_gateway.fhir.search_params import ID_PATTERN, DateCondition, SearchQuery
from fhir_gateway.store.batch_insert import VERSIONS, flush_pending, queue


@dataclass(frozen=True)
class StoredResource:
    resource: dict[str, Any]
    resource_type: str
    resource_id: str
    version_id: int
    last_updated: datetime

    @property
    def etag(self) -> str:
        return f'W/"{self.version_id}"'


def _aad(rtype: str, rid: str, version: int) -> bytes:
    return f"{rtype}/{rid}/{version}".encode()


def _date_clause(column: Any, cond: DateCondition) -> ColumnElement[bool]:
    start, end = cond.start, cond.end
    match cond.prefix:
        case "eq":
            return and_(column >= start, column < end)
        case "ne":
            return or_(column < start, column >= end)
        case "gt" | "sa":
            return column >= end
        case "lt" | "eb":
            return column < start
        case "ge":
            return column >= start
        case "le":
            return column < end
    raise FhirError(400, "invalid", f"unsupported date prefix '{cond.prefix}'")


class ResourceStore:
    def __init__(self, session: Session, cipher: FieldCipher) -> None:
        self.session = session
        self.cipher = cipher

    def flush(self) -> None:
        """Insert queued rows now; reads call this so a unit of work sees its own writes."""
        flush_pending(self.session)

    # writes ---------------------------------------------------------------------------------
    def create(self, resource: dict[str, Any], resource_id: str | None = None) -> StoredResource:
        # No flush: new rows are inserted together at the end of the unit of work (one batch);
        # an id clash then surfaces as a 409 from the commit.
        rid = resource_id or str(uuid.uuid4())
        return self._write(resource, rid, 1, flush=False)

    def update(
        self, resource: dict[str, Any], resource_id: str, if_match: int | None = None
    ) -> StoredResource:
        current = self._current_row(resource["resourceType"], resource_id, for_update=True)
        if current is None:
            if if_match is not None:
                raise FhirError(412, "conflict", "If-Match given for a resource that does not exist")
            return self._write(resource, resource_id, 1)
        if if_match is not None and if_match != current.version_id:
            raise FhirError(412, "conflict", f"version conflict: current version is {current.version_id}")
        self.session.connection().execute(
            update(VERSIONS).where(VERSIONS.c.pk == current.pk).values(is_current=False)
        )
        return self._write(resource, resource_id, current.version_id + 1)

    def _write(
        self, resource: dict[str, Any], rid: str, version: int, *, flush: bool = True
    ) -> StoredResource:
        rtype = resource["resourceType"]
        now = datetime.now(UTC).replace(tzinfo=None)
        body = dict(resource)
        body["id"] = rid
        body["meta"] = {
            **(resource.get("meta") or {}),
            "versionId": str(version),
            "lastUpdated": format_instant(now),
        }
        index = build_index(body, self.cipher.blind_index)
        sealed = self.cipher.seal(json_codec.dumps(body), _aad(rtype, rid, version))
        row = {
            "resource_type": rtype,
            "resource_id": rid,
            "version_id": version,
            "is_current": True,
            "last_updated": now,
            "effective_at": index.effective_at,
            "patient_hash": index.patient_hash,
            "key_version": sealed.key_version,
            "nonce": sealed.nonce,
            "body": sealed.ciphertext,
        }
        queue(self.session, row, index.tokens)
        if flush:
            try:
                self.flush()
            except IntegrityError as exc:
                raise FhirError(409, "conflict", f"{rtype}/{rid} was changed concurrently; retry") from exc
        return StoredResource(body, rtype, rid, version, now)

    # reads ----------------------------------------------------------------------------------
    def _current_row(self, rtype: str, rid: str, for_update: bool = False) -> ResourceVersion | None:
        self.flush()
        stmt = select(ResourceVersion).where(
            ResourceVersion.resource_type == rtype,
            ResourceVersion.resource_id == rid,
            ResourceVersion.is_current.is_(True),
        )
        if for_update:
            stmt = stmt.with_for_update()
        return self.session.scalars(stmt).first()

    def _open(self, row: ResourceVersion) -> StoredResource:
        plaintext = self.cipher.open(
            Sealed(row.key_version, row.nonce, row.body),
            _aad(row.resource_type, row.resource_id, row.version_id),
        )
        return StoredResource(
            json_codec.loads(plaintext), row.resource_type, row.resource_id, row.version_id, row.last_updated
        )

    def exists(self, rtype: str, rid: str) -> bool:
        return self._current_row(rtype, rid) is not None

    def read(self, rtype: str, rid: str) -> StoredResource:
        row = self._current_row(rtype, rid) if ID_PATTERN.match(rid) else None
        if row is None:
            raise not_found(rtype, rid)
        return self._open(row)

    def vread(self, rtype: str, rid: str, version: str) -> StoredResource:
        if not (version.isdigit() and len(version) <= 9 and ID_PATTERN.match(rid)):
            raise not_found(rtype, rid, version)
        self.flush()
        row = self.session.scalars(
            select(ResourceVersion).where(
                ResourceVersion.resource_type == rtype,
                ResourceVersion.resource_id == rid,
                ResourceVersion.version_id == int(version),
            )
        ).first()
        if row is None:
            raise not_found(rtype, rid, version)
        return self._open(row)

    def search(self, query: SearchQuery) -> tuple[list[StoredResource], int]:
        self.flush()
        rv = ResourceVersion
        conditions: list[ColumnElement[bool]] = [
            rv.resource_type == query.resource_type,
            rv.is_current.is_(True),
        ]
        for ids in query.ids:
            conditions.append(rv.resource_id.in_(ids))
        for refs in query.patients:
            conditions.append(rv.patient_hash.in_([self.cipher.blind_index(r) for r in refs]))
        for token in query.tokens:
            alternatives = []
            for system, code in token.alternatives:
                if token.param == "identifier":
                    code = self.cipher.blind_index(f"{system or '*'}|{code}")
                    system = None
                clause = SearchToken.code == code
                alternatives.append(
                    and_(clause, SearchToken.system == system) if system is not None else clause
                )
            conditions.append(
                exists().where(
                    SearchToken.resource_pk == rv.pk, SearchToken.param == token.param, or_(*alternatives)
                )
            )
        for cond in query.dates:
            conditions.append(and_(rv.effective_at.is_not(None), _date_clause(rv.effective_at, cond)))
        for cond in query.last_updated:
            conditions.append(_date_clause(rv.last_updated, cond))
        if query.resource_type == "Patient" and query.patients:
            conditions.append(false())  # patient/subject are not Patient search params

        where = and_(*conditions)
        total = self.session.scalar(select(func.count()).select_from(rv).where(where)) or 0
        if query.count == 0:
            return [], total
        order = {
            "date": [rv.effective_at.asc().nulls_last(), rv.pk.asc()],
            "-date": [rv.effective_at.desc().nulls_last(), rv.pk.desc()],
            "_lastUpdated": [rv.last_updated.asc(), rv.pk.asc()],
            "-_lastUpdated": [rv.last_updated.desc(), rv.pk.desc()],
            "_id": [rv.resource_id.asc()],
            "-_id": [rv.resource_id.desc()],
        }.get(query.sort or "", [rv.pk.asc()])
        rows = self.session.scalars(
            select(rv).where(where).order_by(*order).offset(query.offset).limit(query.count)
        ).all()
        return [self._open(r) for r in rows], total


__all__ = ["ResourceStore", "StoredResource"]
