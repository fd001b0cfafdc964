-- sound_merges: written by pipelines/stages/match_sounds.py (sql/match_sounds/insert_results.sql, sql/match_sounds/reset_day.sql)
CREATE TABLE IF NOT EXISTS sound_merges (
    sound_id       VARCHAR NOT NULL,
    into_sound_id  VARCHAR NOT NULL,
    via_post_id    VARCHAR NOT NULL,
    score          DOUBLE NOT NULL,
    method         VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    day            DATE NOT NULL
);
COMMENT ON TABLE sound_merges IS 'Why two sounds became one: a post whose audio matched both over the same part. The sound with the later origin is merged into the earlier.';
COMMENT ON COLUMN sound_merges.sound_id IS 'The sound merged away (its sounds.merged_into is set).';
COMMENT ON COLUMN sound_merges.into_sound_id IS 'The sound it was merged into (earlier origin post).';
COMMENT ON COLUMN sound_merges.via_post_id IS 'The post whose audio matched both sounds.';
COMMENT ON COLUMN sound_merges.score IS 'Weaker of the two match scores.';
COMMENT ON COLUMN sound_merges.method IS 'Signal that matched (chromaprint, chromaprint_speed, landmarks).';
COMMENT ON COLUMN sound_merges.reason IS 'Readable explanation.';
COMMENT ON COLUMN sound_merges.day IS 'ingest_day of the match_sounds run that recorded it.';
