-- The outbox's last step: the alert's overall state after one delivery pass.
-- attempts: at least every attempt its channels recorded (alert_deliveries), so a run killed between a channel's
-- delivery record and this mark still counts that attempt when the next run marks the alert.
UPDATE alerts
SET status = $status,
    attempts = greatest(
        attempts + $attempts,
        (SELECT coalesce(sum(d.attempts), 0) FROM alert_deliveries AS d WHERE d.alert_id = $alert_id)
    ),
    delivered_at = CASE WHEN $status = 'sent' THEN $now ELSE delivered_at END,
    last_error = $last_error
WHERE alert_id = $alert_id;
