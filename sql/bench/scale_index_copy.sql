-- scripts/bench_scale.py: the sound identity index copied from the warehouse ($warehouse, read only) into a fresh
-- file holding only its tables and ART indexes (sql/schema/core/match_index.sql run first), one table per
-- statement, so the file's growth after each (checkpointed) is that table's bytes on disk, its ART index included.
-- The statements after ATTACH are in the order of bench_scale.INDEX_TABLES.
ATTACH $warehouse AS wh (READ_ONLY);
INSERT INTO match_audio SELECT * FROM wh.match_audio;
INSERT INTO match_postings SELECT * FROM wh.match_postings;
INSERT INTO match_landmark_postings SELECT * FROM wh.match_landmark_postings;
INSERT INTO match_triplet_postings SELECT * FROM wh.match_triplet_postings;
INSERT INTO match_audio_landmarks SELECT * FROM wh.match_audio_landmarks;
DETACH wh;
