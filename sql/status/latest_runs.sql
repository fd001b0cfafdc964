-- The newest pipeline_runs row per (day, task), newest days first.
SELECT day, task, status, rows_in, rows_out, round(seconds, 2) AS seconds, message, finished_at
FROM pipeline_runs
QUALIFY row_number() OVER (PARTITION BY day, task ORDER BY finished_at DESC) = 1
ORDER BY day DESC, finished_at
LIMIT $limit;
