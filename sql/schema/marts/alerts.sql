-- alerts: written by pipelines/stages/alerts.py (sql/alerts/cross_cumulative_creators.sql, sql/alerts/cross_episodes.sql, sql/alerts/cross_stage_change.sql, sql/alerts/fill_payload.sql, sql/alerts/mark.sql); `trendtrace alerts resend` delivers again through pipelines/alerts/outbox.py (sql/alerts/mark.sql)
-- alert_deliveries: written by pipelines/stages/alerts.py (sql/alerts/record_delivery.sql), as does `trendtrace alerts resend`
CREATE SEQUENCE IF NOT EXISTS alerts_id_seq START 1;
CREATE TABLE IF NOT EXISTS alerts (
    alert_id      BIGINT PRIMARY KEY DEFAULT nextval('alerts_id_seq'),
    sound_id      VARCHAR NOT NULL,
    rule          VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,
    level         BIGINT NOT NULL,
    day           DATE NOT NULL,
    value         DOUBLE,
    threshold     DOUBLE,
    label         VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    run_id        VARCHAR NOT NULL,
    status        VARCHAR NOT NULL DEFAULT 'pending',
    attempts      INTEGER NOT NULL DEFAULT 0,
    delivered_at  TIMESTAMP,
    last_error    VARCHAR,
    payload       JSON,
    UNIQUE (sound_id, rule, level)
);
COMMENT ON TABLE alerts IS 'One row per threshold crossing of a sound (an outbox: written first, then delivered, then marked). Unique on (sound_id, rule, level), so reruns and backfills never fire twice. See docs/alerts.md.';
COMMENT ON COLUMN alerts.rule IS 'Name of the rule in config/alerts.yaml.';
COMMENT ON COLUMN alerts.kind IS 'cumulative_creators | growth | robust_z | stage_change.';
COMMENT ON COLUMN alerts.level IS 'cumulative_creators: the level crossed (10, 100, ...); growth / robust_z: the episode''s start day as yyyymmdd (20240303; a new episode needs the value to fall below the exit threshold first; a key by day, so posts collected later that reveal an earlier episode never renumber recorded ones); stage_change: ordinal of the stage entered (3 trend, 4 movement).';
COMMENT ON COLUMN alerts.day IS 'Day the sound crossed the line (from sound_daily / sound_stage_changes), not the day the alert was recorded.';
COMMENT ON COLUMN alerts.value IS 'cum_creators, growth_7d or robust_z on that day; stage_change: cum_creators that day.';
COMMENT ON COLUMN alerts.threshold IS 'The level or enter threshold crossed (NULL for stage_change).';
COMMENT ON COLUMN alerts.label IS 'Human-readable crossing, e.g. "cum_creators >= 100".';
COMMENT ON COLUMN alerts.run_id IS 'Run that recorded the crossing.';
COMMENT ON COLUMN alerts.status IS 'pending (not yet delivered to every configured channel, or no channel configured), sent, failed (permanently rejected, or gave up after max_attempts).';
COMMENT ON COLUMN alerts.attempts IS 'Delivery attempts over all channels and runs.';
COMMENT ON COLUMN alerts.delivered_at IS 'When the last channel confirmed delivery.';
COMMENT ON COLUMN alerts.last_error IS 'Why the latest delivery did not complete (secrets redacted); NULL once sent.';
COMMENT ON COLUMN alerts.payload IS 'The JSON document delivered (docs/alerts.md), fixed when the crossing is recorded.';

CREATE TABLE IF NOT EXISTS alert_deliveries (
    alert_id      BIGINT NOT NULL,
    channel       VARCHAR NOT NULL,
    status        VARCHAR NOT NULL,
    attempts      INTEGER NOT NULL,
    delivered_at  TIMESTAMP,
    last_error    VARCHAR,
    PRIMARY KEY (alert_id, channel)
);
COMMENT ON TABLE alert_deliveries IS 'Delivery state of an alert per channel (webhook, email): a channel that already confirmed is never sent to again when another channel is retried.';
COMMENT ON COLUMN alerts.alert_id IS 'Id of the alert (delivery id of its messages; `trendtrace alerts resend ID`).';
COMMENT ON COLUMN alerts.sound_id IS 'Canonical sound that crossed the line.';
COMMENT ON COLUMN alerts.created_at IS 'When the crossing was recorded (UTC).';
COMMENT ON COLUMN alert_deliveries.alert_id IS 'alerts.alert_id.';
COMMENT ON COLUMN alert_deliveries.channel IS 'webhook | email (| slack).';
COMMENT ON COLUMN alert_deliveries.status IS 'sent, pending or failed on this channel.';
COMMENT ON COLUMN alert_deliveries.attempts IS 'Tries on this channel over all runs.';
COMMENT ON COLUMN alert_deliveries.delivered_at IS 'When this channel confirmed (UTC).';
COMMENT ON COLUMN alert_deliveries.last_error IS 'Why the latest try on this channel failed (secrets redacted).';
