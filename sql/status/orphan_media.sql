-- Media files in a partition that no record claims, as the latest ingest run of each day named them
-- (its message's "orphan_media: N media file(s) no record claims: a, b" part).
SELECT day, regexp_extract(message, 'orphan_media: ([^;]*)', 1) AS orphan_media
FROM pipeline_runs
WHERE task = 'ingest'
QUALIFY row_number() OVER (PARTITION BY day ORDER BY finished_at DESC) = 1
    AND message LIKE '%orphan_media: %'
ORDER BY day DESC;
