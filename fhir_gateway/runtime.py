"""Process-wide wiring built once at start-up: settings, database, keyring, token verifier.

Holds no request state, so any number of replicas can serve behind a load balancer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from anyio import CapacityLimiter
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from audit import AuditKeys, Companion, ensure_chain_heads
from fhir_gateway.analysis.ocr_pool import OcrPool
from fhir_gateway.auditing import AuditScope, append_success
from fhir_gateway.config import Settings
from fhir_gateway.crypto.cipher import FieldCipher
from fhir_gateway.crypto.keyring import Keyring, load_or_create_keyring
from fhir_gateway.db.engine import make_engine, make_session_factory, migrate
from fhir_gateway.db.tables import AUDIT_TABLES
from fhir_gateway.fhir.outcome import FhirError
from fhir_gateway.security.tokens import TokenVerifier, load_or_create_secret
from fhir_gateway.store.batch_insert import PG_BATCH_CTES, take_pending_params
from fhir_gateway.store.resource_store import ResourceStore

AUDIT_LANES = 8


def audit_keys_from(keyring: Keyring) -> AuditKeys:
    return AuditKeys(
        encryption_keys=keyring.data_keys,
        current_version=keyring.current,
        mac_key=keyring.audit_mac_key,
        index_key=keyring.index_key,
    )


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: Keyring
    cipher: FieldCipher
    verifier: TokenVerifier
    ocr: OcrPool
    audit_keys: AuditKeys
    db_limiter: CapacityLimiter | None = None  # see fhir_gateway.api.db_threads

    @classmethod
    def start(cls, settings: Settings, *, run_migrations: bool = True) -> Runtime:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # holds keys and PHI
        engine = make_engine(settings.resolved_database_url)
        if run_migrations:
            migrate(engine)
        keyring = load_or_create_keyring(settings.resolved_keyring_file, settings.keyring_json)
        secret = (
            load_or_create_secret(settings)
            if any(a.startswith("HS") for a in settings.jwt_algorithms)
            else None
        )
        audit_keys = audit_keys_from(keyring)
        if run_migrations:
            # Several lanes let concurrent writers (replicas) append without waiting on one chain head.
            lanes = 1 if engine.dialect.name == "sqlite" else AUDIT_LANES
            with engine.begin() as conn:
                ensure_chain_heads(conn, audit_keys, AUDIT_TABLES, lanes=lanes)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            keyring=keyring,
            cipher=FieldCipher(keyring),
            verifier=TokenVerifier(settings, secret),
            ocr=OcrPool(settings.ocr_workers or None),
            audit_keys=audit_keys,
        )

    @contextmanager
    def unit_of_work(self, audit: AuditScope | None = None) -> Iterator[Session]:
        """One transaction per request: everything inside, its audit record included, commits
        together or not at all."""
        try:
            with self.sessions() as session, session.begin():
                yield session
                if audit is not None:
                    # On PostgreSQL the queued writes ride in the audit append's statement.
                    pg = self.engine.dialect.name == "postgresql"
                    rows = take_pending_params(session) if pg else None
                    companion = Companion(PG_BATCH_CTES, rows) if rows else None
                    append_success(session, audit, self.audit_keys, companion)
            if audit is not None:
                audit.recorded = True
        except IntegrityError as exc:
            raise FhirError(
                409, "conflict", "a concurrent change conflicted with this request; retry"
            ) from exc

    def store(self, session: Session) -> ResourceStore:
        return ResourceStore(session, self.cipher)

    def close(self) -> None:
        self.ocr.close()
        self.engine.dispose()
