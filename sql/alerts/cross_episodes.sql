-- Episodes with hysteresis for the rule kinds that measure a rate ($kind):
--   growth    value = growth_7d, volume floor on creators in the last 7 days;
--   robust_z  value = robust_z,  volume floor on new creators that day.
-- An episode starts on a day with value >= $enter and volume >= $floor (the floor), and ends on the first
-- later day with value < $exit ($exit < $enter). NULL values neither enter nor exit.
-- level = the episode's start day as yyyymmdd: an episode's key is the day it began, so posts arriving later
-- (a collection of any age) that reveal an earlier episode give it its own key and true day instead of
-- renumbering the episodes already recorded; dips between exit and enter inside an episode never re-fire.
-- An episode that already fired under another start day (late posts moved its start earlier) is not fired
-- again: an alert of the rule whose day lies inside the episode's span counts as that episode.
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
spans AS (
    SELECT *,
           min(CASE WHEN event = 'exit' THEN day END) OVER (
               PARTITION BY sound_id ORDER BY day ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
           ) AS end_day
    FROM marked
),
starts AS (
    SELECT *, CAST(strftime(day, '%Y%m%d') AS BIGINT) AS episode
    FROM spans
    WHERE event = 'enter' AND (previous_event IS NULL OR previous_event = 'exit')
)
SELECT st.sound_id, $rule, $kind, st.episode, st.day, st.value, $enter,
       printf('%s >= %s (episode from %s)', CASE $kind WHEN 'growth' THEN 'growth_7d' ELSE 'robust_z' END,
              $enter::VARCHAR, strftime(st.day, '%Y-%m-%d')), $now, $run_id
FROM starts st
WHERE NOT EXISTS (
    SELECT 1 FROM alerts a
    WHERE a.sound_id = st.sound_id AND a.rule = $rule AND a.level <> st.episode
      AND a.day >= st.day AND (st.end_day IS NULL OR a.day < st.end_day)
)
ORDER BY st.day, st.sound_id, st.episode
ON CONFLICT (sound_id, rule, level) DO NOTHING
RETURNING alert_id;
