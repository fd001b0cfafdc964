-- fingerprint: add decoding outcomes and fingerprints of new files (`new_media_checks`, `new_fingerprints`);
-- files already present are left alone, so a resumed run never writes a file twice.
INSERT INTO media_checks BY NAME
SELECT * FROM new_media_checks n
WHERE n.audio_sha256 NOT IN (SELECT audio_sha256 FROM media_checks);
INSERT INTO audio_fingerprints BY NAME
SELECT * FROM new_fingerprints n
WHERE n.audio_sha256 NOT IN (SELECT audio_sha256 FROM audio_fingerprints);
