-- The status each stage recorded in one Airflow run (the last attempt wins when a task retried).
SELECT task, arg_max(status, finished_at) AS status
FROM pipeline_runs
WHERE run_id = $run_id
GROUP BY task;
