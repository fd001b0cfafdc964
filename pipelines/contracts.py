"""Data contracts: Great Expectations suites from data_contracts/, judged row by row.

GE validates a whole frame; we need to know which rows failed which rule so that each bad record goes to
quarantine with a reason naming its file, line and field while the good rows carry on. Every expectation's
`meta` gives the rule name, the message and (optionally) the field and a column holding a detailed cause.
Great Expectations is imported lazily: it takes seconds to import and DAG parsing must stay fast.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from pipelines.settings import PROJECT_ROOT

CONTRACTS_DIR = PROJECT_ROOT / "data_contracts"
ROW_COLUMN = "_row"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule one record broke."""

    rule: str
    field: str
    reason: str


def load_suite_json(name: str) -> dict[str, Any]:
    """The suite as stored in data_contracts/<name>.json."""
    path = CONTRACTS_DIR / f"{name}.json"
    with path.open(encoding="utf-8") as f:
        suite = json.load(f)
    for i, exp in enumerate(suite.get("expectations", [])):
        if "rule" not in exp.get("meta", {}):
            raise ValueError(f"{path}: expectation #{i} ({exp.get('type')}) has no meta.rule")
    return suite


@lru_cache(maxsize=1)
def _batch_definition() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    try:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context.variables.progress_bars = ProgressBarsConfig(globally=False)
    except Exception:  # progress bars are cosmetic; never fail a run over them
        log.debug("could not disable GE progress bars", exc_info=True)
    asset = context.data_sources.add_pandas("trendtrace").add_dataframe_asset("batch")
    return asset.add_batch_definition_whole_dataframe("whole")


def _describe(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "null"
    if value is pd.NaT:
        return "null"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 120 else text[:117] + "..."


def validate_rows(
    frame: pd.DataFrame,
    suite_name: str,
    parameters: dict[str, Any] | None = None,
    location: pd.Series | None = None,
) -> dict[int, list[Violation]]:
    """Run suite `suite_name` on `frame` (which must have an int `_row` column) and return violations by row.

    `location` (indexed like frame) names where each row came from ("file.json line 3"); it prefixes reasons.
    An expectation that errors (e.g. a column missing) raises: that is a broken contract, not bad data.
    """
    import great_expectations as gx

    if frame.empty:
        return {}
    suite_json = load_suite_json(suite_name)
    suite = gx.ExpectationSuite(**suite_json)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        suite,
        expectation_parameters=parameters or {},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_COLUMN]},
    )
    by_row: dict[int, list[Violation]] = {}
    where = location if location is not None else pd.Series("", index=frame.index)
    row_to_index = pd.Series(frame.index, index=frame[ROW_COLUMN].to_numpy())
    for res in result.results:
        config = res.expectation_config
        meta = config.meta or {}
        if res.exception_info and res.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"contract {suite_name}: expectation {config.type} on {config.kwargs.get('column')} "
                f"could not run: {res.exception_info.get('exception_message')}"
            )
        if res.success:
            continue
        column = config.kwargs.get("column")
        field = meta.get("field", column)
        value_column = meta.get("value_column", column)
        detail_column = meta.get("detail_column")
        for hit in res.result.get("unexpected_index_list") or []:
            row = int(hit[ROW_COLUMN])
            idx = row_to_index[row]
            value = frame.at[idx, value_column] if value_column in frame.columns else hit.get(column)
            reason = f"{where[idx]}: field '{field}': {meta['message']} (value: {_describe(value)})"
            if detail_column and detail_column in frame.columns and frame.at[idx, detail_column]:
                reason += f": {frame.at[idx, detail_column]}"
            by_row.setdefault(row, []).append(Violation(rule=meta["rule"], field=field, reason=reason))
    return by_row
