"""Encrypted, hash-chained audit trail rendered as FHIR AuditEvents (IHE BALP).

A pure library: the service supplies the database connection (inside its own transaction), the
keys (from its keyring) and the tables (attached to its MetaData). Typical use::

    tables = define_audit_tables(Base.metadata)            # once, at import time
    keys = AuditKeys(encryption_keys=..., current_version=..., mac_key=..., index_key=...)
    with session.begin():
        ...                                                # the data change
        append(session, AuditRecord.from_http(Interaction.CREATE, 201, ...), keys, tables)
    verify_chain(connection, keys, tables)                 # `fhir-gateway audit verify`
"""

from audit.export import export_ndjson
from audit.fhir import to_audit_event, to_audit_event_dict
from audit.keys import AuditKeys, IndexKind, UnknownKeyVersion
from audit.reader import AuditPage, AuditQuery, DateFilter, StoredRecord, get, iter_since, search
from audit.record import Action, AuditRecord, Interaction, Outcome, action_for, outcome_for_status
from audit.schema import AuditTables, define_audit_tables
from audit.verify import Problem, VerifyResult, verify_chain
from audit.writer import Appended, append, ensure_chain_head

__all__ = [
    "Action",
    "Appended",
    "AuditKeys",
    "AuditPage",
    "AuditQuery",
    "AuditRecord",
    "AuditTables",
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
    "ensure_chain_head",
    "export_ndjson",
    "get",
    "iter_since",
    "outcome_for_status",
    "search",
    "to_audit_event",
    "to_audit_event_dict",
    "verify_chain",
]
