"""The alerts stage end to end on a real DuckDB file, delivering to real receivers on 127.0.0.1.

Exactly once: a flaky webhook gets one delivery after 3 attempts; a webhook down for a whole run leaves
the alert pending and the next day's run delivers it; reruns and backfills send nothing twice; each
channel confirms separately. Also: SMTP e-mail, the signature, the secret in no log, the Airflow
connection path, the CLI, and the task-failure notifier.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from pipelines import warehouse
from pipelines.alerts import channels
from pipelines.alerts.cli import app as alerts_cli
from pipelines.alerts.messages import alert_delivery_id
from pipelines.alerts.notifier import on_failure, send_degraded_notice
from pipelines.stages import alerts as alerts_stage
from tests.support.receivers import SmtpReceiver, WebhookReceiver, free_port

D0 = date(2024, 3, 1)
SECRET = "whsec-Zq8v4LkP2mN7xR1t"
SMTP_PASSWORD = "smtp-pw-H5j9Kq2w"
ENV_KEYS = [
    channels.ENV_WEBHOOK_URL, channels.ENV_WEBHOOK_SECRET, channels.ENV_SMTP_HOST, channels.ENV_SMTP_PORT,
    channels.ENV_SMTP_USER, channels.ENV_SMTP_PASSWORD, channels.ENV_SMTP_FROM, channels.ENV_SMTP_TO,
    channels.ENV_SMTP_SECURITY, "AIRFLOW_CONN_TRENDTRACE_WEBHOOK", "AIRFLOW_CONN_TRENDTRACE_SMTP",
]


def d(i: int) -> date:
    return D0 + timedelta(i)


@pytest.fixture
def env(pipeline_env, tmp_path, monkeypatch):
    """A fresh warehouse, no channel configured, an alerts config with fast retries (one rule unless extended)."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    _landing, wh = pipeline_env
    config = tmp_path / "alerts.yaml"

    def write_config(rules=None, **delivery):
        doc = {
            "rules": rules or [{"name": "creators", "kind": "cumulative_creators", "levels": [10, 100]}],
            "delivery": {"timeout_s": 2, "attempts_per_run": 3, "backoff_s": 0.01, "backoff_factor": 2,
                         "max_attempts": 30, "top_cascades": 2, **delivery},
        }
        config.write_text(yaml.safe_dump(doc), encoding="utf-8")

    write_config()
    monkeypatch.setenv("TRENDTRACE_ALERTS_CONFIG", str(config))
    return SimpleNamespace(warehouse=wh, write_config=write_config)


def seed(wh, days: int = 6) -> None:
    """Two sounds as the adoption stage leaves them: s1 crosses 10 creators on day 2 and 100 on day 4;
    s2 stays small. Cascades for s1 so the payload has top cascades."""
    con = warehouse.connect(wh)
    con.execute(
        "INSERT INTO sounds (sound_id, origin_post_id, first_seen_at, title, duration_s, n_posts, merged_into) VALUES "
        "('s1', 'p100', '2024-03-01 09:00', 'original sound - dancequeen', 14.2, 180, NULL), "
        "('s2', 'p200', '2024-03-01 10:00', 'lofi loop', 30.0, 4, NULL)"
    )
    series = {"s1": [2, 3, 7, 40, 60, 5, 9, 4], "s2": [1, 1, 0, 1, 0, 0, 1, 0]}
    for sound_id, counts in series.items():
        cum = 0
        for i, n in enumerate(counts[:days]):
            cum += n
            stage = "trend" if cum >= 50 else ("spark" if cum >= 2 else "moment")
            con.execute(
                "INSERT INTO sound_daily (sound_id, day, new_posts, new_creators, cum_posts, cum_creators, "
                "growth_7d, robust_z, stage) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?)",
                [sound_id, d(i), n + 2, n, cum * 2, cum, stage],
            )
    con.execute(
        "INSERT INTO cascades (root_post_id, sound_id, size, creators, depth, max_breadth, structural_virality, "
        "first_seen, last_seen, n_duets, n_stitches, n_reuses, n_reuploads, root_observed) VALUES "
        "('p100', 's1', 60, 48, 3, 20, 2.4, '2024-03-01 09:00', '2024-03-05 22:00', 10, 5, 44, 0, true), "
        "('p150', 's1', 12, 11, 1, 11, 1.8, '2024-03-03 12:00', '2024-03-05 20:00', 0, 0, 11, 0, true), "
        "('p170', 's1', 3, 3, 1, 2, 1.3, '2024-03-04 08:00', '2024-03-05 08:00', 0, 0, 2, 0, true)"
    )
    con.close()


def alerts(wh) -> list[dict]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        rel = con.sql("SELECT * FROM alerts ORDER BY alert_id")
        cols = rel.columns
        return [dict(zip(cols, row, strict=False)) for row in rel.fetchall()]
    finally:
        con.close()


def use_webhook(monkeypatch, url: str, secret: str | None = SECRET) -> None:
    monkeypatch.setenv(channels.ENV_WEBHOOK_URL, url)
    if secret:
        monkeypatch.setenv(channels.ENV_WEBHOOK_SECRET, secret)


def use_smtp(monkeypatch, smtp: SmtpReceiver) -> None:
    monkeypatch.setenv(channels.ENV_SMTP_HOST, "127.0.0.1")
    monkeypatch.setenv(channels.ENV_SMTP_PORT, str(smtp.port))
    monkeypatch.setenv(channels.ENV_SMTP_FROM, "alerts@trendtrace.test")
    monkeypatch.setenv(channels.ENV_SMTP_TO, "analyst@trendtrace.test, lead@trendtrace.test")


def test_empty_sound_daily_records_success_with_no_alerts(env):
    result = alerts_stage.run(D0, "run-empty")
    assert (result.status, result.rows_in, result.rows_out) == ("success", 0, 0)
    con = duckdb.connect(str(env.warehouse), read_only=True)
    runs = con.execute("SELECT task, status, rows_out FROM pipeline_runs WHERE run_id = 'run-empty'").fetchall()
    con.close()
    assert runs == [("alerts", "success", 0)]
    assert alerts(env.warehouse) == []


def test_flaky_webhook_gets_exactly_one_signed_delivery_and_secret_is_never_logged(
    env, monkeypatch, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    env.write_config(rules=[{"name": "creators", "kind": "cumulative_creators", "levels": [10]}])
    seed(env.warehouse)
    with WebhookReceiver(fail_first=2) as hook:
        use_webhook(monkeypatch, hook.url)
        result = alerts_stage.run(d(5), "run-1")
        rerun = alerts_stage.run(d(5), "run-2")

    assert result.status == "success" and result.rows_out == 1 and rerun.rows_out == 0
    assert len(hook.requests) == 3 and len(hook.delivered) == 1  # two 500s, then one 200, nothing on rerun
    [row] = alerts(env.warehouse)
    assert (row["sound_id"], row["rule"], row["level"], row["day"]) == ("s1", "creators", 10, d(2))
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 3, None)
    assert row["delivered_at"] is not None

    got = hook.delivered[0]
    body = got.json()
    assert body == json.loads(row["payload"])
    assert body["event"] == "alert" and body["title"] == "original sound - dancequeen"
    assert (body["rule"], body["level"], body["value"], body["day"]) == ("creators", 10, 12.0, "2024-03-03")
    # cascades begun by the crossing day, largest first, at most top_cascades
    assert [c["root_post_id"] for c in body["top_cascades"]] == ["p100", "p150"]
    # the alert's row in the daily report publish writes for the day it crossed, and what to run next
    assert body["report"].endswith(f"published/reports/report-{body['day']}.html#alert-{body['alert_id']}")
    assert body["sound_command"] == f"trendtrace sound {body['sound_id']}"
    assert body["lineage_command"] == f"trendtrace lineage {body['top_cascades'][0]['root_post_id']}"
    con = duckdb.connect(str(env.warehouse), read_only=True)
    [(warehouse_id,)] = con.execute("SELECT warehouse_id FROM warehouse_identity").fetchall()
    con.close()
    assert got.headers[channels.DELIVERY_HEADER] == alert_delivery_id(warehouse_id, "s1", "creators", 10)
    assert got.headers[channels.SIGNATURE_HEADER] == channels.signature(SECRET, got.body)
    assert got.headers[channels.SIGNATURE_HEADER] != channels.signature("wrong-secret", got.body)

    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "attempt 1/3" in logged and "delivered via webhook" in logged  # the logs were captured
    assert SECRET not in logged and "/hooks/trendtrace" not in logged
    con = duckdb.connect(str(env.warehouse), read_only=True)
    stored = (
        str(con.execute("SELECT * FROM alerts").fetchall()) + str(con.execute("SELECT * FROM pipeline_runs").fetchall())
    )
    con.close()
    assert SECRET not in stored


def test_webhook_down_for_a_whole_run_is_delivered_by_the_next_days_run(env, monkeypatch):
    seed(env.warehouse, days=4)  # day 3 has cum 52: only level 10 crossed so far
    port = free_port()
    use_webhook(monkeypatch, f"http://127.0.0.1:{port}/hooks/trendtrace")
    first = alerts_stage.run(d(3), "run-d3")  # nothing listens on the port
    [row] = alerts(env.warehouse)
    assert first.status == "success"
    assert (row["level"], row["status"], row["attempts"]) == (10, "pending", 3)
    assert "unreachable" in row["last_error"] and row["delivered_at"] is None

    seed_more = warehouse.connect(env.warehouse)  # the next day's adoption: s1 passes 100
    seed_more.execute(
        "INSERT INTO sound_daily (sound_id, day, new_posts, new_creators, cum_posts, cum_creators, growth_7d, "
        "robust_z, stage) VALUES ('s1', ?, 62, 60, 224, 112, NULL, NULL, 'trend')", [d(4)]
    )
    seed_more.close()
    with WebhookReceiver(port=port) as hook:  # the receiver is back, same URL
        second = alerts_stage.run(d(4), "run-d4")
    assert second.rows_out == 1
    assert [r.json()["level"] for r in hook.delivered] == [10, 100]  # the backlog first, then today's
    assert [(r["level"], r["status"], r["attempts"], r["last_error"]) for r in alerts(env.warehouse)] == [
        (10, "sent", 4, None), (100, "sent", 1, None),
    ]


def test_a_channel_down_is_not_retried_for_every_alert_of_the_run(env, monkeypatch):
    seed(env.warehouse)  # two alerts: s1 crossed 10 and 100
    with WebhookReceiver(fail_first=1000, fail_status=503) as hook:
        use_webhook(monkeypatch, hook.url)
        alerts_stage.run(d(5), "run-1")
        assert len(hook.requests) == 3  # the first alert's 3 attempts; the second waits for the next run
        first, second = alerts(env.warehouse)
        assert (first["status"], first["attempts"]) == ("pending", 3) and "HTTP 503" in first["last_error"]
        assert (second["status"], second["attempts"]) == ("pending", 0) and "not tried" in second["last_error"]
        hook.fail_first = 0
        alerts_stage.run(d(6), "run-2")
    assert [r.json()["level"] for r in hook.delivered] == [10, 100]
    assert [(r["status"], r["attempts"]) for r in alerts(env.warehouse)] == [("sent", 4), ("sent", 1)]


def test_email_is_sent_and_each_channel_confirms_separately(env, monkeypatch):
    env.write_config(rules=[{"name": "creators", "kind": "cumulative_creators", "levels": [10]}])
    seed(env.warehouse)
    port = free_port()
    use_webhook(monkeypatch, f"http://127.0.0.1:{port}/hooks/trendtrace")
    with SmtpReceiver() as smtp:
        use_smtp(monkeypatch, smtp)
        alerts_stage.run(d(5), "run-1")  # webhook down, e-mail up
        [row] = alerts(env.warehouse)
        assert row["status"] == "pending" and row["last_error"].startswith("webhook:")
        assert len(smtp.messages) == 1
        with WebhookReceiver(port=port) as hook:
            alerts_stage.run(d(6), "run-2")
            alerts_stage.run(d(6), "run-3")
        assert len(hook.delivered) == 1
        assert len(smtp.messages) == 1  # e-mail had confirmed: not sent again when the webhook was retried

    [row] = alerts(env.warehouse)
    assert (row["status"], row["attempts"]) == ("sent", 5)  # 3 webhook + 1 e-mail, then 1 webhook
    mail = smtp.messages[0]
    assert mail["Subject"] == "[trendtrace] original sound - dancequeen: cum_creators >= 10 on 2024-03-03"
    assert mail["From"] == "alerts@trendtrace.test"
    assert smtp.envelopes[0][1] == ["analyst@trendtrace.test", "lead@trendtrace.test"]
    body = mail.get_payload(decode=True).decode()
    assert "Sound s1 (original sound - dancequeen) crossed a line on 2024-03-03" in body
    assert "rule:      creators (cumulative_creators)" in body
    assert "p100: 60 posts, 48 creators, depth 3" in body


def test_reruns_and_backfills_never_send_twice(env, monkeypatch):
    env.write_config(rules=[
        {"name": "creators", "kind": "cumulative_creators", "levels": [10, 100]},
        {"name": "stage", "kind": "stage_change", "to": ["trend", "movement"]},
    ])
    seed(env.warehouse)
    con = warehouse.connect(env.warehouse)
    con.execute("INSERT INTO sound_stage_changes VALUES ('s1', ?, NULL, 'moment'), ('s1', ?, 'moment', 'spark'), "
                "('s1', ?, 'spark', 'trend')", [d(0), d(1), d(3)])
    con.close()
    with WebhookReceiver() as hook:
        use_webhook(monkeypatch, hook.url)
        for i in range(6):  # a backfill over the range
            alerts_stage.run(d(i), f"backfill-{i}")
        for i in (4, 5, 4):  # an overlapping backfill, then a rerun of one day
            alerts_stage.run(d(i), f"again-{i}")
    rows = alerts(env.warehouse)
    assert sorted((r["rule"], r["level"], r["day"]) for r in rows) == [
        ("creators", 10, d(2)), ("creators", 100, d(4)), ("stage", 3, d(3)),
    ]
    ids = [r.headers[channels.DELIVERY_HEADER] for r in hook.requests]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in rows)


def test_no_channel_keeps_alerts_pending_until_an_airflow_connection_appears(env, monkeypatch):
    seed(env.warehouse)
    alerts_stage.run(d(5), "run-1")
    rows = alerts(env.warehouse)
    assert len(rows) == 2
    assert all(r["status"] == "pending" and "no channel configured" in r["last_error"] for r in rows)
    assert all(r["attempts"] == 0 for r in rows)
    with WebhookReceiver() as hook:
        # Airflow's own form: AIRFLOW_CONN_<ID> as a URI (password = signing secret, path = endpoint)
        monkeypatch.setenv("AIRFLOW_CONN_TRENDTRACE_WEBHOOK", f"http://:{SECRET}@127.0.0.1:{hook.port}/hooks/trendtrace")
        alerts_stage.run(d(5), "run-2")
    assert [r.path for r in hook.delivered] == ["/hooks/trendtrace"] * 2
    assert all(r.headers[channels.SIGNATURE_HEADER] == channels.signature(SECRET, r.body) for r in hook.delivered)
    assert [r["status"] for r in alerts(env.warehouse)] == ["sent", "sent"]


def test_rejection_fails_without_retry_and_the_cli_lists_and_resends(env, monkeypatch):
    env.write_config(rules=[{"name": "creators", "kind": "cumulative_creators", "levels": [10]}])
    seed(env.warehouse)
    runner = CliRunner()
    with WebhookReceiver(fail_first=1, fail_status=400) as hook:
        use_webhook(monkeypatch, hook.url)
        alerts_stage.run(d(5), "run-1")
        [row] = alerts(env.warehouse)
        assert (row["status"], row["attempts"], len(hook.requests)) == ("failed", 1, 1)
        assert "HTTP 400" in row["last_error"]

        listed = runner.invoke(alerts_cli, ["list", "--status", "failed", "--warehouse", str(env.warehouse)])
        assert listed.exit_code == 0, listed.output
        assert "dancequeen" in listed.output and "HTTP 400" in listed.output
        empty = runner.invoke(alerts_cli, ["list", "--day", "2024-03-04", "--warehouse", str(env.warehouse)])
        assert empty.exit_code == 0 and "dancequeen" not in empty.output

        alerts_stage.run(d(5), "run-2")  # a failed alert is not retried by the daily run
        assert len(hook.requests) == 1
        resent = runner.invoke(alerts_cli, ["resend", str(row["alert_id"]), "--warehouse", str(env.warehouse)])
        assert resent.exit_code == 0, resent.output
        assert f"alert {row['alert_id']}: sent" in resent.output
        assert len(hook.delivered) == 1
        missing = runner.invoke(alerts_cli, ["resend", "999", "--warehouse", str(env.warehouse)])
        assert missing.exit_code == 1 and "no alert with id 999" in missing.output
    [row] = alerts(env.warehouse)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)


def test_task_failure_notifier_sends_through_both_channels(env, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(channels.ENV_SMTP_USER, "")
    with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        use_webhook(monkeypatch, hook.url)
        use_smtp(monkeypatch, smtp)
        ti = SimpleNamespace(dag_id="moment_to_movement", task_id="fingerprint", run_id="manual__2024-03-02",
                             try_number=3, log_url="http://127.0.0.1:8080/log")
        on_failure({"task_instance": ti, "run_id": "manual__2024-03-02",
                    "logical_date": datetime(2024, 3, 2), "exception": RuntimeError("ffmpeg exited 1\ntraceback...")})
    [got] = hook.delivered
    assert got.headers[channels.EVENT_HEADER] == "task_failed"
    assert got.headers[channels.SIGNATURE_HEADER] == channels.signature(SECRET, got.body)
    assert got.json() == {
        "event": "task_failed", "dag_id": "moment_to_movement", "task_id": "fingerprint",
        "run_id": "manual__2024-03-02", "day": "2024-03-02", "try_number": 3,
        "error": "RuntimeError: ffmpeg exited 1", "log_url": "http://127.0.0.1:8080/log",
    }
    [mail] = smtp.messages
    assert mail["Subject"] == "[trendtrace] moment_to_movement.fingerprint failed for 2024-03-02"
    assert "error: RuntimeError: ffmpeg exited 1" in mail.get_payload(decode=True).decode()
    assert SECRET not in caplog.text


def test_a_degraded_day_is_said_through_the_failure_channels(env, monkeypatch):
    """The DAG's ingest task passes its message on: a day that loaded degraded (schema drift) succeeded, so no
    failure callback fires; the notice says it instead, and a day that loaded whole says nothing."""
    monkeypatch.setenv(channels.ENV_SMTP_USER, "")
    detail = ("degraded: schema drift in 1 file(s): tiktok-search.csv lacks 'timestamp' (fourcat_csv); "
              "12 records read, 3 unreadable (quarantined)")
    with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        use_webhook(monkeypatch, hook.url)
        use_smtp(monkeypatch, smtp)
        assert send_degraded_notice("2024-03-02", "scheduled__2024-03-02", "12 records read, 0 unreadable") == []
        outcomes = send_degraded_notice("2024-03-02", "scheduled__2024-03-02", detail)
    assert [o.ok for o in outcomes] == [True, True]
    [got] = hook.delivered
    assert got.headers[channels.EVENT_HEADER] == "day_degraded"
    assert got.headers[channels.SIGNATURE_HEADER] == channels.signature(SECRET, got.body)
    assert got.json() == {"event": "day_degraded", "dag_id": "moment_to_movement", "task_id": "ingest",
                          "run_id": "scheduled__2024-03-02", "day": "2024-03-02", "detail": detail}
    [mail] = smtp.messages
    assert mail["Subject"] == "[trendtrace] 2024-03-02 loaded degraded (schema drift)"
    body = mail.get_payload(decode=True).decode()
    assert "tiktok-search.csv lacks 'timestamp' (fourcat_csv)" in body and "trendtrace run --date 2024-03-02" in body


def test_notifier_never_raises_when_the_receiver_is_down(env, monkeypatch, caplog):
    use_webhook(monkeypatch, f"http://127.0.0.1:{free_port()}/x")
    caplog.set_level(logging.WARNING)
    on_failure({"task_instance": SimpleNamespace(dag_id="d", task_id="t", try_number=1), "run_id": "r"})
    assert "task failure alert not delivered via webhook" in caplog.text


FAILING_DAG = '''
from datetime import datetime, timezone
from airflow.sdk import dag, task
from pipelines.alerts.notifier import FailureNotifier

@dag(dag_id="trendtrace_failing", schedule=None, start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
     default_args={"retries": 0, "on_failure_callback": FailureNotifier()})
def trendtrace_failing():
    @task
    def fingerprint():
        raise RuntimeError("ffmpeg exited 1")
    fingerprint()

trendtrace_failing()
'''


def test_airflow_calls_the_notifier_when_a_task_fails(env, airflow_db, tmp_path, monkeypatch):
    """A real DAG run (dag.test) whose task fails: Airflow's on_failure_callback delivers the alert."""
    from airflow.dag_processing.dagbag import DagBag

    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "trendtrace_failing.py").write_text(FAILING_DAG, encoding="utf-8")
    # dag.test serializes the DAG from the configured bundles: point them at this folder only
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([{
        "name": "alerts-test", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(folder)},
    }]))
    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors, bag.import_errors
    with WebhookReceiver() as hook:
        use_webhook(monkeypatch, hook.url)
        run = bag.dags["trendtrace_failing"].test(logical_date=datetime(2024, 3, 2, tzinfo=UTC))
    assert str(getattr(run.state, "value", run.state)) == "failed"
    [got] = hook.delivered
    body = got.json()
    assert (body["event"], body["dag_id"], body["task_id"], body["day"]) == (
        "task_failed", "trendtrace_failing", "fingerprint", "2024-03-02")
    assert body["error"] == "RuntimeError: ffmpeg exited 1"
    assert got.headers[channels.SIGNATURE_HEADER] == channels.signature(SECRET, got.body)


def test_demo_receiver_records_verified_payloads(env, tmp_path, monkeypatch):
    import threading

    from pipelines.alerts.receiver import make_server

    seed(env.warehouse)
    out = tmp_path / "received.jsonl"
    server = make_server(0, out, SECRET)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        use_webhook(monkeypatch, f"http://127.0.0.1:{server.server_address[1]}/")
        alerts_stage.run(d(5), "run-1")
        monkeypatch.setenv(channels.ENV_WEBHOOK_SECRET, "not-the-receivers-secret")
        con = warehouse.connect(env.warehouse)
        con.execute("INSERT INTO sound_daily (sound_id, day, new_posts, new_creators, cum_posts, cum_creators, "
                    "stage) VALUES ('s2', ?, 30, 30, 40, 34, 'spark')", [d(6)])
        con.close()
        alerts_stage.run(d(6), "run-2")
    finally:
        server.shutdown()
        server.server_close()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(x["payload"]["sound_id"], x["payload"]["level"], x["signature_verified"]) for x in lines] == [
        ("s1", 10, True), ("s1", 100, True), ("s2", 10, False),
    ]
    rows = {(r["sound_id"], r["level"]): r for r in alerts(env.warehouse)}
    assert rows[("s2", 10)]["status"] == "failed" and "HTTP 401" in rows[("s2", 10)]["last_error"]
