-- Alerts still to deliver, oldest first (a backlog from earlier runs goes out before today's).
SELECT alert_id, sound_id, rule, level, day, label, attempts, payload
FROM alerts
WHERE status = 'pending'
ORDER BY alert_id;
