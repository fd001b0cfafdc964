-- Sounds that changed stage that day (entering as a moment is not news: a sound's first day counts when it
-- enters higher), with their origin story.
SELECT c.from_stage, c.to_stage, o.*
FROM sound_stage_changes c
JOIN v_sound_origin o ON o.sound_id = c.sound_id
WHERE c.day = $day AND (c.from_stage IS NOT NULL OR c.to_stage <> 'moment')
ORDER BY CASE c.to_stage WHEN 'movement' THEN 0 WHEN 'trend' THEN 1 WHEN 'spark' THEN 2 ELSE 3 END, o.n_creators DESC,
         o.sound_id
