-- checks: sounds.merged_into names a real sound, not itself, and following merged_into from any merged sound
-- reaches a canonical one (merged_into NULL) — chains are allowed (match_sounds/refresh_sounds.sql follows
-- them), cycles are not. Offending rows: the merged sound, what it names and why that is wrong.
WITH RECURSIVE reach(sound_id, depth) AS (  -- every sound that reaches a canonical sound
    SELECT sound_id, 0 FROM sounds WHERE merged_into IS NULL
    UNION
    SELECT s.sound_id, r.depth + 1
    FROM sounds s JOIN reach r ON s.merged_into = r.sound_id
    WHERE r.depth < 64
)
SELECT s.sound_id,
       s.merged_into,
       CASE WHEN s.merged_into = s.sound_id THEN 'merged into itself'
            WHEN t.sound_id IS NULL THEN 'merged_into names no sound'
            ELSE 'merge chain never reaches a canonical sound (cycle)' END AS problem
FROM sounds s
LEFT JOIN sounds t ON t.sound_id = s.merged_into
WHERE s.merged_into IS NOT NULL
  AND s.sound_id NOT IN (SELECT sound_id FROM reach)
ORDER BY s.sound_id;
