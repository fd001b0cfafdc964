-- match_sounds: derive the sounds' merge state, canonical post_sounds and origins from the recorded facts
-- (sound_merges, post_sounds.matched_sound_id), so a rerun of any day restores them exactly.
UPDATE sounds SET merged_into = m.into_sound_id
FROM (SELECT sound_id, arg_max(into_sound_id, (day, into_sound_id)) AS into_sound_id FROM sound_merges GROUP BY sound_id) m
WHERE sounds.sound_id = m.sound_id;
UPDATE sounds SET merged_into = NULL
WHERE merged_into IS NOT NULL AND sound_id NOT IN (SELECT sound_id FROM sound_merges);

CREATE OR REPLACE TEMP TABLE sound_canonical AS
WITH RECURSIVE chain(sound_id, canonical, depth) AS (
    SELECT sound_id, sound_id, 0 FROM sounds WHERE merged_into IS NULL
    UNION ALL
    SELECT s.sound_id, c.canonical, c.depth + 1
    FROM sounds s JOIN chain c ON s.merged_into = c.sound_id
    WHERE c.depth < 64
)
SELECT sound_id, canonical FROM chain;

UPDATE post_sounds SET sound_id = c.canonical
FROM sound_canonical c
WHERE post_sounds.matched_sound_id = c.sound_id AND post_sounds.sound_id <> c.canonical;

-- origin = earliest primary post (created_at, then post_id) of the canonical sound, over all days
UPDATE sounds SET origin_post_id = o.post_id, first_seen_at = o.created_at, title = o.music_title,
                  n_posts = o.n_posts
FROM (
    SELECT ps.sound_id,
           arg_min(p.post_id, (p.created_at, p.post_id)) AS post_id,
           min(p.created_at) AS created_at,
           arg_min(p.music_title, (p.created_at, p.post_id)) AS music_title,
           count(DISTINCT ps.post_id) AS n_posts
    FROM post_sounds ps JOIN posts p USING (post_id)
    WHERE ps.role = 'primary'
    GROUP BY ps.sound_id
) o
WHERE sounds.sound_id = o.sound_id AND sounds.merged_into IS NULL;
UPDATE sounds SET n_posts = 0 WHERE merged_into IS NOT NULL;
DROP TABLE sound_canonical;
