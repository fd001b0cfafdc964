"""Issue 15, "no silent loss, no false 'sent'": each case on real folders, real files, a real DuckDB file and
real receivers on 127.0.0.1. No test asserts on elapsed time (a slow receiver is judged by its attempts).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import settings, warehouse
from pipelines.stages import ingest as ingest_stage

CLI = [sys.executable, "-m", "pipelines.cli"]
ROOT = Path(__file__).resolve().parent.parent.parent
INVALID = ("dt=2024-02-30", "dt=2024-3-1", "dt=20240302")


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


def flat(text: str) -> str:
    """Text without rich's panel borders and line wrapping."""
    return " ".join(text.replace("│", " ").split())


def web_line(pid: str, day: str = "2024-03-01") -> str:
    return json.dumps({"id": pid, "createTime": f"{day}T10:00:00Z", "desc": "x", "author": {"uniqueId": "ann"},
                       "music": {"id": "m1", "title": "t"}, "stats": {"playCount": 1}})


@pytest.fixture
def invalid_landing(pipeline_env):
    """Two valid partitions with one record each, and three dt= folders that name no day."""
    landing, wh = pipeline_env
    for day in ("2024-03-01", "2024-03-02"):
        (landing / f"dt={day}").mkdir()
        (landing / f"dt={day}" / "items.jsonl").write_text(web_line(f"p{day[-1]}", day) + "\n", encoding="utf-8")
    for name in INVALID:
        (landing / name).mkdir()
        (landing / name / "items.jsonl").write_text(web_line("lost") + "\n", encoding="utf-8")
    return landing, wh


# --- 1. partition folders that are not a real date -----------------------------------------------------


def test_invalid_partitions_are_listed_by_days_and_refused_by_backfill(invalid_landing):
    landing, wh = invalid_landing
    assert settings.landing_days(landing) == [date(2024, 3, 1), date(2024, 3, 2)]
    assert [p.name for p in settings.invalid_partitions(landing)] == sorted(INVALID)

    days = cli("days", "--landing", str(landing))
    assert days.returncode == 1
    assert days.stdout.split() == ["2024-03-01", "2024-03-02"]  # stdout stays a clean list of days
    for name in INVALID:
        assert f"invalid partition {name}" in days.stderr
    assert "not a calendar date" in days.stderr and "YYYY-MM-DD" in days.stderr

    backfill = cli("backfill", "--landing", str(landing), "--warehouse", str(wh))
    assert backfill.returncode == 2, backfill.stdout + backfill.stderr
    text = backfill.stdout + backfill.stderr
    assert "backfill refused" in text and all(name in text for name in INVALID)
    assert "Traceback" not in text
    assert not wh.exists()  # refused before anything ran


@pytest.mark.parametrize("bad", ["2024-02-30", "2024-3-1", "20240301"])
def test_run_with_an_invalid_date_is_a_clear_usage_error(pipeline_env, bad):
    landing, wh = pipeline_env
    proc = cli("run", "--date", bad, "--landing", str(landing), "--warehouse", str(wh))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"Invalid value for --date: --date {bad!r} is not a" in flat(proc.stderr)
    assert "YYYY-MM-DD" in proc.stderr or "calendar date" in proc.stderr
    assert not wh.exists()


def test_schedule_and_every_ingest_row_name_invalid_partitions_and_status_shows_them(invalid_landing, caplog):
    landing, wh = invalid_landing
    caplog.set_level(logging.WARNING)
    assert settings.dag_start_date() == date(2024, 3, 1) and settings.dag_end_date() == date(2024, 3, 2)
    assert "dt=2024-02-30" in caplog.text and "dt=2024-3-1" in caplog.text  # the DAG's parse says so

    (landing / "dt=2024-03-02" / "garbage.bin").write_bytes(b"\x00\x01 not an export")
    for day in (date(2024, 3, 1), date(2024, 3, 2)):
        result = ingest_stage.run(day, "run-invalid")
        assert result.status == "success"
        assert "3 invalid partition folder(s) not processed: dt=2024-02-30, dt=2024-3-1, dt=20240302" in result.message
    con = duckdb.connect(str(wh), read_only=True)
    messages = [m for (m,) in con.execute("SELECT message FROM pipeline_runs").fetchall()]
    con.close()
    assert len(messages) == 2 and all("dt=2024-02-30" in m for m in messages)

    status = cli("status", "--landing", str(landing), "--warehouse", str(wh))
    assert status.returncode == 0, status.stderr[-3000:]
    page = status.stdout
    assert "Invalid partitions" in page and all(name in page for name in INVALID)
    assert "Degraded days" in page
    assert "unreadable files: garbage.bin (unknown_format)" in page  # a whole file lost on 2024-03-02
    assert "never ran: validate" in page  # only ingest ran
