-- adoption, step 2: replace each recomputed sound's days (from its start_day to $day, every row when it is
-- recomputed from its first day) with adoption_rows, drop sounds that no longer exist (merged away, or their
-- posts gone), and rederive the stage changes of those days (a change is a day whose stage differs from the
-- day before; from_stage NULL on a sound's first day).
DELETE FROM sound_daily d USING ad_sounds s
WHERE d.sound_id = s.sound_id AND (d.day >= s.start_day OR NOT s.has_base);
DELETE FROM sound_daily WHERE sound_id NOT IN (SELECT DISTINCT sound_id FROM ad_posts);
INSERT INTO sound_daily BY NAME SELECT * FROM adoption_rows;

DELETE FROM sound_stage_changes c USING ad_sounds s
WHERE c.sound_id = s.sound_id AND (c.day >= s.start_day OR NOT s.has_base);
DELETE FROM sound_stage_changes WHERE sound_id NOT IN (SELECT DISTINCT sound_id FROM ad_posts);
INSERT INTO sound_stage_changes BY NAME
SELECT sound_id, day, from_stage, stage AS to_stage
FROM (
    SELECT d.sound_id, d.day, d.stage, s.start_day,
           lag(d.stage) OVER (PARTITION BY d.sound_id ORDER BY d.day) AS from_stage
    FROM sound_daily d JOIN ad_sounds s USING (sound_id)
    WHERE d.day BETWEEN s.start_day - 1 AND $day
)
WHERE day >= start_day AND from_stage IS DISTINCT FROM stage;

DROP TABLE adoption_rows;
DROP TABLE ad_sounds;
DROP TABLE ad_base;
DROP VIEW ad_posts;
