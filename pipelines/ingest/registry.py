"""The export formats trendtrace reads: each declares the signature only its files have, and its reader.

A file is read by exactly one format: the one whose signature accepts its container. None accepting is
`unknown_format`, more than one is `ambiguous_format`; either way every record of the file is quarantined with
a reason naming each candidate and why it refused. Signatures are keys/columns/wrappers a tool writes and
others do not (yt-dlp's `extractor_key`, Zeeschuimer's wrapper, 4CAT's `thread_id`...), never an overlap of
count columns that every tool has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipelines.ingest import apify, csv_export, fourcat_csv, mapped, research_api, tiktok_web, ytdlp, zeeschuimer
from pipelines.ingest.common import where
from pipelines.ingest.detect import Container, Detection
from pipelines.media_paths import PartitionFiles
from pipelines.records import CanonicalPost, RecordProblem

Read = Callable[[Detection, str, str, PartitionFiles | None], tuple[list[CanonicalPost], list[RecordProblem]]]
# A signature check: None when the container is this format's, else the reason it is not.
Accepts = Callable[[Container], str | None]

WEB_KEYS = tuple(sorted(tiktok_web.SHAPE_KEYS))
# Research API keys that name what the API returns and no other tool writes (no count columns among them).
RESEARCH_KEYS = ("create_time", "video_description", "region_code", "hashtag_names", "video_duration",
                 "username", "music_id", "effect_ids", "playlist_id", "voice_to_text", "hashtag_info_list",
                 "video_mention_list", "sticker_info_list", "effect_info_list", "video_label", "video_tag")
MIN_KEYS = 2


@dataclass(frozen=True, slots=True)
class Format:
    """One export format: its name (records.SOURCE_FORMATS), container, signature (said plainly, for
    `trendtrace formats`), the fields it needs (missing from every record = schema drift) and the tool."""

    name: str
    container: str
    signature: str
    required: tuple[str, ...]
    tool: str
    accepts: Accepts
    read: Read
    delimiter: str | None = None  # CSV formats: the separator their files use


def _json(found: Container) -> str | None:
    if found.kind != "json":
        return f"not JSON ({'CSV' if found.kind == 'csv' else 'no readable container'})"
    if not found.object_keys():
        return "no JSON object records"
    return None


def _csv(found: Container, delimiter: str) -> str | None:
    if found.kind != "csv":
        return f"not CSV ({'JSON' if found.kind == 'json' else 'no readable container'})"
    if delimiter not in found.headers:
        return f"no {delimiter!r}-separated header"
    return None


def _shown(keys: set[str] | list[str], limit: int = 12) -> str:
    names = sorted(keys)
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "") if names else "none"


def _accepts_web(found: Container) -> str | None:
    if (why := _json(found)) is not None:
        return why
    if found.shape == "itemList":
        return None  # TikTok's web API response wrapper
    if found.shape == "pages":
        return "Research API response pages (data.videos), not web items"
    keys = found.object_keys()
    if "data" in keys and "source_platform" in keys:
        return "items wrapped under 'data' with 'source_platform' (a Zeeschuimer export)"
    seen = keys & tiktok_web.SHAPE_KEYS
    if len(seen) < MIN_KEYS:
        return f"needs {MIN_KEYS} of the web item keys ({_shown(tiktok_web.SHAPE_KEYS)}); found {_shown(seen)}"
    return None


def _research_common(found: Container) -> str | None:
    if (why := _json(found)) is not None:
        return why
    if found.shape == "pages":
        return None
    if found.shape == "itemList":
        return "a web 'itemList' wrapper"
    seen = found.object_keys() & set(RESEARCH_KEYS)
    if len(seen) < MIN_KEYS:
        return f"needs {MIN_KEYS} of the Research API video keys ({_shown(RESEARCH_KEYS)}); found {_shown(seen)}"
    return None


def _accepts_research(found: Container) -> str | None:
    if (why := _research_common(found)) is not None:
        return why
    keys = found.object_keys()
    if "video_id" in keys and "id" not in keys:
        return "records carry 'video_id' and no 'id' (the early shape, research_api_early)"
    return None


def _accepts_research_early(found: Container) -> str | None:
    if (why := _research_common(found)) is not None:
        return why
    keys = found.object_keys()
    if "video_id" not in keys or "id" in keys:
        return "needs 'video_id' and no 'id' in the records"
    return None


def _accepts_zeeschuimer(found: Container) -> str | None:
    if (why := _json(found)) is not None:
        return why
    keys = found.object_keys()
    missing = [k for k in zeeschuimer.WRAPPER_KEYS if k not in keys]
    if missing:
        return f"no Zeeschuimer wrapper: missing {', '.join(missing)}"
    platforms = {r.value.get("source_platform") for r in found.records if isinstance(r.value, dict)}
    others = sorted(str(p) for p in platforms - set(zeeschuimer.PLATFORMS))
    if others:
        return f"source_platform {', '.join(others)}, not {', '.join(zeeschuimer.PLATFORMS)}"
    return None


def _accepts_ytdlp(found: Container) -> str | None:
    if (why := _json(found)) is not None:
        return why
    keys = found.object_keys()
    missing = [k for k in ytdlp.SIGNATURE if k not in keys]
    if missing:
        return f"no yt-dlp info keys: missing {', '.join(missing)}"
    kinds = {r.value.get("_type", "video") for r in found.records if isinstance(r.value, dict)}
    if kinds - {"video"}:
        return f"yt-dlp info of type {', '.join(sorted(map(str, kinds - {'video'})))} (a playlist/channel, not a video)"
    extractors = {r.value.get("extractor_key") for r in found.records if isinstance(r.value, dict)}
    others = sorted(str(e) for e in extractors if not str(e).startswith("TikTok"))
    if others:
        return f"yt-dlp info of extractor {', '.join(others)}, not TikTok"
    return None


def _accepts_apify_json(found: Container) -> str | None:
    if (why := _json(found)) is not None:
        return why
    missing = [k for k in apify.JSON_SIGNATURE if k not in found.object_keys()]
    return f"no Apify item keys: missing {', '.join(missing)}" if missing else None


def _header_has(found: Container, delimiter: str, columns: tuple[str, ...]) -> str | None:
    if (why := _csv(found, delimiter)) is not None:
        return why
    missing = [c for c in columns if c not in found.headers[delimiter]]
    return f"header lacks {', '.join(missing)}" if missing else None


def _accepts_csv_export(found: Container) -> str | None:
    if (why := _csv(found, ",")) is not None:
        return why
    header = found.headers[","]
    seen = [c for c in csv_export.COLUMNS if c in header]
    if "post_id" not in header or len(seen) < 3:
        return f"needs post_id and 2 more of {', '.join(csv_export.COLUMNS)}; found {_shown(seen)}"
    return None


def _read_json(
    reader: Callable[..., tuple[list[CanonicalPost], list[RecordProblem]]], with_files: bool = False
) -> Read:
    def read(found: Detection, text: str, source_file: str, files: PartitionFiles | None):
        if with_files:
            return reader(found.records, source_file, files)
        return reader(found.records, source_file)

    return read


FORMATS: tuple[Format, ...] = (
    Format("tiktok_web", "JSON array / lines / {\"itemList\": [...]}",
           f"{{\"itemList\": [...]}}, or {MIN_KEYS}+ of the web item keys {', '.join(WEB_KEYS)}",
           tiktok_web.REQUIRED, "TikTok web API / TikTok-Api `video.as_dict`", _accepts_web,
           _read_json(tiktok_web.read_records)),
    Format("research_api", "JSON array / lines / {\"data\": {\"videos\": [...]}} (one page per line too)",
           f"a data.videos page, or {MIN_KEYS}+ of {', '.join(RESEARCH_KEYS[:6])}, ...; videos carry 'id'",
           research_api.REQUIRED, "TikTok Research API /v2/research/video/query/", _accepts_research,
           _read_json(research_api.read_records)),
    Format("research_api_early", "as research_api",
           "as research_api, but videos carry 'video_id' and no 'id'",
           research_api.EARLY_REQUIRED, "TikTok Research API, early documented shape", _accepts_research_early,
           _read_json(research_api.read_early_records)),
    Format(zeeschuimer.FORMAT, "JSON lines",
           "every line {data, item_id, timestamp_collected, source_platform: tiktok.com}",
           tiktok_web.REQUIRED, "Zeeschuimer .ndjson export / 4CAT ndjson import", _accepts_zeeschuimer,
           _read_json(zeeschuimer.read_records)),
    Format(ytdlp.FORMAT, "one JSON object (<title> [<id>].info.json) or JSON lines (-j)",
           "keys extractor_key (TikTok...) and webpage_url", ytdlp.REQUIRED,
           "yt-dlp --write-info-json / --dump-json", _accepts_ytdlp, _read_json(ytdlp.read_records, True)),
    Format(apify.JSON_FORMAT, "JSON array / lines", "keys authorMeta and webVideoUrl", apify.JSON_REQUIRED,
           "Apify clockworks/tiktok-scraper dataset (JSON)", _accepts_apify_json,
           _read_json(apify.read_records, True)),
    Format(apify.CSV_FORMAT, "CSV (,) with /-flattened columns", "columns authorMeta/name and webVideoUrl",
           apify.CSV_REQUIRED, "Apify clockworks/tiktok-scraper dataset (CSV)",
           lambda found: _header_has(found, ",", apify.CSV_SIGNATURE),
           lambda found, text, name, files: apify.read_csv(text, name, files), ","),
    Format(fourcat_csv.FOURCAT, "CSV (,)", "columns thread_id, body, tiktok_url", fourcat_csv.REQUIRED,
           "4CAT TikTok dataset CSV (map_item)", lambda found: _header_has(found, ",", fourcat_csv.SIGNATURE),
           lambda found, text, name, files: fourcat_csv.read_csv(text, name, fourcat_csv.FOURCAT), ","),
    Format(fourcat_csv.ZEESCHUIMER, "CSV (;)", "';'-separated columns thread_id, body, tiktok_url",
           fourcat_csv.REQUIRED, "Zeeschuimer .csv export (4CAT's map_item, ';')",
           lambda found: _header_has(found, ";", fourcat_csv.SIGNATURE),
           lambda found, text, name, files: fourcat_csv.read_csv(text, name, fourcat_csv.ZEESCHUIMER), ";"),
    Format(csv_export.FORMAT, "CSV (,)", f"columns post_id + 2 more of {', '.join(csv_export.COLUMNS)}",
           csv_export.COLUMNS, "trendtrace's own CSV", _accepts_csv_export,
           lambda found, text, name, files: csv_export.read_csv(text, name), ","),
)
BY_NAME = {f.name: f for f in FORMATS}


def _mapped_format(m: mapped.Mapping) -> Format:
    """A config/formats/<name>.yaml mapping as a registry entry."""
    if m.container == "csv":
        def accepts(found: Container) -> str | None:
            return _header_has(found, m.delimiter, m.signature)

        def read(found: Detection, text: str, name: str, files: PartitionFiles | None):
            return mapped.read_csv(m, text, name)
        container = f"CSV ({m.delimiter}), {m.source.name}"
    else:
        def accepts(found: Container) -> str | None:
            if (why := _json(found)) is not None:
                return why
            missing = [k for k in m.signature if k not in found.object_keys()]
            return f"no keys {', '.join(missing)}" if missing else None

        def read(found: Detection, text: str, name: str, files: PartitionFiles | None):
            return mapped.read_json(m, found.records, name)
        container = f"JSON, {m.source.name}"
    shown = ", ".join(f"{k}<-{v}" for k, v in m.fields.items())
    return Format(m.name, container, f"{'columns' if m.container == 'csv' else 'keys'} {', '.join(m.signature)}"
                  f" (maps {shown})", m.required, m.tool, accepts, read,
                  m.delimiter if m.container == "csv" else None)


def all_formats() -> tuple[Format, ...]:
    """The built-in formats plus every declarative one in config/formats/ (a name may not be reused)."""
    extra = [_mapped_format(m) for m in mapped.load()]
    taken = set(BY_NAME)
    for f in extra:
        if f.name in taken:
            raise mapped.MappingError(f"config/formats: format name {f.name!r} is already taken")
        taken.add(f.name)
    return FORMATS + tuple(extra)


def by_name(name: str) -> Format:
    return BY_NAME.get(name) or {f.name: f for f in all_formats()}[name]


def refusals(found: Container) -> dict[str, str]:
    """Every format's verdict on the container: '' = accepts, else why not."""
    return {f.name: (f.accepts(found) or "") for f in all_formats()}


def choose(found: Container, text: str, source_file: str) -> Detection:
    """The one format that accepts the file, or every record quarantined naming the candidates."""
    if found.kind is None:
        problems = [found.file_problem] if found.file_problem else [file_problem(
            text, source_file, "unknown_format", f"unknown export format: {found.reason}")]
        return Detection(None, problems=problems, container=found)
    if found.kind == "json" and not found.records:
        return Detection(None, problems=list(found.problems), container=found)  # an empty list, or only bad lines
    verdicts = refusals(found)
    accepted = [name for name, why in verdicts.items() if not why]
    if len(accepted) == 1:
        for problem in found.problems:
            problem.source_format = accepted[0]
        return Detection(accepted[0], found.records, list(found.problems), found, verdicts)
    if accepted:
        rule, why = "ambiguous_format", f"ambiguous export format: accepted by {', '.join(accepted)}"
    else:
        rule = "unknown_format"
        why = "unknown export format; " + explain(verdicts)
    return Detection(None, problems=record_problems(found, text, source_file, rule, why), container=found,
                     refusals=verdicts)


def explain(verdicts: dict[str, str]) -> str:
    """Each candidate's refusal; formats refused only for their container are named together."""
    wrong_container: dict[str, list[str]] = {}
    parts: list[str] = []
    for name, why in verdicts.items():
        if why.startswith(("not JSON", "not CSV")):
            wrong_container.setdefault(why.split(" (")[0], []).append(name)
        elif why:
            parts.append(f"{name}: {why}")
    parts += [f"{what}: {', '.join(names)}" for what, names in wrong_container.items()]
    return "; ".join(parts)


def record_problems(
    found: Container, text: str, source_file: str, rule: str, why: str, fmt: str | None = None, field: str | None = None
) -> list[RecordProblem]:
    """One problem per record the file holds (JSON records, CSV rows; problems already found kept), so that
    posts + quarantine = records in; a container without records is one file-level problem."""
    from pipelines.ingest import csv_rows

    problems = list(found.problems)
    if found.kind == "json":
        problems.extend(RecordProblem(
            source_file=source_file, source_line=record.line, source_record=record.index, field=field,
            rule=rule, reason=f"{where(source_file, record.line, record.index)}: {why}", raw=record.raw,
            source_format=fmt,
        ) for record in found.records)
    elif found.kind == "csv":
        delimiter = next((d for d in csv_rows.CSV_DELIMITERS if d in found.headers), ",")
        if fmt and by_name(fmt).delimiter:
            delimiter = by_name(fmt).delimiter
        for row in csv_rows.rows(text, source_file, fmt or "", delimiter):
            if isinstance(row, csv_rows.CsvRow):
                line, index = row.line, row.index
            else:
                line, index = row.source_line, row.source_record
            problems.append(RecordProblem(
                source_file=source_file, source_line=line, source_record=index, field=field, rule=rule,
                reason=f"{where(source_file, line, index)}: {why}", raw=row.raw, source_format=fmt,
            ))
    if not problems:
        problems.append(file_problem(text, source_file, rule, why, fmt))
    return problems


def file_problem(text: str, source_file: str, rule: str, why: str, fmt: str | None = None) -> RecordProblem:
    from pipelines.ingest.common import file_raw

    return RecordProblem(source_file=source_file, source_line=None, source_record=None, field=None, rule=rule,
                         reason=f"{source_file}: {why}", raw=file_raw(text), source_format=fmt)
