-- The alerts whose crossing day is the report's day.
SELECT a.alert_id, a.sound_id, s.title, a.rule, a.kind, a.level, a.label, a.value, a.threshold, a.status
FROM alerts a
LEFT JOIN sounds s ON s.sound_id = a.sound_id
WHERE a.day = $day
ORDER BY a.alert_id
