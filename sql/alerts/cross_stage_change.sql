-- Upward stage changes into one of $stages (e.g. trend, movement): one alert per (sound, stage entered),
-- on the first day the sound entered it. level = the stage's ordinal; falling back and re-entering a
-- stage does not re-fire, and a fall (movement -> trend) is not a crossing.
INSERT INTO alerts (sound_id, rule, kind, level, day, value, threshold, label, created_at, run_id)
WITH ranks AS (
    SELECT * FROM (VALUES ('moment', 1), ('spark', 2), ('trend', 3), ('movement', 4)) r(stage, ordinal)
),
changes AS (
    SELECT c.sound_id, c.day, c.from_stage, c.to_stage, t.ordinal
    FROM sound_stage_changes c
    JOIN ranks t ON t.stage = c.to_stage
    LEFT JOIN ranks f ON f.stage = c.from_stage
    LEFT JOIN sounds s ON s.sound_id = c.sound_id
    WHERE c.day <= $day
      AND list_contains($stages::VARCHAR[], c.to_stage)
      AND (f.ordinal IS NULL OR t.ordinal > f.ordinal)
      AND ($sound_ids::VARCHAR[] IS NULL OR list_contains($sound_ids::VARCHAR[], c.sound_id))
      AND ($title_pattern::VARCHAR IS NULL OR regexp_matches(coalesce(s.title, ''), $title_pattern::VARCHAR, 'i'))
),
firsts AS (
    SELECT sound_id, ordinal, min(day) AS day, arg_min(from_stage, day) AS from_stage, any_value(to_stage) AS to_stage
    FROM changes
    GROUP BY sound_id, ordinal
)
SELECT f.sound_id, $rule, 'stage_change', f.ordinal, f.day, d.cum_creators, NULL,
       printf('stage %s -> %s', coalesce(f.from_stage, '(new)'), f.to_stage), $now, $run_id
FROM firsts f
LEFT JOIN sound_daily d ON d.sound_id = f.sound_id AND d.day = f.day
ORDER BY f.day, f.sound_id, f.ordinal
ON CONFLICT (sound_id, rule, level) DO NOTHING
RETURNING alert_id;
