"""A fresh schema on the test session's PostgreSQL server, for a test or a module of its own."""

from __future__ import annotations

import uuid


def new_pg_schema(pg_server: str) -> str:
    """A database_url onto a fresh, empty schema of the session's server."""
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{pg_server}&options=-csearch_path%3D{schema},public"
