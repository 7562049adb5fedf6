"""The accounts migration hashes existing feed and unsubscribe tokens in place: old links keep working, and no
plain token stays in the database."""

from __future__ import annotations

from paperscope.store import Store, db, schema


def test_existing_plain_tokens_are_hashed_and_still_work(tmp_path, monkeypatch):
    before = next(i for i, sql in enumerate(schema.MIGRATIONS) if "CREATE TABLE sessions" in sql)
    monkeypatch.setattr(db, "MIGRATIONS", schema.MIGRATIONS[:before])
    old = Store(tmp_path / "paperscope.sqlite3")
    with old.transaction():
        old.conn.execute("INSERT INTO users (email, password_hash, role, created_at, feed_token, unsubscribe_token)"
                         " VALUES ('old@example.org', NULL, 'user', '2024-01-01T00:00:00Z', 'plainfeed123',"
                         " 'plainunsub456')")
    old.close()
    monkeypatch.setattr(db, "MIGRATIONS", schema.MIGRATIONS)
    store = Store(tmp_path / "paperscope.sqlite3")
    assert store.users.by_feed_token("plainfeed123").email == "old@example.org"
    assert store.users.by_unsubscribe_token("plainunsub456").email == "old@example.org"
    assert store.users.by_feed_token("plainunsub456") is None
    rows = store.conn.execute("SELECT feed_token, unsubscribe_token FROM users").fetchall()
    assert "plainfeed123" not in str(rows) and "plainunsub456" not in str(rows)
    assert "plainfeed123" not in str(store.conn.execute("SELECT * FROM tokens").fetchall())
