-- v_sound_versions: view over post_sounds, posts, sounds, sound_merges, lineage_paths (read by pipelines/explore.py and pipelines/report/; created by sql/schema/marts/v_sound_versions.sql)
CREATE OR REPLACE VIEW v_sound_versions AS
WITH uses AS (
    SELECT ps.sound_id, ps.post_id, ps.matched_sound_id, round(ps.speed, 2) AS speed,
           round(ps.pitch_semitones, 1) AS pitch_semitones, ps.method,
           -- NULL: a row written before migration 0009 (until its day is rerun) or heard through a copy indexed
           -- before it
           coalesce(ps.edit, 'unknown') AS edit,
           CASE WHEN ps.edit IS NULL THEN round(ps.speed, 2) <> 1 OR starts_with(ps.method, 'landmarks_speed')
                ELSE ps.edit NOT IN ('original', 'as_posted', 'under_voice') END AS changed,
           coalesce(lp.relation = 'reupload', FALSE) AS reupload,
           p.author, p.platform_music_id, p.created_at, p.stats.plays AS plays
    FROM post_sounds ps
    JOIN posts p ON p.post_id = ps.post_id
    LEFT JOIN lineage_paths lp ON lp.post_id = ps.post_id
    WHERE ps.role = 'primary'
)
SELECT u.sound_id,
       s.title,
       CASE WHEN u.reupload THEN 'reupload'
            WHEN u.matched_sound_id <> u.sound_id THEN 'merged sound'
            WHEN u.changed THEN 'speed/edit variant'
            ELSE 'original' END AS version,
       u.matched_sound_id AS heard_as_sound_id,
       any_value(m.reason) AS merge_reason,
       u.speed,
       u.pitch_semitones,
       u.edit,
       u.reupload,
       list(DISTINCT u.method ORDER BY u.method) AS methods,
       count(*) AS n_posts,
       count(DISTINCT u.author) AS n_creators,
       list(DISTINCT u.platform_music_id ORDER BY u.platform_music_id) FILTER (WHERE u.platform_music_id IS NOT NULL) AS platform_music_ids,
       count(DISTINCT u.platform_music_id) AS n_platform_ids,
       arg_min(u.post_id, (u.created_at, u.post_id)) AS first_post_id,
       min(u.created_at) AS first_seen_at,
       sum(u.plays) AS plays
FROM uses u
LEFT JOIN sounds s ON s.sound_id = u.sound_id
LEFT JOIN sound_merges m ON m.sound_id = u.matched_sound_id AND u.matched_sound_id <> u.sound_id
GROUP BY u.sound_id, s.title, u.matched_sound_id, u.speed, u.pitch_semitones, u.edit, u.changed, u.reupload;
COMMENT ON VIEW v_sound_versions IS 'The versions of each sound in use: the original, re-uploads, speed and edit variants (sped up, slowed, time-stretched, key-shifted), and sounds merged into it, each with its posts, creators and the platform music ids it travels under. One row per sound, version, sound heard, speed, pitch and edit: count posts per edit with sum(n_posts) GROUP BY sound_id, edit.';
COMMENT ON COLUMN v_sound_versions.sound_id IS 'Canonical sound.';
COMMENT ON COLUMN v_sound_versions.title IS 'Platform title of the sound''s origin post.';
COMMENT ON COLUMN v_sound_versions.version IS 'original | reupload (a post re-uploading another post''s video) | merged sound (heard as another sound later merged into this one) | speed/edit variant (speed or pitch changed: edit sped_up, slowed, tempo_*, pitch_*, speed_and_pitch).';
COMMENT ON COLUMN v_sound_versions.heard_as_sound_id IS 'The sound the matcher heard (post_sounds.matched_sound_id); differs from sound_id for merged sounds.';
COMMENT ON COLUMN v_sound_versions.merge_reason IS 'Why heard_as_sound_id was merged into sound_id (sound_merges.reason); NULL when it was not.';
COMMENT ON COLUMN v_sound_versions.speed IS 'Playback speed relative to the sound, rounded to 0.01 (1.25 = 25 % faster).';
COMMENT ON COLUMN v_sound_versions.pitch_semitones IS 'Pitch relative to the sound, semitones rounded to 0.1 (post_sounds.pitch_semitones; +3.9 = nightcore at 1.25x); NULL where unknown.';
COMMENT ON COLUMN v_sound_versions.edit IS 'The edit heard (post_sounds.edit): original | as_posted | under_voice | sped_up | slowed | tempo_up | tempo_down | pitch_up | pitch_down | speed_and_pitch, or unknown (a row written before the edit was kept; rerun its day). Reverb, EQ and the like are not told apart (as_posted).';
COMMENT ON COLUMN v_sound_versions.reupload IS 'TRUE for posts linked to their parent as a re-upload.';
COMMENT ON COLUMN v_sound_versions.methods IS 'post_sounds.method values of these posts (how the matcher heard them).';
COMMENT ON COLUMN v_sound_versions.n_posts IS 'Posts using the sound in this version (as their primary sound).';
COMMENT ON COLUMN v_sound_versions.n_creators IS 'Distinct creators of those posts.';
COMMENT ON COLUMN v_sound_versions.platform_music_ids IS 'Platform music ids those posts carry: one sound often travels under several.';
COMMENT ON COLUMN v_sound_versions.n_platform_ids IS 'How many distinct platform music ids.';
COMMENT ON COLUMN v_sound_versions.first_post_id IS 'Earliest post of this version.';
COMMENT ON COLUMN v_sound_versions.first_seen_at IS 'When it was posted (UTC).';
COMMENT ON COLUMN v_sound_versions.plays IS 'Plays of those posts, summed (as exported).';
