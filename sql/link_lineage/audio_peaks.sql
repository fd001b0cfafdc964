-- link_lineage, audio step 2: the stored spectral peaks of the audio files the candidate pairs name
-- (frame audio_shas: one column audio_sha256).
SELECT audio_sha256, frames, bins FROM audio_peaks WHERE audio_sha256 IN (SELECT audio_sha256 FROM audio_shas);
