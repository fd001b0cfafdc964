-- match_sounds: the landmark candidate index rows of audio indexed before it existed (`new_audio_landmarks`,
-- `new_triplet_postings`, computed from its stored peaks).
INSERT INTO match_audio_landmarks SELECT audio_id, hashes, frames FROM new_audio_landmarks;
INSERT INTO match_triplet_postings SELECT key, audio_id, t FROM new_triplet_postings;
