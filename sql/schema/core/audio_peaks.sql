-- audio_peaks: written by pipelines/stages/fingerprint.py (sql/fingerprint/insert_peaks.sql)
CREATE TABLE IF NOT EXISTS audio_peaks (
    audio_sha256  VARCHAR NOT NULL,
    frames        INTEGER[] NOT NULL,
    bins          USMALLINT[] NOT NULL,
    algorithm     VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
COMMENT ON TABLE audio_peaks IS 'Spectral peaks of every fingerprinted media file (same decoded PCM as the fingerprint); the matcher hashes pairs of them into landmarks, at a corrected speed when needed.';
COMMENT ON COLUMN audio_peaks.audio_sha256 IS 'SHA-256 of the media file bytes (audio_fingerprints.audio_sha256).';
COMMENT ON COLUMN audio_peaks.frames IS 'Peak times in STFT frames of 256 samples at 11025 Hz (~23.2 ms), ascending.';
COMMENT ON COLUMN audio_peaks.bins IS 'Peak frequencies in FFT bins of 21.5 Hz (512-point FFT), aligned with frames.';
COMMENT ON COLUMN audio_peaks.algorithm IS 'Peak-picking version (pipelines.audio.peaks.PEAKS_ALGORITHM).';
COMMENT ON COLUMN audio_peaks.created_at IS 'When they were computed (UTC).';
