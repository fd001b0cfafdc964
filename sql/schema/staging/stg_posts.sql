-- stg_posts: written by pipelines/stages/ingest.py (sql/ingest/replace_stg_posts.sql)
-- Every record the export adapters could read, one row per record, replaced per ingest_day by `ingest`.
-- Not analyst-facing: `validate` turns it into `posts` | `quarantine`.
CREATE TABLE IF NOT EXISTS stg_posts (
    ingest_day         DATE NOT NULL,
    source_file        VARCHAR NOT NULL,
    source_format      VARCHAR NOT NULL,
    source_line        INTEGER,
    source_record      INTEGER NOT NULL,
    post_id            VARCHAR,
    author             VARCHAR,
    created_at         TIMESTAMP,
    created_at_raw     VARCHAR,
    caption            VARCHAR,
    platform_music_id  VARCHAR,
    music_title        VARCHAR,
    music_original     BOOLEAN,
    duet_from_post_id  VARCHAR,
    mentions           VARCHAR[],
    hashtags           VARCHAR[],
    plays              BIGINT,
    likes              BIGINT,
    shares             BIGINT,
    comments           BIGINT,
    duration_s         DOUBLE,
    media_path         VARCHAR,
    raw                VARCHAR
);
