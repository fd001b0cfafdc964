-- robust_z episodes with hysteresis: an episode starts on a day with robust_z >= $enter and new creators that day
-- >= $floor (the volume floor), and ends on the first later day with robust_z < $exit ($exit < $enter).
-- level = episode number, recomputed from the whole history, so reruns and backfills give the same keys
-- and dips between exit and enter inside an episode never re-fire. NULL values neither enter nor exit.
INSERT INTO alerts (sound_id, rule, kind, level, day, value, threshold, label, created_at, run_id)
WITH scoped AS (
    SELECT d.sound_id, d.day, d.robust_z AS value,
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
           CASE WHEN value >= $enter AND new_creators >= $floor THEN 'enter'
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
SELECT sound_id, $rule, 'robust_z', episode, day, value, $enter,
       printf('robust_z >= %s (episode %d)', $enter::VARCHAR, episode), $now, $run_id
FROM starts
ORDER BY day, sound_id, episode
ON CONFLICT (sound_id, rule, level) DO NOTHING
RETURNING alert_id;
