INSERT INTO alert_deliveries (alert_id, channel, status, attempts, delivered_at, last_error)
VALUES ($alert_id, $channel, $status, $attempts, $delivered_at, $last_error)
ON CONFLICT (alert_id, channel) DO UPDATE SET
    status = excluded.status,
    attempts = alert_deliveries.attempts + excluded.attempts,
    delivered_at = coalesce(excluded.delivered_at, alert_deliveries.delivered_at),
    last_error = excluded.last_error;
