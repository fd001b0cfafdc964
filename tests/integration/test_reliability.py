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
import yaml

from pipelines import settings, warehouse
from pipelines.alerts import channels, rules
from pipelines.stages import alerts as alerts_stage
from pipelines.stages import ingest as ingest_stage
from tests.support import tmpfs
from tests.support.receivers import WebhookReceiver

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


# --- alerts: a real warehouse with one sound that crosses 10 creators, real receivers -------------------

SECRET = "whsec-Rel15-k3Yt9Qa"
ALERT_ENV = [
    channels.ENV_WEBHOOK_URL, channels.ENV_WEBHOOK_SECRET, channels.ENV_SMTP_HOST, channels.ENV_SMTP_PORT,
    channels.ENV_SMTP_USER, channels.ENV_SMTP_PASSWORD, channels.ENV_SMTP_FROM, channels.ENV_SMTP_TO,
    channels.ENV_SMTP_SECURITY, "AIRFLOW_CONN_TRENDTRACE_WEBHOOK", "AIRFLOW_CONN_TRENDTRACE_SMTP",
]
D1 = date(2024, 3, 1)


@pytest.fixture
def alert_env(pipeline_env, tmp_path, monkeypatch):
    """A warehouse where sound s1 crosses 10 creators on 2024-03-01; one rule, fast retries."""
    for key in ALERT_ENV:
        monkeypatch.delenv(key, raising=False)
    _landing, wh = pipeline_env
    config = tmp_path / "alerts.yaml"
    config.write_text(yaml.safe_dump({
        "rules": [{"name": "creators", "kind": "cumulative_creators", "levels": [10]}],
        "delivery": {"timeout_s": 2, "attempts_per_run": 3, "backoff_s": 0.01, "backoff_factor": 2,
                     "max_attempts": 30, "top_cascades": 2},
    }), encoding="utf-8")
    monkeypatch.setenv("TRENDTRACE_ALERTS_CONFIG", str(config))
    seed_sound(wh)
    return wh


def seed_sound(wh: Path, sound_id: str = "s1") -> None:
    con = warehouse.connect(wh)
    con.execute("INSERT INTO sounds (sound_id, origin_post_id, first_seen_at, title, duration_s, n_posts, merged_into) "
                "VALUES (?, 'p1', '2024-03-01 09:00', 'original sound', 14.2, 30, NULL)", [sound_id])
    con.execute("INSERT INTO sound_daily (sound_id, day, new_posts, new_creators, cum_posts, cum_creators, growth_7d, "
                "robust_z, stage) VALUES (?, ?, 14, 12, 14, 12, NULL, NULL, 'spark')", [sound_id, D1])
    con.close()


def alert_rows(wh: Path) -> list[dict]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        rel = con.sql("SELECT * FROM alerts ORDER BY alert_id")
        return [dict(zip(rel.columns, row, strict=False)) for row in rel.fetchall()]
    finally:
        con.close()


# --- 2. a redirect is not a delivery ---------------------------------------------------------------------


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirecting_webhook_is_never_marked_sent(alert_env, monkeypatch, code):
    with WebhookReceiver(redirect_status=code) as hook:
        monkeypatch.setenv(channels.ENV_WEBHOOK_URL, hook.url)
        monkeypatch.setenv(channels.ENV_WEBHOOK_SECRET, SECRET)
        result = alerts_stage.run(D1, "run-redirect")
    assert result.status == "success"
    # only POSTs to the configured path: the redirect target was never asked (no body-less GET)
    assert hook.methods and set(hook.methods) == {"POST"}
    assert {r.path for r in hook.requests} == {WebhookReceiver.PATH}
    [row] = alert_rows(alert_env)
    assert row["status"] != "sent" and row["delivered_at"] is None
    assert f"HTTP {code} redirect from http://127.0.0.1:{hook.port} to http://127.0.0.1:{hook.port} not followed" \
        in row["last_error"]
    assert "moved-secret" not in row["last_error"] and "/moved" not in row["last_error"]
    if code in (301, 308):  # moved for good: the URL must change, so no retry
        assert (row["status"], row["attempts"], len(hook.requests)) == ("failed", 1, 1)
    else:  # a failed attempt like a 5xx: retried within the run, then left pending for the next run
        assert (row["status"], row["attempts"], len(hook.requests)) == ("pending", 3, 3)


# --- 3. one bad line or byte does not quarantine a whole file ------------------------------------------


def test_ingest_keeps_good_records_next_to_an_array_line_and_a_bad_byte(pipeline_env):
    landing, wh = pipeline_env
    part = landing / "dt=2024-03-01"
    part.mkdir()
    (part / "items.jsonl").write_text("[1,2]\n" + web_line("a1") + "\n" + web_line("a2") + "\n", encoding="utf-8")
    bad_line = web_line("b2").replace('"desc": "x"', '"desc": "caf@"').encode().replace(b"caf@", b"caf\xe9")
    (part / "more.jsonl").write_bytes(web_line("b1").encode() + b"\n" + bad_line + b"\n" + web_line("b3").encode())
    result = ingest_stage.run(D1, "run-enc")
    assert (result.status, result.rows_in, result.rows_out) == ("success", 6, 4)
    con = duckdb.connect(str(wh), read_only=True)
    staged = sorted(r[0] for r in con.execute("SELECT post_id FROM stg_posts").fetchall())
    quarantined = con.execute("SELECT source_file, source_line, source_record, rule, raw FROM quarantine "
                              "ORDER BY source_file").fetchall()
    con.close()
    assert staged == ["a1", "a2", "b1", "b3"]
    assert quarantined == [
        ("items.jsonl", 1, 0, "not_an_object", "[1,2]"),
        ("more.jsonl", 2, 1, "bad_encoding", bad_line.decode("utf-8", errors="backslashreplace")),
    ]


# --- 4. delivery ids never repeat across warehouses ---------------------------------------------------------


def test_delivery_ids_are_stable_per_alert_and_unique_across_warehouses(alert_env, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.alerts.cli import app as alerts_cli

    rebuilt = tmp_path / "rebuilt" / "trendtrace.duckdb"
    seed_sound(rebuilt)
    with WebhookReceiver() as hook:
        monkeypatch.setenv(channels.ENV_WEBHOOK_URL, hook.url)
        alerts_stage.run(D1, "run-first")  # the original warehouse: alert 1
        monkeypatch.setenv(settings.ENV_WAREHOUSE, str(rebuilt))
        alerts_stage.run(D1, "run-rebuilt")  # a rebuilt warehouse: its alert is alert 1 too
        resent = CliRunner().invoke(alerts_cli, ["resend", "1", "--warehouse", str(rebuilt)])
        assert resent.exit_code == 0, resent.output
    first, second, again = (r.headers[channels.DELIVERY_HEADER] for r in hook.delivered)
    assert [a["alert_id"] for a in alert_rows(alert_env) + alert_rows(rebuilt)] == [1, 1]
    assert first != second  # a receiver deduplicating on the header keeps the rebuilt warehouse's alert
    assert again == second  # ... and still drops a resend of the same alert
    ids = {}
    for wh in (alert_env, rebuilt):
        con = duckdb.connect(str(wh), read_only=True)
        ids[wh] = con.execute("SELECT warehouse_id FROM warehouse_identity").fetchall()
        con.close()
    assert all(len(rows) == 1 for rows in ids.values())
    (wid1,), (wid2,) = ids[alert_env][0], ids[rebuilt][0]
    assert wid1 != wid2 and first.startswith(f"alert-{wid1}-") and second.startswith(f"alert-{wid2}-")
    assert first.removeprefix(f"alert-{wid1}-") == second.removeprefix(f"alert-{wid2}-")  # same natural key


def test_warehouse_identity_is_documented_and_names_its_writer(pipeline_env):
    ddl = (ROOT / "sql" / "schema" / "core" / "warehouse_identity.sql").read_text(encoding="utf-8")
    first_line = ddl.splitlines()[0]
    assert first_line.startswith("-- warehouse_identity: written by ") and "pipelines/alerts/outbox.py" in first_line
    _landing, wh = pipeline_env
    warehouse.connect(wh).close()
    con = duckdb.connect(str(wh), read_only=True)
    comments = con.execute("SELECT column_name, comment FROM duckdb_columns() "
                           "WHERE table_name = 'warehouse_identity'").fetchall()
    table_comment = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE table_name = 'warehouse_identity'"
    ).fetchall()
    con.close()
    assert table_comment[0][0] and all(comment for _, comment in comments) and len(comments) == 3


# --- 5. a webhook URL urllib rejects never leaks its token ---------------------------------------------------

TOKEN = "tok3n-Qx81-zzPLm"


def leak_free(*texts: str) -> bool:
    return not any(part in text for text in texts for part in (TOKEN, "tok3n", "zzPLm"))


def test_a_webhook_url_with_a_space_fails_the_stage_without_leaking_its_token(alert_env, monkeypatch, caplog, capfd):
    from types import SimpleNamespace

    from pipelines.alerts.notifier import on_failure
    from tests.support.receivers import SmtpReceiver

    caplog.set_level(logging.DEBUG)
    with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        url = f"{hook.url}/tok3n-Qx81 zzPLm"  # a stray space inside the token
        monkeypatch.setenv(channels.ENV_WEBHOOK_URL, url)
        monkeypatch.setenv(channels.ENV_SMTP_HOST, "127.0.0.1")
        monkeypatch.setenv(channels.ENV_SMTP_PORT, str(smtp.port))
        monkeypatch.setenv(channels.ENV_SMTP_TO, "ops@trendtrace.test")
        with pytest.raises(channels.ChannelConfigError) as caught:
            alerts_stage.run(D1, "run-leak")
        # what Airflow would do next: the failure notification, through the channel that still works
        on_failure({"task_instance": SimpleNamespace(dag_id="moment_to_movement", task_id="alerts", try_number=3),
                    "run_id": "run-leak", "exception": caught.value})
    error = str(caught.value)
    assert error.startswith(f"{channels.ENV_WEBHOOK_URL}: not a usable webhook URL: it contains a space at character")
    assert f"target http://127.0.0.1:{hook.port}" in error
    assert hook.requests == []  # nothing was sent to a URL that cannot be right
    con = duckdb.connect(str(alert_env), read_only=True)
    [(status, message)] = con.execute("SELECT status, message FROM pipeline_runs WHERE run_id = 'run-leak'").fetchall()
    con.close()
    assert status == "failed" and "not a usable webhook URL" in message
    [mail] = smtp.messages
    body = mail.get_payload(decode=True).decode()
    assert "not a usable webhook URL" in body
    out, err = capfd.readouterr()
    assert leak_free(error, message, body, str(mail), caplog.text, out, err)


def test_unexpected_delivery_errors_and_stage_errors_are_scrubbed_before_they_are_stored(alert_env, monkeypatch):
    from pipelines.runlog import StageFailed, stage_run

    with WebhookReceiver() as hook:
        channel = channels.WebhookChannel(url=f"{hook.url}/{TOKEN} x")  # as if built around validation
        outcome = channels.Sender(rules.Delivery(attempts_per_run=2, backoff_s=0)).send(
            channel, channels.Message("id", "alert", "s", "t", {}))
    assert not outcome.ok and outcome.permanent and outcome.attempts == 1
    assert "InvalidURL" in outcome.error and leak_free(outcome.error)

    monkeypatch.setenv(channels.ENV_WEBHOOK_URL, f"https://hooks.example.org/in/{TOKEN}")
    with pytest.raises(StageFailed) as caught, stage_run("alerts", D1, "run-scrub"):
        raise RuntimeError(
            f"POST https://hooks.example.org/in/{TOKEN} failed; retry https://u:{TOKEN}@x.org/?token=abc"
        )
    con = duckdb.connect(str(alert_env), read_only=True)
    [(message,)] = con.execute("SELECT message FROM pipeline_runs WHERE run_id = 'run-scrub'").fetchall()
    con.close()
    assert message == str(caught.value) == "RuntimeError: POST *** failed; retry https://***@x.org/?token=***"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


# --- 6. smaller ones ---------------------------------------------------------------------------------------


def test_a_slow_receiver_gets_one_copy_per_run_and_the_next_run_repeats_its_delivery_id(
    alert_env, tmp_path, monkeypatch
):
    config = tmp_path / "slow.yaml"
    config.write_text(yaml.safe_dump({
        "rules": [{"name": "creators", "kind": "cumulative_creators", "levels": [10]}],
        "delivery": {"timeout_s": 0.3, "attempts_per_run": 3, "backoff_s": 0.01, "max_attempts": 30},
    }), encoding="utf-8")
    monkeypatch.setenv("TRENDTRACE_ALERTS_CONFIG", str(config))
    with WebhookReceiver(delay_s=5) as hook:  # answers long after our timeout, but does receive the alert
        monkeypatch.setenv(channels.ENV_WEBHOOK_URL, hook.url)
        alerts_stage.run(D1, "run-slow")
        assert len(hook.requests) == 1  # one full copy this run, not one per attempt
        [row] = alert_rows(alert_env)
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert "not retried in this run" in row["last_error"] and "dedupe" in row["last_error"]
        hook.delay_s = 0
        alerts_stage.run(D1, "run-next")
    assert len(hook.requests) == 2
    first, second = (r.headers[channels.DELIVERY_HEADER] for r in hook.requests)
    assert first == second  # the receiver can drop the repeat
    [row] = alert_rows(alert_env)
    assert (row["status"], row["attempts"]) == ("sent", 2)


def test_a_failed_publish_leaves_no_tmp_file_and_is_recorded(pipeline_env):
    from pipelines.stages import publish

    _landing, wh = pipeline_env
    warehouse.connect(wh).close()
    target = publish.published_path(wh)
    target.mkdir(parents=True)  # something that is not a file holds the published name: os.replace fails
    (target / "keep").write_text("x", encoding="utf-8")
    with pytest.raises(IsADirectoryError):
        publish.run(D1, "run-publish")
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no trendtrace.duckdb.tmp
    con = duckdb.connect(str(wh), read_only=True)
    [(status,)] = con.execute("SELECT status FROM pipeline_runs WHERE run_id = 'run-publish'").fetchall()
    con.close()
    assert status == "failed"


def test_big_csv_fields_load_and_quarantine_keeps_a_huge_record_in_full(pipeline_env):
    landing, wh = pipeline_env
    part = landing / "dt=2024-03-01"
    part.mkdir()
    caption = "na " * 60_000  # 180 000 characters
    header = "post_id,created_at,author,caption,music_id,music_title,media_path"
    (part / "posts.csv").write_text(f'{header}\nc1,2024-03-01T10:00:00Z,ann,"{caption}",m1,t,\n', encoding="utf-8")
    huge = '{"id": "j1", "desc": "' + "y" * (1024 * 1024 + 10)  # over 1 MiB, never closed
    (part / "items.jsonl").write_text(huge + "\n" + web_line("j2") + "\n", encoding="utf-8")
    ingest_stage.run(D1, "run-big")
    con = duckdb.connect(str(wh), read_only=True)
    staged = con.execute("SELECT post_id, length(caption) FROM stg_posts ORDER BY post_id").fetchall()
    quarantined = con.execute("SELECT rule, length(raw), raw = ? FROM quarantine", [huge]).fetchall()
    con.close()
    assert staged == [("c1", len(caption)), ("j2", 1)]
    assert quarantined == [("malformed_json", len(huge), True)]


def test_a_30_minute_file_reports_its_real_duration_not_the_decoders_stop(tmp_path):
    from pipelines.audio.analysis import MAX_DECODE_SECONDS, analyse_file

    long_file = tmp_path / "long.m4a"  # 30 minutes of a quiet tone, encoded by the real ffmpeg
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=8000:duration=1800", "-ac", "1", "-c:a", "aac", "-b:a", "16k",
                    f"file:{long_file}"], check=True)
    result = analyse_file(long_file)
    assert result.decoded and result.error is None
    assert result.duration_s > MAX_DECODE_SECONDS
    assert result.duration_s == pytest.approx(1800, abs=1.0)


HOLD_LOCK = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
con.close()
"""


def test_a_locked_warehouse_is_reported_while_waiting_and_recorded_once_it_is_free(pipeline_env, monkeypatch, caplog):
    from pipelines.runlog import WarehouseLocked

    _landing, wh = pipeline_env
    warehouse.connect(wh).close()
    monkeypatch.setenv("TRENDTRACE_LOCK_WAIT_S", "1")
    caplog.set_level(logging.WARNING)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(wh)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        with pytest.raises(WarehouseLocked) as caught:
            ingest_stage.run(D1, "run-locked")
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert f"was locked by process {holder.pid}" in str(caught.value)
    assert "ingest did not run for 2024-03-01" in str(caught.value)
    assert f"warehouse {wh} is locked by process {holder.pid}; waiting" in caplog.text  # not silent
    ingest_stage.run(D1, "run-after")  # the next stage that gets in records the locked run too
    con = duckdb.connect(str(wh), read_only=True)
    runs = con.execute("SELECT run_id, task, status, message FROM pipeline_runs ORDER BY started_at").fetchall()
    con.close()
    assert [(r[0], r[1], r[2]) for r in runs] == [
        ("run-locked", "ingest", "failed"), ("run-after", "ingest", "no_data")
    ]
    assert runs[0][3].startswith("WarehouseLocked:")
    assert not list((wh.parent / "pending_runs").glob("*.json"))


@pytest.fixture
def small_disk(tmp_path):
    """A real 8 MiB file system (tmpfs) to fill up; skipped where mounting is not allowed."""
    with tmpfs.mounted(tmp_path / "disk") as mount_point:
        yield mount_point


def fill(folder: Path, leave: int) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def test_a_full_disk_is_named_and_the_failed_run_recorded_once_there_is_room(small_disk, tmp_path, monkeypatch):
    from pipelines.runlog import WarehouseDiskFull

    landing = tmp_path / "landing"
    part = landing / "dt=2024-03-01"
    part.mkdir(parents=True)
    rows = [web_line(f"p{i}").replace('"desc": "x"', f'"desc": "{"x" * 300}{i}"') for i in range(4000)]
    (part / "items.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    wh = small_disk / "trendtrace.duckdb"
    monkeypatch.setenv(settings.ENV_LANDING, str(landing))
    monkeypatch.setenv(settings.ENV_WAREHOUSE, str(wh))
    warehouse.connect(wh).close()
    filler = fill(small_disk, leave=256 * 1024)  # room to open the warehouse, not for the day's rows

    with pytest.raises(WarehouseDiskFull) as caught:
        ingest_stage.run(D1, "run-full")
    text = str(caught.value)
    assert text.startswith(f"WarehouseDiskFull: no space left on the device holding {wh}")
    assert "No space left on device" in text and "free space, then rerun the day" in text

    filler.unlink()
    ingest_stage.run(D1, "run-roomy")
    con = duckdb.connect(str(wh), read_only=True)
    runs = con.execute("SELECT run_id, status, message FROM pipeline_runs ORDER BY started_at").fetchall()
    posts = con.execute("SELECT count(*) FROM stg_posts").fetchall()[0][0]
    con.close()
    assert [(r[0], r[1]) for r in runs] == [("run-full", "failed"), ("run-roomy", "success")]
    assert runs[0][2].startswith("WarehouseDiskFull:")
    assert posts == 4000


def test_an_unrelated_duckdb_error_raised_while_handling_enospc_does_not_hide_it(pipeline_env):
    from pipelines.runlog import WarehouseDiskFull, stage_run

    _landing, wh = pipeline_env

    def enospc_then_unrelated_error() -> None:
        try:
            with open("/dev/full", "wb") as full:  # the kernel's own ENOSPC
                full.write(b"wal frame")
                full.flush()
        except OSError:
            raise duckdb.ConnectionException("Connection Error: Connection already closed!")  # noqa: B904

    with pytest.raises(WarehouseDiskFull) as caught, stage_run("alerts", D1, "run-masked"):
        enospc_then_unrelated_error()
    assert "No space left on device" in str(caught.value) and "ConnectionException" not in str(caught.value)
    con = duckdb.connect(str(wh), read_only=True)
    [(status, message)] = con.execute("SELECT status, message FROM pipeline_runs").fetchall()
    con.close()
    assert status == "failed" and message.startswith("WarehouseDiskFull:") and "OSError: [Errno 28]" in message
