"""Scheduled updates: the schedule is read strictly, and a real server runs updates, logs them and serves them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import pytest
import requests

from paperscope.errors import UsageError
from paperscope.schedule import Schedule, next_run, parse_schedule
from serving import free_port

DATA = Path(__file__).parent / "data"
NOON = datetime(2026, 8, 21, 12, 0, tzinfo=UTC)


def test_schedules_are_parsed_and_bad_ones_say_what_works():
    assert parse_schedule("daily 06:00") == Schedule(at=clock(6, 0))
    assert parse_schedule("  Every 6h ") == Schedule(every=timedelta(hours=6))
    assert parse_schedule("every 30 minutes") == Schedule(every=timedelta(minutes=30))
    assert parse_schedule("hourly") == Schedule(every=timedelta(hours=1))
    assert parse_schedule("") is None and parse_schedule("off") is None
    assert str(parse_schedule("daily 6:05")) == "daily 06:05 UTC" and str(parse_schedule("every 90m")) == "every 90m"
    for bad in ("daily 25:00", "weekly", "every 1s", "every -5m", "daily 06:00; rm -rf /"):
        with pytest.raises(UsageError, match="'daily 06:00'"):
            parse_schedule(bad)


def test_next_run_is_today_or_tomorrow_or_one_interval_on():
    assert next_run(Schedule(at=clock(6, 0)), NOON) == datetime(2026, 8, 22, 6, 0, tzinfo=UTC)
    assert next_run(Schedule(at=clock(18, 30)), NOON) == datetime(2026, 8, 21, 18, 30, tzinfo=UTC)
    every = Schedule(every=timedelta(hours=6))
    assert next_run(every, NOON) == NOON + timedelta(hours=6)
    assert next_run(every, NOON, last_start=NOON - timedelta(hours=2)) == NOON + timedelta(hours=4)
    assert next_run(every, NOON, last_start=NOON - timedelta(hours=9)) == NOON  # overdue: now



def test_server_runs_scheduled_updates_logs_them_and_serves_the_new_papers(new_sample_home):
    home = new_sample_home()
    run = [sys.executable, "-m", "paperscope", "--data-dir", str(home)]
    port = free_port()
    args = f"file {DATA / 'papers.csv'}"
    proc = subprocess.Popen(run + ["serve", "--port", str(port), "--schedule", "every 5s", "--update-args", args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        status = {}
        while time.monotonic() < deadline:
            try:
                status = requests.get(url + "/api/status", timeout=5).json()
                if len(status["runs"]) >= 2:  # one that ingested the file, one that found nothing new
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        assert status.get("schedule") == "every 5s", status
        first, second = status["runs"][-1], status["runs"][-2]
        assert (first["status"], first["added"], first["embedded"]) == ("changed", 2, 2), first
        assert second["status"] == "unchanged" and second["added"] == 0
        assert status["papers"] == 566 and status["indexedVectors"] == 566  # the engine was reopened
        hits = requests.get(url + "/api/search", params={"q": "reciprocal rank fusion"}).json()["hits"]
        assert hits[0]["paper"]["id"] == "2405.00002"
        page = requests.get(url + "/status").text
        assert "every 5s" in page and 'id="last-status"' in page
        logged = [json.loads(line) for line in (home / "logs" / "updates.jsonl").read_text().splitlines()]
        assert logged[0]["args"] == args and logged[0]["status"] == "changed"
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    assert "scheduled update" in out and "changed (added 2" in out


def test_a_bad_schedule_stops_serve_with_a_clear_error(tmp_path):
    from click.testing import CliRunner

    from paperscope.cli import main

    r = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "serve", "--schedule", "weekly"])
    assert r.exit_code != 0 and "'daily 06:00'" in r.stderr


def test_an_update_ended_by_a_signal_is_logged_with_a_reason(tmp_path, monkeypatch):
    import subprocess

    from paperscope.config import load_settings
    from paperscope.web import scheduler

    settings = load_settings(tmp_path / "home", environ={})
    monkeypatch.setattr(subprocess, "run", lambda argv, **kw: subprocess.CompletedProcess(argv, -15, "", ""))
    run = scheduler.run_update(settings, "")
    assert run.status == "failed" and run.exit_code == -15 and "stopped by signal 15" in run.message
    assert scheduler.last_runs(settings.home, 1)[0].message == run.message  # /status shows why
