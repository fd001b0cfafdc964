-- match_sounds: a summary of the indexed audio the first pass reads (pipelines/stages/match_shards.py): a shard
-- planned against one index state must not be loaded into a run that sees another.
SELECT count(*) AS audios, coalesce(max(audio_id), -1) AS max_audio_id,
       coalesce(bit_xor(hash(audio_id::VARCHAR || ':' || sound_id)), 0)::VARCHAR AS audio_sounds
FROM match_audio;
