"""Optional database-side guard: refuse UPDATE/DELETE/TRUNCATE of audit rows.

The MAC chain *detects* tampering; these triggers *prevent* the easy kinds (a buggy migration, an
ORM cascade, an SQL injection running as the application role). Anyone who can drop a trigger can
still tamper, which is what verification is for. Include the statements in a migration
(`for ddl in append_only_ddl(tables, "postgresql"): op.execute(ddl)`) or call
`install_append_only_guard` once.

Chain heads stay updatable — appends advance them — but may never move backwards or disappear,
which blocks rewinding a lane to hide a truncated tail.
"""

from __future__ import annotations

from sqlalchemy import Connection

from audit.schema import AuditTables

MESSAGE = "audit records are append-only"


def append_only_ddl(tables: AuditTables, dialect: str) -> list[str]:
    events, head = tables.events.name, tables.head.name
    if dialect == "postgresql":
        function = f"{events}_append_only"
        return [
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
END $$""",
            f"CREATE TRIGGER {events}_no_change BEFORE UPDATE OR DELETE ON {events} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {events}_no_truncate BEFORE TRUNCATE ON {events} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {head}_no_delete BEFORE DELETE ON {head} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {head}_no_truncate BEFORE TRUNCATE ON {head} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {head}_no_rewind BEFORE UPDATE ON {head} FOR EACH ROW "
            f"WHEN (NEW.last_position < OLD.last_position OR NEW.lane <> OLD.lane) "
            f"EXECUTE FUNCTION {function}()",
        ]
    if dialect == "sqlite":
        abort = f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        return [
            f"CREATE TRIGGER IF NOT EXISTS {events}_no_update BEFORE UPDATE ON {events} {abort}",
            f"CREATE TRIGGER IF NOT EXISTS {events}_no_delete BEFORE DELETE ON {events} {abort}",
            f"CREATE TRIGGER IF NOT EXISTS {head}_no_delete BEFORE DELETE ON {head} {abort}",
            f"CREATE TRIGGER IF NOT EXISTS {head}_no_rewind BEFORE UPDATE ON {head} "
            f"WHEN NEW.last_position < OLD.last_position OR NEW.lane <> OLD.lane {abort}",
        ]
    raise ValueError(f"no append-only guard for dialect {dialect!r}")


def install_append_only_guard(conn: Connection, tables: AuditTables) -> None:
    for statement in append_only_ddl(tables, conn.dialect.name):
        conn.exec_driver_sql(statement)


def remove_append_only_guard(conn: Connection, tables: AuditTables) -> None:
    """For a deliberate, reviewed maintenance window (and for tests)."""
    events, head = tables.events.name, tables.head.name
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {events}_append_only() CASCADE")
    else:
        for trigger in (
            f"{events}_no_update",
            f"{events}_no_delete",
            f"{head}_no_delete",
            f"{head}_no_rewind",
        ):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
