"""check_invariants: the core tables' invariants (sql/checks/) after a day's run, before it is published.

The invariants are global (a day's run can break a row of any day, e.g. a merge or a late parent), so every
check reads whole tables; on the sample worlds that costs milliseconds. A violation fails the task, with the
offending rows named in the error and in pipeline_runs.message, so a broken warehouse is never published.
"""

from __future__ import annotations

from datetime import date

from pipelines import checks
from pipelines.runlog import StageResult, stage_run


class InvariantViolation(RuntimeError):
    """One or more sql/checks/ queries returned rows."""


def run(day: date, run_id: str = "cli") -> StageResult:
    with stage_run("check_invariants", day, run_id) as (con, result):
        names = checks.check_names()
        violations = checks.run_checks(con, names)
        result.rows_in = len(names)
        result.rows_out = sum(v.count for v in violations)
        if violations:
            raise InvariantViolation(
                f"{len(violations)} of {len(names)} invariants violated after {day}:\n{checks.describe(violations)}"
            )
        result.message = f"{len(names)} invariants hold: {', '.join(names)}"
        return result
