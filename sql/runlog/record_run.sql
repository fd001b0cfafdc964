INSERT INTO pipeline_runs (run_id, day, task, status, rows_in, rows_out, seconds, message, started_at, finished_at)
VALUES ($run_id, $day, $task, $status, $rows_in, $rows_out, $seconds, $message, $started_at, $finished_at);
