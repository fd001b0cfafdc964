-- link_lineage, audio step 1: the candidate (child, parent) post pairs whose audio pipelines/lineage/audio_evidence.py
-- compares, for every post of lineage_scope that has audio. Cheap candidates only, never all earlier posts:
--   sound  an earlier post playing one of the child's sounds (post_sounds, canonical) at the same sound time
--          at post time 0 (±$align_tol_s; speed-corrected): a stitch opens, a duet starts, where its parent did;
--          (child_sound_end_s: where what the child opens with stops in the child: the shared sound, or any
--          sound older than the child that it plays from its start; a stitch's opening is all it holds of them:
--          a post that opens with a sound and goes on playing it reuses the sound, whatever else opens alike);
--   caption the named user's earlier posts ("#duet/#stitch with @user"), so a caption can be checked by audio.
-- At most $max_per_child per child and source: the nearest alignment, then the most recent parent.
-- Each pair also names the parent's reference, the audio its own is told from (what the reference does not
-- explain: its voice-over, its duetter): the first post of the parent's platform music (every reuse of the
-- music is made from that audio, so siblings share what the sound's index lacks), else the indexed audio of
-- the sound it plays; ref_t0_s is the reference's time at the parent's second 0. NULL when the parent is that
-- audio, or plays it at another speed. parent_made_music: the parent is the first post of its platform music
-- (an origin, a re-upload, a talking "original sound" over a song): every reuse of that music carries what the
-- parent added, so hearing it tells a duet of the parent from nothing.
WITH kid AS (
    SELECT p.post_id, p.created_at, p.audio_sha256, p.caption, p.media_path, p.ingest_day
    FROM posts p
    WHERE p.post_id IN (SELECT post_id FROM lineage_scope) AND p.audio_sha256 IS NOT NULL
      -- $claims_only (audio-only claims off): only the posts whose id or caption makes a claim the audio grades
      AND (NOT $claims_only OR nullif(p.duet_from_post_id, '') IS NOT NULL
           OR regexp_matches(p.caption, '(?i)(?:^|[^\w#])#?(?:duet|stitch) with @([\w.]+)'))
),
kid_sounds AS (
    SELECT s.post_id, s.sound_id, s.sound_start_s - s.post_start_s * coalesce(s.speed, 1.0) AS t0, s.post_end_s
    FROM post_sounds s JOIN kid USING (post_id)
),
kid_opening AS (  -- where the earlier sounds the child plays from its start stop in it (not the sound it created)
    SELECT s.post_id, max(s.post_end_s) AS opening_end_s
    FROM post_sounds s
    JOIN kid k USING (post_id)
    JOIN sounds d ON d.sound_id = s.sound_id
    WHERE s.post_start_s <= $opening_tol_s AND d.first_seen_at < k.created_at
      AND d.created_post_id IS DISTINCT FROM k.post_id
    GROUP BY s.post_id
),
by_sound AS (
    SELECT k.post_id AS child, s.post_id AS parent, 'sound' AS source,
           min(abs(k.t0 - (s.sound_start_s - s.post_start_s * coalesce(s.speed, 1.0)))) AS align_error_s,
           greatest(max(k.post_end_s), any_value(o.opening_end_s)) AS child_sound_end_s
    FROM kid_sounds k
    JOIN post_sounds s ON s.sound_id = k.sound_id AND s.post_id <> k.post_id
    LEFT JOIN kid_opening o ON o.post_id = k.post_id
    GROUP BY ALL
    HAVING min(abs(k.t0 - (s.sound_start_s - s.post_start_s * coalesce(s.speed, 1.0)))) <= $align_tol_s
),
by_caption AS (
    SELECT k.post_id AS child, p.post_id AS parent, 'caption' AS source, NULL::DOUBLE AS align_error_s,
           o.opening_end_s AS child_sound_end_s
    FROM kid k
    LEFT JOIN kid_opening o ON o.post_id = k.post_id
    JOIN posts p
      ON lower(p.author) = lower(regexp_extract(k.caption, '(?i)(?:^|[^\w#])#?(?:duet|stitch) with @([\w.]+)', 1))
    WHERE k.caption ILIKE '%with @%'
),
pairs AS (
    SELECT c.*, k.audio_sha256 AS child_sha, p.audio_sha256 AS parent_sha, p.created_at AS parent_created_at,
           k.media_path AS child_media_path, k.ingest_day AS child_ingest_day
    FROM (SELECT * FROM by_sound UNION ALL SELECT * FROM by_caption) c
    JOIN kid k ON k.post_id = c.child
    JOIN posts p ON p.post_id = c.parent
    WHERE (p.created_at, p.post_id) < (k.created_at, k.post_id) AND p.audio_sha256 IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY c.child, c.source
                               ORDER BY c.align_error_s NULLS LAST, p.created_at DESC, p.post_id) <= $max_per_child
),
parent_row AS (  -- the sound the parent plays: its primary one, unless the parent created it (then it is the parent
                 -- itself: a stitch), else the oldest sound it opens with (a stitch's opening); which, and its
                 -- sound time at the parent's second 0; none when it plays that sound at another speed
    SELECT post_id, r.sound_id, r.matched_sound_id, r.sound_start_s - r.post_start_s AS t0
    FROM (SELECT s.post_id, arg_min(s, (s.role <> 'primary', s.post_start_s > $opening_tol_s, d.first_seen_at,
                                        s.post_start_s, s.sound_id)) AS r
          FROM post_sounds s
          JOIN sounds d ON d.sound_id = s.sound_id
          WHERE d.created_post_id IS DISTINCT FROM s.post_id AND s.post_id IN (SELECT parent FROM pairs)
          GROUP BY s.post_id)
    WHERE abs(coalesce(r.speed, 1.0) - 1.0) < 0.01
),
music_first AS (  -- the first post of each parent's platform music: the audio the music's reuses are made from
    SELECT p.platform_music_id, arg_min(p.post_id, (p.created_at, p.post_id)) AS post_id
    FROM posts p
    WHERE p.platform_music_id IN (SELECT q.platform_music_id FROM posts q WHERE q.post_id IN (SELECT parent FROM pairs))
      AND p.audio_sha256 IS NOT NULL
    GROUP BY ALL
),
parent_ref AS (
    SELECT r.post_id, f.post_id IS NOT DISTINCT FROM r.post_id AS made_music,
           coalesce(CASE WHEN f.post_id <> r.post_id THEN fp.audio_sha256 END, m.audio_sha256) AS ref_sha,
           CASE WHEN f.post_id <> r.post_id AND fp.audio_sha256 IS NOT NULL THEN r.t0 - fs.t0 ELSE r.t0 END
               AS ref_t0_s
    FROM parent_row r
    JOIN posts pp ON pp.post_id = r.post_id
    LEFT JOIN sounds m ON m.sound_id = r.matched_sound_id
    LEFT JOIN music_first f ON f.platform_music_id = pp.platform_music_id
    LEFT JOIN (SELECT post_id, sound_id, min(sound_start_s - post_start_s) AS t0 FROM post_sounds
               WHERE role = 'primary' AND abs(coalesce(speed, 1.0) - 1.0) < 0.01 GROUP BY ALL) fs
           ON fs.post_id = f.post_id AND fs.sound_id = r.sound_id
    LEFT JOIN posts fp ON fp.post_id = fs.post_id
)
SELECT pairs.child, pairs.parent, list(DISTINCT source ORDER BY source) AS sources,
       min(align_error_s) AS align_error_s, max(child_sound_end_s) AS child_sound_end_s, any_value(child_sha) AS child_sha, any_value(parent_sha) AS parent_sha,
       any_value(child_media_path) AS child_media_path, any_value(child_ingest_day) AS child_ingest_day,
       fc.duration_s AS child_duration_s, fp.duration_s AS parent_duration_s,
       CASE WHEN r.ref_sha <> any_value(parent_sha) THEN r.ref_sha END AS ref_sha, r.ref_t0_s,
       coalesce(r.made_music, FALSE) AS parent_made_music
FROM pairs
JOIN audio_fingerprints fc ON fc.audio_sha256 = pairs.child_sha
JOIN audio_fingerprints fp ON fp.audio_sha256 = pairs.parent_sha
LEFT JOIN parent_ref r ON r.post_id = pairs.parent
GROUP BY pairs.child, pairs.parent, fc.duration_s, fp.duration_s, r.ref_sha, r.ref_t0_s, r.made_music
ORDER BY pairs.child, pairs.parent;
