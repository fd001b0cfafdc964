-- fingerprint: spectral peaks of newly analysed files (`new_peaks`); files already present are left alone.
INSERT INTO audio_peaks BY NAME
SELECT * FROM new_peaks n
WHERE n.audio_sha256 NOT IN (SELECT audio_sha256 FROM audio_peaks);
