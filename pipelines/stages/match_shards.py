"""match_sounds split for Airflow dynamic task mapping: plan → shards (read-only) → the writer.

The day's matching has two passes (pipelines/matching/engine.py). The first, each file against the index as it
was before the day, is most of the cost and reads only: `plan` (a warehouse task) forgets what an earlier run
of the day added, commits that, and cuts the day's distinct audio into shards of whole chunks; `run_shard`
(any worker that sees the warehouse file and the landing zone) runs the first pass over one shard on a read-only
connection into Parquet; the `match_sounds` task (pipelines/stages/match_sounds.py `run_load`) reads every
shard's matches, runs the second pass (what the day itself adds), resolution, the merge pass and the writes in
one transaction. The rows are the same as `match_sounds.run` computes in one process (tested).

Files travel under `<work dir>/match/dt=D/` as for the fingerprint shards: a JSON manifest per shard (its files
and the index state it was planned against), one Parquet file and a `_SUCCESS.json` marker per shard output.
A shard's matches are a function of its manifest (files, chunk positions, index state) and of the day's files
before it (which files an earlier one plays: pipelines/matching/earlier_files.py), so retries and reruns
skip a shard whose marker matches and redo the others; a manifest planned against another index state is
refused by the shard and ignored by the writer, which then runs the first pass itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipelines import settings, warehouse
from pipelines.matching import engine, store
from pipelines.matching.types import FirstPass, Match
from pipelines.stages.shard_files import label, read_json, split_evenly, write_atomic  # noqa: F401 (label: the DAG's)

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
MARKER = "_SUCCESS.json"
MATCH_COLUMNS = {"audio_sha256": pl.String, "k": pl.Int32, "qid": pl.Int32, "ref": pl.Int32,
                 "post_start_s": pl.Float64, "post_end_s": pl.Float64, "ref_start_s": pl.Float64,
                 "ref_end_s": pl.Float64, "speed": pl.Float64, "pitch": pl.Float64, "score": pl.Float64,
                 "method": pl.String}


def day_dir(day: date, root: Path | None = None) -> Path:
    """The day's scratch folder for match shards; removed by the writer once committed."""
    return (root or settings.work_dir()) / "match" / f"dt={day.isoformat()}"


def index_state(con: duckdb.DuckDBPyConnection) -> str:
    """What the first pass reads, summarised: the indexed audio (ids and sounds). A shard planned against one
    state and run against another would return matches for another index."""
    rows = warehouse.fetch_rows(con, "match_sounds/index_state")
    return hashlib.sha256(json.dumps(rows, default=str).encode("utf-8")).hexdigest()


def _digest(day: date, start: int, files: list[str], state: str) -> str:
    canonical = json.dumps({"day": day.isoformat(), "start": start, "files": files, "index": state},
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def shard_bounds(n_files: int, files_per_shard: int, max_shards: int) -> list[tuple[int, int]]:
    """[start, stop) file positions of each shard: whole chunks of engine.CHUNK (the first pass votes over a
    chunk's union, so a chunk is never cut), about `files_per_shard` files each, at most `max_shards`."""
    chunks = math.ceil(n_files / engine.CHUNK)
    per = max(1, round(files_per_shard / engine.CHUNK))
    return [(a * engine.CHUNK, min(b * engine.CHUNK, n_files)) for a, b in split_evenly(chunks, per, max_shards)]


def plan(con: duckdb.DuckDBPyConnection, day: date, cfg: settings.ShardSettings | None = None) -> list[dict]:
    """Forget the day's earlier matching (committed: the shards read the index without it), then write one
    manifest per shard; returns the shards' small descriptors (for XCom)."""
    cfg = cfg or settings.shard_settings()
    with warehouse.transaction(con):
        warehouse.run_sql(con, "match_sounds/reset_day", {"day": day})
        warehouse.run_sql(con, "match_sounds/refresh_sounds")
    files = store.day_audio(con, day)["audio_sha256"].to_list()
    state = index_state(con)
    folder = day_dir(day)
    shutil.rmtree(folder, ignore_errors=True)
    bounds = shard_bounds(len(files), cfg.match_files_per_shard, cfg.max_shards)
    if not bounds:
        return []
    (folder / "manifests").mkdir(parents=True)
    (folder / "shards").mkdir(parents=True)
    shards = []
    for index, (start, stop) in enumerate(bounds):
        name = f"shard-{index:04d}"
        digest = _digest(day, start, files[start:stop], state)
        body = {"version": MANIFEST_VERSION, "day": day.isoformat(), "index": index, "shards": len(bounds),
                "start": start, "stop": stop, "index_state": state, "digest": digest, "files": files[start:stop]}
        write_atomic(folder / "manifests" / f"{name}.json", json.dumps(body, indent=1).encode("utf-8"))
        shards.append({"day": day.isoformat(), "index": index, "shards": len(bounds), "start": start,
                       "files": stop - start, "digest": digest, "name": name})
    log.info("match dt=%s: %d files in %d shards under %s", day, len(files), len(shards), folder)
    return shards


def plan_day(day: date) -> list[dict]:
    """`plan` on its own warehouse connection (the Airflow `match_plan` task)."""
    con = warehouse.connect()
    try:
        return plan(con, day)
    finally:
        con.close()


def _paths(shard: dict) -> tuple[Path, Path]:
    folder = day_dir(date.fromisoformat(shard["day"]))
    return folder / "manifests" / f"{shard['name']}.json", folder / "shards" / shard["name"]


def completed(shard: dict) -> Path | None:
    """The shard's matches file when its marker matches the planned digest and its columns are today's Match
    fields (a file written before a field was added is matched again), else None."""
    _, out = _paths(shard)
    marker = out / MARKER
    if marker.is_file() and read_json(marker).get("digest") == shard["digest"] and (out / "matches.parquet").is_file() \
            and set(pl.read_parquet_schema(out / "matches.parquet")) == set(MATCH_COLUMNS):
        return out / "matches.parquet"
    return None


def _frame(matches: dict[str, list[Match]]) -> pl.DataFrame:
    rows = [{"audio_sha256": sha, "k": k, "qid": m.qid, "ref": m.ref, "post_start_s": m.post_start_s,
             "post_end_s": m.post_end_s, "ref_start_s": m.ref_start_s, "ref_end_s": m.ref_end_s, "speed": m.speed,
             "pitch": m.pitch, "score": m.score, "method": m.method}
            for sha, found in matches.items() for k, m in enumerate(found)]
    return pl.DataFrame(rows, schema=MATCH_COLUMNS)


def read_matches(path: Path) -> dict[str, list[Match]]:
    """A shard's Parquet back into the first pass's matches by audio_sha256, in their order."""
    out: dict[str, list[Match]] = {}
    for row in pl.read_parquet(path).sort(["audio_sha256", "k"]).iter_rows(named=True):
        out.setdefault(row.pop("audio_sha256"), []).append(Match(**{k: v for k, v in row.items() if k != "k"}))
    return out


def _connect_read_only() -> duckdb.DuckDBPyConnection:
    """The warehouse read-only; in a process that already holds it open for writing (`dag.test` runs every task
    in one process), through that instance."""
    try:
        return warehouse.connect(read_only=True)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise
        return warehouse.connect()


def run_shard(shard: dict) -> dict:
    """The first pass over one shard, into Parquet (no writes to DuckDB). Skips a shard already complete."""
    manifest_file, out = _paths(shard)
    if completed(shard):
        return {**shard, "skipped": True}
    if not manifest_file.is_file():
        raise FileNotFoundError(f"match shard {shard['index']}: manifest {manifest_file} is missing "
                                "(is the work dir on a volume this worker mounts?)")
    manifest = read_json(manifest_file)
    day = date.fromisoformat(manifest["day"])
    con = _connect_read_only()
    try:
        state = index_state(con)
        day_audio = store.day_audio(con, day)
        audio = day_audio.slice(manifest["start"], manifest["stop"] - manifest["start"])
        digest = _digest(day, manifest["start"], audio["audio_sha256"].to_list(), state)
        if digest != shard["digest"] or manifest["digest"] != digest:
            raise ValueError(f"match shard {shard['index']}: the warehouse changed since match_plan "
                             f"(manifest {manifest_file}); run the day again from match_plan")
        with store.bounded_memory(con):
            first = engine.match_against_index(con, day_audio, manifest["start"], manifest["stop"],
                                               settings.partition_dir(day), day=day)
    finally:
        con.close()
    out.mkdir(parents=True, exist_ok=True)
    frame = _frame(first.matches)
    tmp = out / f".matches.parquet.tmp-{shard['digest'][:12]}"
    frame.write_parquet(tmp)
    tmp.replace(out / "matches.parquet")
    write_atomic(out / MARKER, json.dumps({"digest": shard["digest"], "files": audio.height, "matches": frame.height,
                                            "deferred": sorted(first.deferred)}).encode("utf-8"))
    return {**shard, "matches": frame.height}


def load_prior(con: duckdb.DuckDBPyConnection, day: date, shards: list[dict]) -> FirstPass | None:
    """The first pass's result from the planned shards' outputs (their matches, and the files they deferred to
    the second pass: the marker's `deferred`, absent in a marker written before deferral existed), or None (the
    writer then runs the whole first pass itself) unless every shard is complete, was planned against the index as
    it is now, and the shards hold exactly the day's audio at the positions the day has now."""
    state = index_state(con)
    files = store.day_audio(con, day)["audio_sha256"].to_list()
    prior = FirstPass()
    covered = 0
    for shard in shards:
        path = completed(shard)
        manifest_file, out = _paths(shard)
        if path is None or not manifest_file.is_file():
            return None
        manifest = read_json(manifest_file)
        if manifest.get("index_state") != state or manifest["files"] != files[manifest["start"]:manifest["stop"]]:
            return None
        covered += len(manifest["files"])
        prior.update(FirstPass(read_matches(path), set(read_json(out / MARKER).get("deferred", []))))
    return prior if covered == len(files) else None


def clean(day: date) -> None:
    """Remove the day's match scratch folder (after the writer committed)."""
    shutil.rmtree(day_dir(day), ignore_errors=True)
