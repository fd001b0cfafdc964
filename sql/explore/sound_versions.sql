-- `trendtrace sound`: re-uploads, speed/edit variants and merged sounds.
SELECT version, heard_as_sound_id, merge_reason, speed, pitch_semitones, edit, methods, n_posts, n_creators,
       platform_music_ids, first_post_id, first_seen_at, plays
FROM v_sound_versions
WHERE sound_id = $sound_id
ORDER BY n_posts DESC, version, speed
