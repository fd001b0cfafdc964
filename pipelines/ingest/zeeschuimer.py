"""Zeeschuimer / 4CAT ndjson: one line per captured item, the TikTok web item wrapped under `data`.

Zeeschuimer (js/zs-background.js) stores every item as {nav_index, item_id, timestamp_collected, last_updated,
source_platform, source_platform_url, source_url, user_agent, data} and its ".ndjson (original)" export
(popup/interface.js get_ndjson_blob) writes each stored item as one JSON line; 4CAT's TikTok import
(datasources/tiktok/search_tiktok.py) reads `json.loads(line)["data"]`. `data` is the item exactly as TikTok's
web API returned it, so it is read by the tiktok_web mapping.
"""

from __future__ import annotations

from pipelines.ingest import tiktok_web
from pipelines.ingest.common import JsonRecord, map_records, not_an_object
from pipelines.records import CanonicalPost, RecordProblem

FORMAT = "zeeschuimer_ndjson"
WRAPPER_KEYS = ("data", "item_id", "timestamp_collected", "source_platform")
PLATFORMS = ("tiktok.com",)  # Zeeschuimer's module id for TikTok (modules/tiktok.js DOMAIN)


def read_records(records: list[JsonRecord], source_file: str) -> tuple[list[CanonicalPost], list[RecordProblem]]:
    """Unwrap each line's `data` (keeping the whole line as raw) and map it as a web item."""
    inner: list[JsonRecord] = []
    wrong: list[RecordProblem] = []
    for record in records:
        data = record.value.get("data") if isinstance(record.value, dict) else None
        if isinstance(data, dict):
            inner.append(JsonRecord(data, record.raw, record.line, record.index))
        else:
            wrong.append(not_an_object(JsonRecord(data, record.raw, record.line, record.index), source_file, FORMAT))
    posts, problems = map_records(inner, tiktok_web.REQUIRED, source_file, FORMAT,
                                  lambda record, name: tiktok_web.to_post(record, name, FORMAT))
    return posts, problems + wrong
