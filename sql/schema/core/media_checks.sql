-- media_checks: written by pipelines/stages/fingerprint.py (sql/fingerprint/insert_media_checks.sql)
CREATE TABLE IF NOT EXISTS media_checks (
    audio_sha256  VARCHAR NOT NULL,
    decoded       BOOLEAN NOT NULL,
    duration_s    DOUBLE,
    peak_dbfs     DOUBLE,
    rms_dbfs      DOUBLE,
    error_rule    VARCHAR,
    error         VARCHAR,
    decode_seconds DOUBLE,
    checked_at    TIMESTAMP NOT NULL
);
COMMENT ON TABLE media_checks IS 'What decoding each distinct media file measured (pass or fail); the media contract is judged on these rows, and a file is never decoded twice.';
COMMENT ON COLUMN media_checks.audio_sha256 IS 'SHA-256 of the media file bytes.';
COMMENT ON COLUMN media_checks.decoded IS 'FALSE when ffmpeg could not decode any audio from the file.';
COMMENT ON COLUMN media_checks.duration_s IS 'Decoded duration, seconds (decoding stops just past the contract maximum).';
COMMENT ON COLUMN media_checks.peak_dbfs IS 'Loudest sample, dBFS (-120 for digital silence).';
COMMENT ON COLUMN media_checks.rms_dbfs IS 'Mean loudness, dBFS.';
COMMENT ON COLUMN media_checks.error_rule IS 'Decoder outcome when not decoded: no_audio_stream, undecodable, empty, timeout, not_found, truncated (audio ends well before the length its FLAC/MP4 header states: a cut copy).';
COMMENT ON COLUMN media_checks.error IS 'What the decoder said.';
COMMENT ON COLUMN media_checks.decode_seconds IS 'Wall time spent decoding and fingerprinting this file.';
COMMENT ON COLUMN media_checks.checked_at IS 'When the file was decoded and measured (UTC).';
