-- validated_posts: written by pipelines/stages/validate.py (sql/validate/replace_posts.sql)
-- Written by validate only (sql/validate/replace_posts.sql): every record that passed the posts and
-- media-location contracts, before fingerprint judges its audio. Analysts read the view `posts`
-- (sql/schema/marts/posts.sql), which leaves out the posts fingerprint quarantined.
CREATE TABLE IF NOT EXISTS validated_posts (
    post_id            VARCHAR NOT NULL,
    author             VARCHAR NOT NULL,
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
