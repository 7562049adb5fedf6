"""A lab's week in a minute: serve, cron, CLI commands, backups and web members on one data directory, with kill -9.

The short version of bench/soak.py (same code, ~25 s a phase): phase a is `serve --workers 2` with `update` run as
cron would, phase b a single-worker `serve --schedule "every 5s"`; beside the server, a loop of CLI commands and
web writers, while the server, its workers, CLI commands and scheduled updates are killed and the server restarted.
Correctness only, never wall time: every acknowledged write is found after a final restart, the database passes
its integrity check, no WAL or shm file is ever deleted under the live server, and nothing answers 5xx.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from soak import report, run_soak  # noqa: E402

MUST_HAPPEN = ("signup", "library_save", "tag_rename", "upvote", "comment", "submission", "token", "user_add",
               "ingest_file", "searchable", "backup")


def test_a_lab_week_of_writes_survives_kill_9_and_restarts(new_sample_home, tmp_path):
    result = run_soak(new_sample_home(), tmp_path / "work", seconds=25, seed=22)
    summary = report(result) + "\n" + json.dumps({k: result[k] for k in (
        "anomalies", "cli_failures", "scheduled_failures", "deleted_db_files", "stale_tokens_accepted",
        "server_log_errors")}, indent=1, default=str)[:6000]
    lost = {k: c for k, c in result["writes"].items() if c["found"] != c["acknowledged"]}
    assert not lost, summary
    assert result["integrity_check"] == "ok", summary
    assert result["deleted_db_files"] == [], summary
    assert result["http"]["5xx_outside_kills"] == 0, summary
    assert result["stale_tokens_accepted"] == [], summary
    assert result["anomalies"] == [] and result["cli_failures"] == [], summary
    assert result["scheduled_failures"] == [], summary
    # the soak did what it says: kills and restarts in both phases, and each kind of write acknowledged
    assert result["kills"].get("server", 0) >= 2 and result["restarts"] >= 2, summary
    assert all(result["writes"][k]["acknowledged"] > 0 for k in MUST_HAPPEN), summary
    assert result["fd_samples"] > 0 and result["papers"]["sqlite"] == result["papers"]["server_api_stats"], summary
