-- The outbox's last step: the alert's overall state after one delivery pass.
UPDATE alerts
SET status = $status,
    attempts = attempts + $attempts,
    delivered_at = CASE WHEN $status = 'sent' THEN $now ELSE delivered_at END,
    last_error = $last_error
WHERE alert_id = $alert_id;
