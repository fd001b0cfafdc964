"""Slack incoming-webhook delivery against a real HTTP receiver on 127.0.0.1: Block Kit payload, retries on
5xx, no retry on a rejection, the URL (its token) never stored, and each channel confirming on its own in the
alerts stage's outbox."""

from __future__ import annotations

import json

import duckdb
import pytest

from pipelines.alerts import channels, slack
from pipelines.alerts.messages import alert_message
from pipelines.alerts.rules import Delivery
from pipelines.stages import alerts as alerts_stage
from tests.integration.test_alerts import alerts, d, env, seed, use_webhook  # noqa: F401 (env is a fixture)
from tests.support.receivers import WebhookReceiver

FAST = Delivery(timeout_s=2, attempts_per_run=3, backoff_s=0.01, backoff_factor=2)
PAYLOAD = {"event": "alert", "alert_id": 7, "sound_id": "snd-1", "title": "original sound - <dance> & co",
           "rule": "creators", "kind": "cumulative_creators", "level": 10, "label": "cum_creators >= 10",
           "value": 12.0, "threshold": 10.0, "day": "2024-03-03",
           "top_cascades": [{"root_post_id": "p100", "size": 60, "creators": 48, "depth": 3,
                             "structural_virality": 2.4}]}

WAREHOUSE_ID = "0123456789abcdef0123456789abcdef"  # what outbox.warehouse_id() draws once per warehouse


@pytest.fixture(autouse=True)
def _no_slack_env(monkeypatch):
    monkeypatch.delenv(slack.ENV_SLACK_WEBHOOK_URL, raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_TRENDTRACE_SLACK", raising=False)


def test_alert_arrives_as_slack_blocks():
    with WebhookReceiver() as hook:
        outcome = channels.Sender(FAST).send(slack.SlackChannel(hook.url), alert_message(7, PAYLOAD, WAREHOUSE_ID))
    assert outcome.ok and outcome.attempts == 1
    (got,) = hook.delivered
    assert got.headers["Content-Type"].startswith("application/json")
    body = got.json()
    assert body["text"] == "[trendtrace] original sound - <dance> & co: cum_creators >= 10 on 2024-03-03"
    types = [b["type"] for b in body["blocks"]]
    assert types[0] == "header" and types.count("section") == 3 and types[-1] == "context"
    assert body["blocks"][0]["text"] == {"type": "plain_text", "text": "original sound - <dance> & co: "
                                         "cum_creators >= 10", "emoji": False}
    section = body["blocks"][1]["text"]["text"]
    assert "&lt;dance&gt; &amp; co" in section and "<dance>" not in section  # mrkdwn escaped
    fields = [f["text"] for f in body["blocks"][2]["fields"]]
    # Slack shows &gt; as >
    assert fields == ["*Rule*\ncreators (cumulative_creators)", "*Crossing*\ncum_creators &gt;= 10", "*Value*\n12",
                      "*Threshold*\n10"]
    assert "`p100`: 60 posts" in body["blocks"][3]["text"]["text"]
    assert f"delivery alert-{WAREHOUSE_ID}-" in json.dumps(body["blocks"][-1])


def test_task_failure_arrives_as_a_header_and_the_text():
    message = channels.Message(delivery_id="task_failed-r1-adoption-2", event="task_failed",
                               subject="[trendtrace] task adoption failed on 2024-03-03",
                               text="dag moment_to_movement\nerror: ValueError: <boom>",
                               payload={"event": "task_failed"})
    with WebhookReceiver() as hook:
        assert channels.Sender(FAST).send(slack.SlackChannel(hook.url), message).ok
    body = hook.delivered[0].json()
    assert body["blocks"][0]["text"]["text"] == "[trendtrace] task adoption failed on 2024-03-03"
    assert "ValueError: &lt;boom&gt;" in body["blocks"][1]["text"]["text"]


def test_slack_5xx_is_retried_and_a_rejection_is_not():
    with WebhookReceiver(fail_first=2, fail_status=503) as hook:
        outcome = channels.Sender(FAST, sleep=lambda s: None).send(slack.SlackChannel(hook.url),
                                                                  alert_message(7, PAYLOAD, WAREHOUSE_ID))
    assert outcome.ok and outcome.attempts == 3 and len(hook.requests) == 3
    with WebhookReceiver(fail_first=10, fail_status=404) as hook:
        secret_url = hook.url + "/T000/B000/XXXXsecret"
        outcome = channels.Sender(FAST, sleep=lambda s: None).send(slack.SlackChannel(secret_url),
                                                                  alert_message(7, PAYLOAD, WAREHOUSE_ID))
    assert not outcome.ok and outcome.permanent and outcome.attempts == 1 and len(hook.requests) == 1
    assert "HTTP 404" in outcome.error and "XXXXsecret" not in outcome.error


def test_slack_from_environment_and_airflow_connection(monkeypatch):
    assert slack.slack_channel() is None
    monkeypatch.setenv("AIRFLOW_CONN_TRENDTRACE_SLACK", json.dumps(
        {"conn_type": "slackwebhook", "host": "https://hooks.slack.com/services", "password": "T1/B2/abc"}))
    assert slack.slack_channel().url == "https://hooks.slack.com/services/T1/B2/abc"
    assert "T1/B2/abc" in slack.slack_channel().secrets()
    monkeypatch.setenv(slack.ENV_SLACK_WEBHOOK_URL, "https://hooks.slack.com/services/T9/B9/zzz")
    assert slack.slack_channel().url.endswith("/T9/B9/zzz")  # the environment wins


def test_alerts_stage_delivers_to_slack_beside_the_webhook(env, monkeypatch):  # noqa: F811
    """With Slack among the configured channels (channels.configured_channels adds slack.slack_channel()),
    one alert reaches both; a Slack outage leaves it pending for Slack only, and the next run sends it once."""
    env.write_config(rules=[{"name": "creators", "kind": "cumulative_creators", "levels": [10]}])
    seed(env.warehouse)
    with WebhookReceiver() as hook, WebhookReceiver(fail_first=3, fail_status=500) as slack_hook:
        use_webhook(monkeypatch, hook.url)
        monkeypatch.setenv(slack.ENV_SLACK_WEBHOOK_URL, slack_hook.url)
        first = alerts_stage.run(d(5), "run-1")
        [row] = alerts(env.warehouse)
        assert row["status"] == "pending" and "slack" in row["last_error"]
        second = alerts_stage.run(d(5), "run-2")
    assert first.status == second.status == "success"
    assert len(hook.delivered) == 1 and len(slack_hook.delivered) == 1 and len(slack_hook.requests) == 4
    assert slack_hook.delivered[0].json()["blocks"][0]["type"] == "header"
    [row] = alerts(env.warehouse)
    assert row["status"] == "sent"
    con = duckdb.connect(str(env.warehouse), read_only=True)
    try:
        deliveries = dict(con.execute("SELECT channel, status FROM alert_deliveries").fetchall())
        stored = str(con.execute("SELECT * FROM alert_deliveries").fetchall())
    finally:
        con.close()
    assert deliveries == {"webhook": "sent", "slack": "sent"}
    assert slack_hook.url not in stored
