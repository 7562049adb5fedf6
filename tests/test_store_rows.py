"""The SQL both stores share is written once with `?`; on PostgreSQL it must reach psycopg as `%s` with any
literal `%` doubled, and on SQLite unchanged, or the shared query classes would break one backend."""

from __future__ import annotations

import sqlite3

from paperscope.store.rows import SqlRows, to_pyformat


def test_question_marks_become_psycopg_placeholders_and_percent_signs_are_escaped() -> None:
    assert to_pyformat("SELECT id FROM t WHERE a = ? AND b LIKE '5%' AND c = ?") == \
        "SELECT id FROM t WHERE a = %s AND b LIKE '5%%' AND c = %s"


def test_sqlite_rows_run_the_shared_text_unchanged_and_write_in_a_transaction() -> None:
    class Store:
        def __init__(self) -> None:
            self.conn = sqlite3.connect(":memory:", isolation_level=None)
            self.began = 0

        def transaction(self):  # type: ignore[no-untyped-def]
            import contextlib

            @contextlib.contextmanager
            def block():  # type: ignore[no-untyped-def]
                self.began += 1
                self.conn.execute("BEGIN IMMEDIATE")
                yield self.conn
                self.conn.execute("COMMIT")
            return block()

    class Rows(SqlRows):
        def __init__(self, store: Store) -> None:
            self.store, self.conn = store, store.conn

    store = Store()
    rows = Rows(store)
    assert rows.sql("SELECT ? LIKE '5%'") == "SELECT ? LIKE '5%'"
    rows.run("CREATE TABLE t (a TEXT)")
    assert rows.write("INSERT INTO t VALUES (?)", ("50%",)).rowcount == 1
    assert store.began == 1
    assert rows.run("SELECT a FROM t WHERE a LIKE '5%'").fetchall() == [("50%",)]


def test_postgres_style_rows_translate_before_executing() -> None:
    seen: list[tuple[str, tuple[object, ...]]] = []

    class Conn:
        def execute(self, sql: str, params: tuple[object, ...] = ()) -> str:
            seen.append((sql, params))
            return "result"

    class PgRows(SqlRows):
        MARK = "%s"
        WRITE_IN_TRANSACTION = False

        def __init__(self) -> None:
            self.conn, self.store = Conn(), None  # no transaction is opened for a single write

    rows = PgRows()
    assert rows.write("UPDATE t SET a = ? WHERE b LIKE 'x%'", (1,)) == "result"
    assert seen == [("UPDATE t SET a = %s WHERE b LIKE 'x%%'", (1,))]
