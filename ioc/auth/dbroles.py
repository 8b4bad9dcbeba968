"""`ioc db roles`: the web app's own database role. It reads every table (facts, lookups, KPI rollups)
and writes only the tables the web app owns: wall heartbeats, pins (overrides), alerts, the audit log,
its accounts' login state and sessions, kiosk tokens' last use, and the briefing archive. The worker
keeps the writer (owner) role that runs migrations and loads facts.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, text

#: tables the web app writes (those that exist in this database are granted)
WEB_WRITES = {
    "wall_heartbeat": "SELECT, INSERT, UPDATE, DELETE",
    "wall_override": "SELECT, INSERT, UPDATE, DELETE",
    "wall_alert": "SELECT, INSERT, UPDATE, DELETE",
    "audit": "SELECT, INSERT",
    "app_user": "SELECT, UPDATE",
    "web_session": "SELECT, INSERT, DELETE",
    "kiosk_token": "SELECT, UPDATE",
    "briefing": "SELECT, INSERT, UPDATE",
}
READ_SCHEMAS = ("public", "kpi")
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    if not _ROLE.match(name):
        raise ValueError(f"role name {name!r}: lower-case letters, digits and _ only")
    return f'"{name}"'


def create_web_role(connection: Connection, role: str, password: str | None = None) -> list[str]:
    """Create (or bring up to date) `role`; returns the tables it may write. Re-running is safe."""
    name = _ident(role)
    exists = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if exists is None:
        connection.execute(text(f"CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"))
    if password is not None:
        # the password is sent as a literal (DDL takes no bind parameters); quote it safely
        literal: str = connection.execute(text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
        connection.execute(text(f"ALTER ROLE {name} PASSWORD {literal}"))
    database: str = connection.execute(text("SELECT current_database()")).scalar_one()
    connection.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO {name}'))
    schemas = [
        schema
        for schema in READ_SCHEMAS
        if connection.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
    ]
    for schema in schemas:
        connection.execute(text(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {name}"))
        connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {name}"))
        connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {name}"))
        connection.execute(
            text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {name}")
        )
    granted = []
    for table, privileges in WEB_WRITES.items():
        if connection.execute(text("SELECT to_regclass(:t)"), {"t": f"public.{table}"}).scalar() is None:
            continue
        connection.execute(text(f"GRANT {privileges} ON public.{table} TO {name}"))
        granted.append(table)
    for table in granted:  # identity/serial columns: INSERT needs the sequence
        sequences: list[Any] = list(
            connection.execute(
                text(
                    "SELECT pg_get_serial_sequence(:t, attname) FROM pg_attribute "
                    "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped"
                ),
                {"t": f"public.{table}"},
            )
            .scalars()
            .all()
        )
        for sequence in sequences:
            if sequence:
                connection.execute(text(f"GRANT USAGE ON SEQUENCE {sequence} TO {name}"))
    return granted
