-- posts: view over validated_posts and fingerprint_quarantine (sql/schema/core/validated_posts.sql, sql/schema/core/fingerprint_quarantine.sql)
-- The analysts' posts: validate's validated_posts minus the posts whose media the fingerprint stage
-- quarantined (fingerprint_quarantine). A view, so each table keeps one writer; match_sounds, link_lineage,
-- build_cascades and the reports read it. Recreated on every connect (a view holds no rows).
CREATE OR REPLACE VIEW posts AS
SELECT v.*
FROM validated_posts v
WHERE NOT EXISTS (
    SELECT 1 FROM fingerprint_quarantine f WHERE f.ingest_day = v.ingest_day AND f.post_id = v.post_id
);
COMMENT ON VIEW posts IS 'Valid posts (passed the posts and media contracts); one row per post_id, the first ingested copy wins. Rerunning a day replaces the rows with that ingest_day.';
COMMENT ON COLUMN posts.post_id IS 'Platform post id as text (TikTok ids exceed 2^53; never a float).';
COMMENT ON COLUMN posts.author IS 'Creator handle (TikTok uniqueId / Research API username), without @; NULL only from a format that carries no author (research_api_early), such posts count for posts, not creators.';
COMMENT ON COLUMN posts.created_at IS 'When the post was published, UTC.';
COMMENT ON COLUMN posts.created_day IS 'UTC day of created_at: the day the post belongs to in time series (late arrivals land in their own day).';
COMMENT ON COLUMN posts.caption IS 'Post description as exported, including platform-inserted text such as "#duet with @user".';
COMMENT ON COLUMN posts.platform_music_id IS 'The platform''s music/sound id as text; NULL when the export has none. Not trusted for sound identity.';
COMMENT ON COLUMN posts.music_title IS 'The platform''s sound title, e.g. "original sound - user".';
COMMENT ON COLUMN posts.music_original IS 'TRUE when the post''s sound is an original sound (uploaded by a creator, not a catalogue track): a property of the sound, so reuses of someone''s original sound say TRUE too; never read as "this post is the origin". NULL when unknown.';
COMMENT ON COLUMN posts.duet_from_post_id IS 'Post id this post claims to duet (web JSON duetInfo.duetFromId); NULL when not claimed.';
COMMENT ON COLUMN posts.mentions IS 'User handles mentioned (textExtra and @name in the caption), caption order, without @.';
COMMENT ON COLUMN posts.hashtags IS 'Hashtags, lower-cased, without #, caption order.';
COMMENT ON COLUMN posts.stats IS 'Engagement counters at export time: plays, likes, shares, comments (NULL when not exported).';
COMMENT ON COLUMN posts.duration_s IS 'Video duration declared by the export, seconds; the decoded audio duration is audio_fingerprints.duration_s.';
COMMENT ON COLUMN posts.media_path IS 'Media file, relative to its landing partition dt=<ingest_day>/.';
COMMENT ON COLUMN posts.audio_sha256 IS 'SHA-256 of the media file bytes; joins audio_fingerprints.';
COMMENT ON COLUMN posts.source_format IS 'Export format that read the record (one of `trendtrace formats`: tiktok_web, research_api, research_api_early, zeeschuimer_ndjson, ytdlp_info_json, apify_json, apify_csv, fourcat_csv, zeeschuimer_csv, csv_export, or a config/formats mapping).';
COMMENT ON COLUMN posts.source_file IS 'Export file, relative to its landing partition.';
COMMENT ON COLUMN posts.source_line IS '1-based line of the record in source_file (NULL when not known).';
COMMENT ON COLUMN posts.source_record IS '0-based index of the record in source_file.';
COMMENT ON COLUMN posts.ingest_day IS 'The dt= partition the post arrived in (the unit of reruns).';
