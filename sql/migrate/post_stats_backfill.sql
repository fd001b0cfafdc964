-- migration 0006 (pipelines/migrations.py _post_stats): a warehouse from before post_stats existed gets one row
-- per post it already holds: the owning collection's counters (re-observations were quarantined then).
INSERT INTO post_stats BY NAME
SELECT post_id, ingest_day AS collected_day, stats.plays AS plays, stats.likes AS likes, stats.shares AS shares,
       stats.comments AS comments, source_format, source_file, source_line, source_record
FROM validated_posts v
WHERE NOT EXISTS (SELECT 1 FROM post_stats s WHERE s.post_id = v.post_id AND s.collected_day = v.ingest_day)
QUALIFY row_number() OVER (PARTITION BY post_id, ingest_day ORDER BY source_file, source_record) = 1;
