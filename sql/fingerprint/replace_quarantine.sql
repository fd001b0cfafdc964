-- fingerprint: replace one ingest_day of fingerprint_quarantine with the validated posts whose media broke the
-- media_audio contract (`rejected`). posts is validated_posts minus these rows; nothing is deleted from
-- validate's tables.
DELETE FROM fingerprint_quarantine WHERE ingest_day = $day;
INSERT INTO fingerprint_quarantine BY NAME SELECT * FROM rejected;
