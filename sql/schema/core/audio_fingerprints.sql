-- audio_fingerprints: written by pipelines/stages/fingerprint.py (sql/fingerprint/insert_media_checks.sql)
CREATE TABLE IF NOT EXISTS audio_fingerprints (
    audio_sha256  VARCHAR NOT NULL,
    duration_s    DOUBLE NOT NULL,
    fingerprint   UINTEGER[] NOT NULL,
    algorithm     VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
COMMENT ON TABLE audio_fingerprints IS 'Chromaprint raw fingerprint of every distinct media file that passed the media contract; an identical file is fingerprinted once.';
COMMENT ON COLUMN audio_fingerprints.audio_sha256 IS 'SHA-256 of the media file bytes (posts.audio_sha256).';
COMMENT ON COLUMN audio_fingerprints.duration_s IS 'Decoded audio duration, seconds.';
COMMENT ON COLUMN audio_fingerprints.fingerprint IS 'Raw Chromaprint items, one 32-bit value per ~0.124 s of audio (1365 samples at 11025 Hz).';
COMMENT ON COLUMN audio_fingerprints.algorithm IS 'Chromaprint algorithm, e.g. chromaprint-2 (the library default, as used by AcoustID).';
COMMENT ON COLUMN audio_fingerprints.created_at IS 'When it was computed (UTC).';
