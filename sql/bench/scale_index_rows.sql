-- scripts/bench_scale.py: rows of each table of the sound identity index (sql/schema/core/match_index.sql) and the
-- hours of audio it indexes (the decoded duration of each indexed file).
SELECT 'match_audio' AS tbl, count(*) AS n_rows,
       (SELECT coalesce(sum(f.duration_s), 0) / 3600 FROM match_audio a JOIN audio_fingerprints f USING (audio_sha256))
           AS indexed_h
FROM match_audio
UNION ALL SELECT 'match_postings', count(*), NULL FROM match_postings
UNION ALL SELECT 'match_landmark_postings', count(*), NULL FROM match_landmark_postings
UNION ALL SELECT 'match_triplet_postings', count(*), NULL FROM match_triplet_postings
UNION ALL SELECT 'match_audio_landmarks', count(*), NULL FROM match_audio_landmarks;
