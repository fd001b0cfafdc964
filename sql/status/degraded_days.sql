-- Days that did not end clean, with every reason: a stage whose latest run failed, stages that never
-- recorded a run (the run stopped early), export files with schema drift (their records quarantined as
-- schema_drift), files no format (or more than one) reads, whole files that could not be read, media no
-- record claims, alerts of the day not delivered. A day missing here either ran clean or had no data.
WITH latest AS (
    SELECT day, task, status
    FROM pipeline_runs
    QUALIFY row_number() OVER (PARTITION BY day, task ORDER BY finished_at DESC) = 1
),
reasons AS (
    SELECT day, 1 AS ord, 'failed: ' || string_agg(task, ', ' ORDER BY task) AS reason
    FROM latest WHERE status = 'failed' GROUP BY day
    UNION ALL
    SELECT d.day, 2, 'never ran: ' || string_agg(t.task, ', ' ORDER BY t.ord)
    FROM (SELECT DISTINCT day FROM latest) d
    CROSS JOIN (SELECT unnest($tasks) AS task, generate_subscripts($tasks, 1) AS ord) t
    ANTI JOIN latest l ON l.day = d.day AND l.task = t.task
    GROUP BY d.day
    UNION ALL
    SELECT ingest_day, 3, 'schema drift: ' || string_agg(DISTINCT source_file || ' (' || source_format || ' lacks '
                          || field || ')', ', ')
    FROM quarantine WHERE stage = 'ingest' AND rule = 'schema_drift' GROUP BY 1
    UNION ALL
    SELECT ingest_day, 3, 'unreadable files: ' || string_agg(DISTINCT source_file || ' (' || rule || ')', ', ')
    FROM quarantine
    WHERE stage = 'ingest' AND rule <> 'schema_drift'
      AND (source_record IS NULL OR rule IN ('unknown_format', 'ambiguous_format'))
    GROUP BY 1
    UNION ALL
    SELECT day, 3, 'orphan media: ' || regexp_extract(message, 'orphan_media: ([^;]*)', 1)
    FROM pipeline_runs
    WHERE task = 'ingest'
    QUALIFY row_number() OVER (PARTITION BY day ORDER BY finished_at DESC) = 1
        AND message LIKE '%orphan_media: %'
    UNION ALL
    SELECT day, 4, 'alerts not delivered: ' || count(*) FILTER (WHERE status = 'pending') || ' pending, '
                   || count(*) FILTER (WHERE status = 'failed') || ' failed'
    FROM alerts WHERE status <> 'sent' GROUP BY day
)
SELECT day, string_agg(reason, '; ' ORDER BY ord) AS degraded_because
FROM reasons
GROUP BY day
ORDER BY day DESC;
