-- match_sounds, around the landmark candidate lookups (triplet postings, then the chosen audios' pair hashes):
-- as lookup_begin.sql, with room for one post's ~6k triplet keys in the IN filter, and index lookups
-- always taken when they return at most 4096 rows (the chosen audios' rows of match_audio_landmarks).
-- A production chunk (64 posts, ~360k keys) is over the threshold and scans match_triplet_postings.
SET dynamic_or_filter_threshold = 16384;
SET index_scan_max_count = 4096;
SET index_scan_percentage = 0.001;
