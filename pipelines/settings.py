"""Paths and thresholds, resolved in one place: CLI flags > environment > config/trendtrace.yaml > defaults.

Every stage reads its settings from here so that a scheduler-started task and `trendtrace run` agree.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_FILE = PROJECT_ROOT / "config" / "trendtrace.yaml"
# The one definition of the adoption thresholds (no defaults in Python: a missing key is an error).
ADOPTION_FILE = PROJECT_ROOT / "config" / "adoption.yaml"
# A sound's adoption stages, weakest first (the values of sound_daily.stage).
ADOPTION_STAGES = ("moment", "spark", "trend", "movement")

# How long a process waits for SQLite's write lock on Airflow's metadata DB before giving up (pysqlite's default is
# 5 s). Under load (the suite's 3 workers on 2 cores) a 5 s wait ran out: the standalone's scheduler and triggerer
# died of "database is locked" while its api-server went on answering, and the catch-up never finished.
SQLITE_BUSY_TIMEOUT_S = 60


def airflow_sqlite_url(home: Path) -> str:
    """Airflow's metadata DB for the embedded default: one SQLite file in `home`, with a busy timeout that outlasts
    a loaded machine (scripts/airflow_env.sh writes the same URL for the shell)."""
    return f"sqlite:///{home / 'airflow.db'}?timeout={SQLITE_BUSY_TIMEOUT_S}"


ENV_LANDING = "TRENDTRACE_LANDING"
ENV_WAREHOUSE = "TRENDTRACE_WAREHOUSE"
ENV_WORKERS = "TRENDTRACE_WORKERS"
ENV_START_DATE = "TRENDTRACE_START_DATE"
ENV_END_DATE = "TRENDTRACE_END_DATE"
ENV_PROGRESS = "TRENDTRACE_PROGRESS"
ENV_WORK_DIR = "TRENDTRACE_WORK_DIR"
ENV_FILES_PER_SHARD = "TRENDTRACE_FILES_PER_SHARD"
ENV_MAX_SHARDS = "TRENDTRACE_MAX_SHARDS"
ENV_PARALLEL_SHARDS = "TRENDTRACE_PARALLEL_SHARDS"
ENV_WAREHOUSE_QUEUE = "TRENDTRACE_WAREHOUSE_QUEUE"
ENV_SHARD_QUEUE = "TRENDTRACE_SHARD_QUEUE"
ENV_MATCH_FILES_PER_SHARD = "TRENDTRACE_MATCH_FILES_PER_SHARD"
ENV_MATCH_SHARD_QUEUE = "TRENDTRACE_MATCH_SHARD_QUEUE"
ENV_RETRY_DELAY_S = "TRENDTRACE_RETRY_DELAY_S"
ENV_FRESH_POLL_S = "TRENDTRACE_FRESH_POLL_S"
ENV_LINEAGE_AUDIO = "TRENDTRACE_LINEAGE_AUDIO"
ENV_LINEAGE_AUDIO_ONLY = "TRENDTRACE_LINEAGE_AUDIO_ONLY"

# The file a collection tool writes into `dt=D/` last, when the day's files are complete (Hadoop/Spark's name):
# it starts that day's fresh run (pipelines/landing_watch.py) and is never read as an export.
COMPLETION_MARKER = "_SUCCESS"

DEFAULT_LANDING = PROJECT_ROOT / "data" / "landing"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse" / "trendtrace.duckdb"


@dataclass(frozen=True)
class ContractSettings:
    """Thresholds the data contracts are parameterised with (documented in docs/landing.md)."""

    # how many days after its partition (collection) day a post may be dated; older posts have no limit
    early_arrival_days: int
    min_duration_s: float
    max_duration_s: float
    silence_peak_dbfs: float  # a file whose loudest sample is below this is "all silence"
    media_extensions: tuple[str, ...]


@contextmanager
def environ_restored(*keys: str) -> Iterator[None]:
    """Environment variables `keys` as they were on entry, put back (or removed) on exit: for code that sets the
    settings above for one run (a backfill's date bounds, a test's landing zone) in a process that goes on."""
    saved = {key: os.environ.get(key) for key in keys}
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@lru_cache(maxsize=1)
def _config() -> dict[str, Any]:
    if CONFIG_FILE.exists():
        with CONFIG_FILE.open(encoding="utf-8") as f:
            loaded = yaml.safe_load(f) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{CONFIG_FILE}: expected a mapping at top level, got {type(loaded).__name__}")
        return loaded
    return {}


def landing_dir() -> Path:
    """Root of the landing zone (`dt=YYYY-MM-DD/` partitions)."""
    return Path(os.environ.get(ENV_LANDING) or DEFAULT_LANDING).expanduser().resolve()


def warehouse_path() -> Path:
    """The DuckDB file analysts query."""
    return Path(os.environ.get(ENV_WAREHOUSE) or DEFAULT_WAREHOUSE).expanduser().resolve()


def workers() -> int:
    """Processes for CPU-bound work inside one task (decoding, fingerprinting)."""
    value = os.environ.get(ENV_WORKERS)
    return max(1, int(value)) if value else max(1, os.cpu_count() or 1)


def fresh_poll_seconds() -> float:
    """How often the triggerer looks for new completion markers (TRENDTRACE_FRESH_POLL_S, default 5 s)."""
    value = os.environ.get(ENV_FRESH_POLL_S)
    seconds = float(value) if value else 5.0
    if not seconds > 0:
        raise ValueError(f"{ENV_FRESH_POLL_S}: must be a positive number of seconds, got {value!r}")
    return seconds


def show_progress() -> bool:
    return os.environ.get(ENV_PROGRESS, "1") not in ("0", "false", "no")


def contract_settings() -> ContractSettings:
    c = _config().get("contracts", {})
    if "late_arrival_days" in c:  # an old config: say so rather than silently ignore a limit that no longer applies
        raise ValueError(
            f"{CONFIG_FILE}: contracts.late_arrival_days is no longer a setting: a partition is the day the data was "
            "collected and posts of any age are accepted (docs/landing.md, 'Collections of any age'); remove the key"
        )
    return ContractSettings(
        early_arrival_days=int(c.get("early_arrival_days", 1)),
        min_duration_s=float(c.get("min_duration_s", 0.5)),
        max_duration_s=float(c.get("max_duration_s", 20 * 60)),
        silence_peak_dbfs=float(c.get("silence_peak_dbfs", -60.0)),
        media_extensions=tuple(
            c.get("media_extensions", ["mp4", "m4a", "mp3", "aac", "ogg", "opus", "wav", "webm", "flac"])
        ),
    )


@dataclass(frozen=True)
class AdoptionThresholds:
    """When a sound-day reaches each adoption stage (sql/adoption/sound_daily.sql); docs/lineage.md says why.

    Deliberately without defaults: config/adoption.yaml is the only place the numbers are written.
    """

    spark_min_creators: int
    trend_min_new_creators_day: int
    trend_growth_ratio: float
    movement_min_creators: int
    movement_min_depth: int
    movement_min_branches: int
    movement_min_new_creators_7d: int
    robust_z_window_days: int
    robust_z_min_days: int


_NUMBER_TYPES = {"int": int, "float": float}


def adoption_thresholds(path: Path | None = None) -> AdoptionThresholds:
    """The thresholds in config/adoption.yaml (or `path`); a missing, unknown or non-numeric key is an error
    naming the file and the key, so a typo never silently falls back to some other number."""
    file = path or ADOPTION_FILE
    if not file.is_file():
        raise FileNotFoundError(f"{file}: the adoption thresholds file is missing")
    loaded = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise ValueError(f"{file}: expected a mapping of adoption thresholds, got {type(loaded).__name__}")
    known = {f.name: _NUMBER_TYPES[str(f.type)] for f in fields(AdoptionThresholds)}
    unknown = sorted(set(loaded) - set(known))
    if unknown:
        raise ValueError(f"{file}: unknown adoption thresholds {', '.join(unknown)}; known: {', '.join(known)}")
    missing = [k for k in known if k not in loaded]
    if missing:
        raise ValueError(f"{file}: missing adoption threshold {', '.join(missing)}")
    values = {}
    for key, cast in known.items():
        value = loaded[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{file}: adoption threshold {key} must be a number, got {value!r}")
        values[key] = cast(value)
    return AdoptionThresholds(**values)


@dataclass(frozen=True)
class ShardSettings:
    """How the fingerprint and match stages split a day into mapped Airflow tasks (docs/scaling.md)."""

    files_per_shard: int  # target media files per fingerprint shard
    max_shards: int  # upper bound on mapped tasks per day and stage (bigger shards beyond it)
    parallel_shards: int  # max_active_tis_per_dagrun of the mapped tasks
    warehouse_queue: str | None = None  # Celery queue of every task that writes DuckDB (None: Airflow's default)
    shard_queue: str | None = None  # Celery queue of the fingerprint shard tasks (None: Airflow's default)
    match_files_per_shard: int = 256  # target distinct audio files per match shard (whole chunks of 64)
    # Celery queue of the match shard tasks: they read the warehouse file (read-only), so their workers must see
    # it (the warehouse's machine or a shared volume); None: shard_queue
    match_shard_queue: str | None = None


def _positive_int(env: str, section: dict[str, Any], key: str, default: int) -> int:
    value = os.environ.get(env) or section.get(key, default)
    number = int(value)
    if number < 1:
        raise ValueError(f"{key} (or {env}) must be at least 1, got {number}")
    return number


def shard_settings() -> ShardSettings:
    c = _config().get("fingerprint", {}) or {}
    return ShardSettings(
        files_per_shard=_positive_int(ENV_FILES_PER_SHARD, c, "files_per_shard", 200),
        max_shards=_positive_int(ENV_MAX_SHARDS, c, "max_shards", 32),
        parallel_shards=_positive_int(ENV_PARALLEL_SHARDS, c, "parallel_shards", 16),
        warehouse_queue=os.environ.get(ENV_WAREHOUSE_QUEUE) or c.get("warehouse_queue") or None,
        shard_queue=os.environ.get(ENV_SHARD_QUEUE) or c.get("shard_queue") or None,
        match_files_per_shard=_positive_int(ENV_MATCH_FILES_PER_SHARD, c, "match_files_per_shard", 256),
        match_shard_queue=(os.environ.get(ENV_MATCH_SHARD_QUEUE) or c.get("match_shard_queue")
                           or os.environ.get(ENV_SHARD_QUEUE) or c.get("shard_queue") or None),
    )


def work_dir() -> Path:
    """Scratch space shared by the fingerprint plan, its shard workers and the load task.

    Defaults to `<warehouse dir>/work`; with several machines (Celery/Kubernetes) it must be a path every
    worker mounts (a shared volume), set by TRENDTRACE_WORK_DIR or `fingerprint.work_dir`.
    """
    configured = os.environ.get(ENV_WORK_DIR) or (_config().get("fingerprint", {}) or {}).get("work_dir")
    if configured:
        path = Path(configured).expanduser()
        return (path if path.is_absolute() else PROJECT_ROOT / path).resolve()
    return warehouse_path().parent / "work"


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _switch(env: str, section: dict[str, Any], key: str, default: bool) -> bool:
    """An on/off setting: env > config key > default; any other value is an error naming env and key."""
    raw = os.environ.get(env)
    value: Any = raw if raw not in (None, "") else section.get(key, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{CONFIG_FILE}: lineage.{key} (or {env}) must be true or false, got {value!r}")


@dataclass(frozen=True)
class LineageSettings:
    """Which post-to-post audio evidence link_lineage uses (docs/lineage.md, "Audio evidence")."""

    # the audio grades and disambiguates the claims an explicit id or a caption makes (default on)
    audio: bool
    # audio_stitch / audio_duet edges from the audio alone, no id or caption behind them (default off: measured
    # precision on the sample world is too low to ship by default); needs `audio`
    audio_only: bool


def lineage_settings() -> LineageSettings:
    c = _config().get("lineage", {}) or {}
    audio = _switch(ENV_LINEAGE_AUDIO, c, "audio", True)
    return LineageSettings(audio=audio, audio_only=audio and _switch(ENV_LINEAGE_AUDIO_ONLY, c, "audio_only", False))


def partition_dir(day: date, landing: Path | None = None) -> Path:
    return (landing or landing_dir()) / f"dt={day.isoformat()}"


PARTITION_PREFIX = "dt="
_DAY_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidDay(ValueError):
    """A day given as text that is not a real calendar date in YYYY-MM-DD form."""


def parse_day(text: str, what: str = "day") -> date:
    """A strict YYYY-MM-DD calendar date; anything else raises InvalidDay saying why.

    `date.fromisoformat` alone is too lenient (3.11 also takes 20240301 and 2024-W09-5, which name no
    dt= folder) and its error says nothing about the expected form.
    """
    value = text.strip()
    if not _DAY_TEXT.fullmatch(value):
        raise InvalidDay(f"{what} {text!r} is not a date in YYYY-MM-DD form (e.g. 2024-03-01)")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidDay(f"{what} {text!r} is not a calendar date ({exc})") from None


@dataclass(frozen=True)
class InvalidPartition:
    """A `dt=` entry of the landing zone that names no day: never processed, always reported."""

    name: str  # the folder (or file) name as found, e.g. dt=2024-02-30
    reason: str

    def describe(self) -> str:
        return f"{self.name}: {self.reason}"


def scan_partitions(landing: Path | None = None) -> tuple[list[date], list[InvalidPartition]]:
    """(days with a valid partition folder, sorted; every other `dt=` entry, by name).

    A folder is a partition only when its name is exactly `dt=` + a real YYYY-MM-DD date, because the run
    for day D reads `dt=D.isoformat()`: `dt=2024-3-1` or `dt=2024-02-30` would never be read by any run,
    so they are reported instead of skipped.
    """
    root = landing or landing_dir()
    days: list[date] = []
    invalid: list[InvalidPartition] = []
    if root.is_dir():
        for child in root.iterdir():
            if not child.name.startswith(PARTITION_PREFIX):
                continue
            if not child.is_dir():
                invalid.append(InvalidPartition(child.name, "not a folder"))
                continue
            try:
                days.append(parse_day(child.name[len(PARTITION_PREFIX):], "partition date"))
            except InvalidDay as exc:
                invalid.append(InvalidPartition(child.name, f"{exc}; rename it to dt=YYYY-MM-DD to have it processed"))
    return sorted(days), sorted(invalid, key=lambda p: p.name)


def landing_days(landing: Path | None = None) -> list[date]:
    """Days that have a valid partition folder, sorted (see `invalid_partitions` for the others)."""
    return scan_partitions(landing)[0]


def invalid_partitions(landing: Path | None = None) -> list[InvalidPartition]:
    """`dt=` entries that name no real day: no run reads them, so every caller must report them."""
    return scan_partitions(landing)[1]


def _schedule_days() -> list[date]:
    """Valid partition days for the DAG's schedule; invalid `dt=` folders are logged at every parse."""
    days, invalid = scan_partitions()
    if invalid:
        logging.getLogger(__name__).warning(
            "landing zone %s has %d invalid partition folder(s) that no run will read: %s",
            landing_dir(), len(invalid), "; ".join(p.describe() for p in invalid),
        )
    return days


def dag_start_date() -> date:
    """First day the DAG schedules: env override, else the landing zone's earliest partition, else today.

    Exports are historical, so a fixed recent start_date would make Airflow silently skip old days.
    """
    if os.environ.get(ENV_START_DATE):
        return parse_day(os.environ[ENV_START_DATE], ENV_START_DATE)
    days = _schedule_days()
    return days[0] if days else date.today()


def retry_delay_s() -> float:
    """Seconds before a failed task's first retry (then exponential backoff): TRENDTRACE_RETRY_DELAY_S, default 30.
    Read when the DAG is parsed; a local test cluster uses a few seconds, production keeps room for a flaky mount."""
    value = float(os.environ.get(ENV_RETRY_DELAY_S) or 30)
    if value < 0:
        raise ValueError(f"{ENV_RETRY_DELAY_S} must be at least 0, got {value}")
    return value


def dag_end_date() -> date | None:
    """Last day the DAG schedules: env override, else the landing zone's latest partition.

    Re-read at every DAG parse, so a new partition extends the schedule; without it, catchup over a
    historical landing zone would queue a no-data run for every day up to today.
    """
    if os.environ.get(ENV_END_DATE):
        return parse_day(os.environ[ENV_END_DATE], ENV_END_DATE)
    days = _schedule_days()
    return days[-1] if days else None
