-- match_sounds: forget what a previous run of this day produced (reruns replace, never append). Later days
-- built on it must be rerun too (the DAG runs days in order); the day's lookups do not hear audio those later days
-- added (store.index_as_of).
DELETE FROM post_sounds WHERE ingest_day = $day;
DELETE FROM post_match_outcomes WHERE ingest_day = $day;
DELETE FROM sound_merges WHERE day = $day;
DELETE FROM match_postings WHERE audio_id IN (SELECT audio_id FROM match_audio WHERE added_day = $day);
DELETE FROM match_landmark_postings WHERE audio_id IN (SELECT audio_id FROM match_audio WHERE added_day = $day);
DELETE FROM match_audio_landmarks WHERE audio_id IN (SELECT audio_id FROM match_audio WHERE added_day = $day);
DELETE FROM match_triplet_postings WHERE audio_id IN (SELECT audio_id FROM match_audio WHERE added_day = $day);
DELETE FROM match_audio WHERE added_day = $day;
DELETE FROM sounds WHERE created_day = $day;
