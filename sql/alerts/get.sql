SELECT alert_id, sound_id, rule, level, day, label, attempts, payload
FROM alerts
WHERE alert_id = $alert_id;
