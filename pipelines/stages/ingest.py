"""ingest: read every export file of one dt= partition into stg_posts; unreadable records to quarantine.

A file missing a field its format needs from every record (schema drift) never sinks the day: its records go
to quarantine (`schema_drift`, one row each), the rest of the partition loads, and the run's message starts
with "degraded:" naming the file, field and format (shown by `trendtrace status` under degraded days). Media
files that no record claims are named in the message too (`orphan_media`).
"""

from __future__ import annotations

import logging
from datetime import date

from pipelines import settings, warehouse
from pipelines.frames import problems_frame, stg_posts_frame
from pipelines.runlog import DEGRADED_PREFIX, StageResult, stage_run

log = logging.getLogger(__name__)


def run(day: date, run_id: str = "cli") -> StageResult:
    from pipelines.ingest import read_partition_with_media

    partition = settings.partition_dir(day)
    with stage_run("ingest", day, run_id) as (con, result):
        posts, problems, drifts, orphans = [], [], [], []
        if partition.is_dir():
            read = read_partition_with_media(partition)
            orphans = read.orphan_media
            for export in read.exports:
                posts.extend(export.posts)
                problems.extend(export.problems)
                if export.drift is not None:
                    drifts.append(export.drift)
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
            if drifts:
                shown = ", ".join(f"{d.source_file} lacks {d.column!r} ({d.source_format})" for d in drifts)
                result.message = f"{DEGRADED_PREFIX}schema drift in {len(drifts)} file(s): {shown}; " + result.message
                log.warning("ingest %s degraded: schema drift: %s", day, shown)
            if orphans:
                shown = ", ".join(orphans[:20]) + (", ..." if len(orphans) > 20 else "")
                result.message += f"; orphan_media: {len(orphans)} media file(s) no record claims: {shown}"
        invalid = settings.invalid_partitions()
        if invalid:
            # No run ever reads these folders: say so on every day's ingest row, not only in a log.
            names = ", ".join(p.name for p in invalid)
            result.message += f"; warning: {len(invalid)} invalid partition folder(s) not processed: {names}"
            log.warning("invalid partition folders in %s: %s", settings.landing_dir(),
                        "; ".join(p.describe() for p in invalid))
        return result
