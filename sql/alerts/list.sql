-- `trendtrace alerts list`: newest crossings first, optionally one day and/or one status.
SELECT a.alert_id, a.day, a.sound_id, s.title, a.rule, a.level, a.label, round(a.value, 2) AS value,
       a.status, a.attempts, a.delivered_at, a.last_error
FROM alerts a
LEFT JOIN sounds s ON s.sound_id = a.sound_id
WHERE ($day::DATE IS NULL OR a.day = $day::DATE)
  AND ($status::VARCHAR IS NULL OR a.status = $status::VARCHAR)
ORDER BY a.day DESC, a.alert_id DESC
LIMIT $limit;
