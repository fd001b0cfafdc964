"""ingest: read every export file of one dt= partition into stg_posts; unreadable records to quarantine.

A file whose whole column is missing (schema drift) fails the task: better a red run than a silent gap.
"""

from __future__ import annotations

import logging
from datetime import date

from pipelines import settings, warehouse
from pipelines.frames import problems_frame, stg_posts_frame
from pipelines.runlog import StageResult, stage_run

log = logging.getLogger(__name__)


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
        invalid = settings.invalid_partitions()
        if invalid:
            # No run ever reads these folders: say so on every day's ingest row, not only in a log.
            names = ", ".join(p.name for p in invalid)
            result.message += f"; warning: {len(invalid)} invalid partition folder(s) not processed: {names}"
            log.warning("invalid partition folders in %s: %s", settings.landing_dir(),
                        "; ".join(p.describe() for p in invalid))
        return result
