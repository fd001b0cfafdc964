-- validated_posts: written by pipelines/stages/validate.py (sql/validate/replace_posts.sql)
-- Written by validate only (sql/validate/replace_posts.sql): every record that passed the posts and
-- media-location contracts, before fingerprint judges its audio. Analysts read the view `posts`
-- (sql/schema/marts/posts.sql), which leaves out the posts fingerprint quarantined.
CREATE TABLE IF NOT EXISTS validated_posts (
    post_id            VARCHAR NOT NULL,
    author             VARCHAR,
    created_at         TIMESTAMP NOT NULL,
    created_day        DATE NOT NULL,
    caption            VARCHAR,
    platform_music_id  VARCHAR,
    music_title        VARCHAR,
    music_original     BOOLEAN,
    duet_from_post_id  VARCHAR,
    mentions           VARCHAR[],
    hashtags           VARCHAR[],
    stats              STRUCT(plays BIGINT, likes BIGINT, shares BIGINT, comments BIGINT),
    duration_s         DOUBLE,
    media_path         VARCHAR,
    audio_sha256       VARCHAR,
    source_format      VARCHAR NOT NULL,
    source_file        VARCHAR NOT NULL,
    source_line        INTEGER,
    source_record      INTEGER NOT NULL,
    ingest_day         DATE NOT NULL
);
COMMENT ON TABLE validated_posts IS 'Written by validate only: records that passed the posts and media-location contracts (one row per post_id, the first ingested copy wins), before the media-audio contract. Analysts read the view posts (this minus fingerprint_quarantine).';
COMMENT ON COLUMN validated_posts.post_id IS 'Platform post id as text (TikTok ids exceed 2^53; never a float).';
COMMENT ON COLUMN validated_posts.author IS 'Creator handle (TikTok uniqueId / Research API username), without @; NULL only from a format that carries no author (research_api_early), such posts count for posts, not creators.';
COMMENT ON COLUMN validated_posts.created_at IS 'When the post was published, UTC.';
COMMENT ON COLUMN validated_posts.created_day IS 'UTC day of created_at: the day the post belongs to in time series (late arrivals land in their own day).';
COMMENT ON COLUMN validated_posts.caption IS 'Post description as exported, including platform-inserted text such as "#duet with @user".';
COMMENT ON COLUMN validated_posts.platform_music_id IS 'The platform''s music/sound id as text; NULL when the export has none. Not trusted for sound identity.';
COMMENT ON COLUMN validated_posts.music_title IS 'The platform''s sound title, e.g. "original sound - user".';
COMMENT ON COLUMN validated_posts.music_original IS 'TRUE when the post''s sound is an original sound (uploaded by a creator, not a catalogue track): a property of the sound, so reuses of someone''s original sound say TRUE too; never read as "this post is the origin". NULL when unknown.';
COMMENT ON COLUMN validated_posts.duet_from_post_id IS 'Post id this post claims to duet (web JSON duetInfo.duetFromId); NULL when not claimed.';
COMMENT ON COLUMN validated_posts.mentions IS 'User handles mentioned (textExtra and @name in the caption), caption order, without @.';
COMMENT ON COLUMN validated_posts.hashtags IS 'Hashtags, lower-cased, without #, caption order.';
COMMENT ON COLUMN validated_posts.stats IS 'Engagement counters at export time: plays, likes, shares, comments (NULL when not exported).';
COMMENT ON COLUMN validated_posts.duration_s IS 'Video duration declared by the export, seconds; the decoded audio duration is audio_fingerprints.duration_s.';
COMMENT ON COLUMN validated_posts.media_path IS 'Media file, relative to its landing partition dt=<ingest_day>/.';
COMMENT ON COLUMN validated_posts.audio_sha256 IS 'SHA-256 of the media file bytes; joins audio_fingerprints.';
COMMENT ON COLUMN validated_posts.source_format IS 'Export format that read the record (one of `trendtrace formats`: tiktok_web, research_api, research_api_early, zeeschuimer_ndjson, ytdlp_info_json, apify_json, apify_csv, fourcat_csv, zeeschuimer_csv, csv_export, or a config/formats mapping).';
COMMENT ON COLUMN validated_posts.source_file IS 'Export file, relative to its landing partition.';
COMMENT ON COLUMN validated_posts.source_line IS '1-based line of the record in source_file (NULL when not known).';
COMMENT ON COLUMN validated_posts.source_record IS '0-based index of the record in source_file.';
COMMENT ON COLUMN validated_posts.ingest_day IS 'The dt= partition the post arrived in (the unit of reruns).';
