-- Episodes with hysteresis for the rule kinds that measure a rate ($kind):
--   growth    value = growth_7d, volume floor on creators in the last 7 days;
--   robust_z  value = robust_z,  volume floor on new creators that day.
-- An episode starts on a day with value >= $enter and volume >= $floor (the floor), and ends on the first
-- later day with value < $exit ($exit < $enter).
-- level = episode number, recomputed from the whole history, so reruns and backfills give the same keys
-- and dips between exit and enter inside an episode never re-fire. NULL values neither enter nor exit.
INSERT INTO alerts (sound_id, rule, kind, level, day, value, threshold, label, created_at, run_id)
WITH scoped AS (
    SELECT d.sound_id, d.day,
           CASE $kind WHEN 'growth' THEN d.growth_7d WHEN 'robust_z' THEN d.robust_z END AS value,
           sum(d.new_creators) OVER (
               PARTITION BY d.sound_id ORDER BY d.day RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW
           ) AS creators_7d,
           d.new_creators
    FROM sound_daily d
    LEFT JOIN sounds s ON s.sound_id = d.sound_id
    WHERE d.day <= $day
      AND ($sound_ids::VARCHAR[] IS NULL OR list_contains($sound_ids::VARCHAR[], d.sound_id))
      AND ($title_pattern::VARCHAR IS NULL OR regexp_matches(coalesce(s.title, ''), $title_pattern::VARCHAR, 'i'))
),
events AS (
    SELECT sound_id, day, value,
           CASE WHEN value >= $enter
                     AND (CASE $kind WHEN 'growth' THEN creators_7d ELSE new_creators END) >= $floor THEN 'enter'
                WHEN value < $exit THEN 'exit' END AS event
    FROM scoped
),
marked AS (
    SELECT *, lag(event) OVER (PARTITION BY sound_id ORDER BY day) AS previous_event
    FROM events
    WHERE event IS NOT NULL
),
starts AS (
    SELECT *, row_number() OVER (PARTITION BY sound_id ORDER BY day) AS episode
    FROM marked
    WHERE event = 'enter' AND (previous_event IS NULL OR previous_event = 'exit')
)
SELECT sound_id, $rule, $kind, episode, day, value, $enter,
       printf('%s >= %s (episode %d)', CASE $kind WHEN 'growth' THEN 'growth_7d' ELSE 'robust_z' END,
              $enter::VARCHAR, episode), $now, $run_id
FROM starts
ORDER BY day, sound_id, episode
ON CONFLICT (sound_id, rule, level) DO NOTHING
RETURNING alert_id;
