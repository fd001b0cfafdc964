-- Until the sound identity engine (issue #5) has created post_sounds, lineage runs on metadata alone:
-- an empty stand-in with the same columns (temporary: never persisted, never shadows the real table).
CREATE TEMP TABLE IF NOT EXISTS post_sounds (
    post_id        VARCHAR NOT NULL,
    sound_id       VARCHAR NOT NULL,
    role           VARCHAR NOT NULL,
    post_start_s   DOUBLE,
    post_end_s     DOUBLE,
    sound_start_s  DOUBLE,
    sound_end_s    DOUBLE,
    speed          DOUBLE,
    score          DOUBLE,
    method         VARCHAR
);
