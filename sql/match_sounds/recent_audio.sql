-- match_sounds: the indexed audio of the sounds heard in the most posts over the $days ingest days before $day (at
-- most $limit sounds, indexed before $day; $day NULL: the day after the last one matched, for `trendtrace
-- identify`): what the weak step votes pair hashes against (pipelines/matching/recent.py). A post whose music a
-- loud voice drowns most likely plays a sound that is trending now.
WITH as_of AS (
    SELECT coalesce(CAST($day AS DATE), max(ingest_day) + 1) AS day FROM post_sounds
),
heard AS (
    SELECT ps.matched_sound_id AS sound_id, count(DISTINCT ps.post_id) AS posts
    FROM post_sounds ps, as_of
    WHERE ps.ingest_day < as_of.day AND ps.ingest_day >= as_of.day - to_days(CAST($days AS INTEGER))
    GROUP BY ALL
    ORDER BY posts DESC, sound_id
    LIMIT $limit
)
SELECT a.audio_id
FROM match_audio a JOIN heard h USING (sound_id), as_of
WHERE a.added_day < as_of.day
ORDER BY a.audio_id
