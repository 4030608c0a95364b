"""Encrypted, hash-chained audit trail rendered as FHIR AuditEvents (IHE BALP).

A pure library: the service supplies the database connection (inside its own transaction), the
keys (from its keyring) and the tables (attached to its MetaData). Typical use::

    tables = define_audit_tables(Base.metadata)            # once, at import time
    keys = AuditKeys(encryption_keys=keyring.data_keys, current_version=keyring.current,
                     mac_key=keyring.audit_mac_key, index_key=keyring.index_key)
    with engine.begin() as conn:                           # start-up, PostgreSQL with replicas
        ensure_chain_heads(conn, keys, tables, lanes=8)
    with session.begin():                                  # every request
        ...                                                # the data change
        append(session, AuditRecord.from_http(Interaction.CREATE, 201, ...), keys, tables)
    verify_chain(connection, keys, tables, lanes=8)        # `fhir-gateway audit verify`

Modules: `record` (what is recorded), `keys`, `schema` (tables), `chain` (what is encrypted and
MACed), `writer`, `verify`, `reader` (search), `fhir` (AuditEvent), `export` (NDJSON), `guard`
(optional append-only triggers).
"""

from audit.export import export_ndjson
from audit.fhir import to_audit_event, to_audit_event_dict
from audit.keys import AuditKeys, IndexKind, UnknownKeyVersion
from audit.reader import AuditPage, AuditQuery, DateFilter, StoredRecord, get, iter_since, search
from audit.record import Action, AuditRecord, Interaction, Outcome, action_for, outcome_for_status
from audit.schema import AuditTables, define_audit_tables
from audit.verify import Problem, VerifyResult, verify_chain
from audit.writer import Appended, Companion, append, ensure_chain_heads

__all__ = [
    "Action",
    "Appended",
    "AuditKeys",
    "AuditPage",
    "AuditQuery",
    "AuditRecord",
    "AuditTables",
    "Companion",
    "DateFilter",
    "IndexKind",
    "Interaction",
    "Outcome",
    "Problem",
    "StoredRecord",
    "UnknownKeyVersion",
    "VerifyResult",
    "action_for",
    "append",
    "define_audit_tables",
    "ensure_chain_heads",
    "export_ndjson",
    "get",
    "iter_since",
    "outcome_for_status",
    "search",
    "to_audit_event",
    "to_audit_event_dict",
    "verify_chain",
]
