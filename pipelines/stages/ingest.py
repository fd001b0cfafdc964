"""ingest: read every export file of one dt= partition into stg_posts; unreadable records to quarantine.

A file whose whole column is missing (schema drift) fails the task: better a red run than a silent gap.
"""

from __future__ import annotations

from datetime import date

from pipelines import settings, warehouse
from pipelines.frames import problems_frame, stg_posts_frame
from pipelines.runlog import StageResult, stage_run


def run(day: date, run_id: str = "cli") -> StageResult:
    from pipelines.ingest import read_partition

    partition = settings.partition_dir(day)
    with stage_run("ingest", day, run_id) as (con, result):
        posts, problems = [], []
        if partition.is_dir():
            for export in read_partition(partition):
                posts.extend(export.posts)
                problems.extend(export.problems)
        else:
            result.status = "no_data"
        new_stg_posts = stg_posts_frame(day, posts)
        new_quarantine = problems_frame(day, "ingest", problems)
        with warehouse.transaction(con):
            warehouse.run_sql(
                con, "ingest/replace_stg_posts", {"day": day},
                frames={"new_stg_posts": new_stg_posts, "new_quarantine": new_quarantine},
            )
        result.rows_in = len(posts) + len(problems)
        result.rows_out = len(posts)
        if result.status == "no_data":
            result.message = f"no partition {partition}"
        else:
            result.message = f"{len(posts)} records read, {len(problems)} unreadable (quarantined)"
        return result
