-- Cumulative distinct creators crossing each configured level, on the first day cum_creators reached it.
-- One alert per (sound, rule, level) ever: a level never re-fires, so a recount dip cannot flap.
INSERT INTO alerts (sound_id, rule, kind, level, day, value, threshold, label, created_at, run_id)
WITH scoped AS (
    SELECT d.*
    FROM sound_daily d
    LEFT JOIN sounds s ON s.sound_id = d.sound_id
    WHERE d.day <= $day
      AND ($sound_ids::VARCHAR[] IS NULL OR list_contains($sound_ids::VARCHAR[], d.sound_id))
      AND ($title_pattern::VARCHAR IS NULL OR regexp_matches(coalesce(s.title, ''), $title_pattern::VARCHAR, 'i'))
)
SELECT d.sound_id, $rule, 'cumulative_creators', lv.level, min(d.day), arg_min(d.cum_creators, d.day), lv.level,
       printf('cum_creators >= %d', lv.level), $now, $run_id
FROM scoped d
CROSS JOIN (SELECT unnest($levels::BIGINT[]) AS level) lv
WHERE d.cum_creators >= lv.level
GROUP BY d.sound_id, lv.level
ORDER BY min(d.day), d.sound_id, lv.level
ON CONFLICT (sound_id, rule, level) DO NOTHING
RETURNING alert_id;
