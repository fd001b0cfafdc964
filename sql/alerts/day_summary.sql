-- What the alerts stage reports for a day: sound_daily rows it judged, alerts still pending.
SELECT (SELECT count(*) FROM sound_daily WHERE day <= $day) AS rows_in,
       (SELECT count(*) FROM alerts WHERE status = 'pending') AS pending;
