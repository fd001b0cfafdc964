"""The fingerprint stage split for Airflow dynamic task mapping: plan → shards (no DuckDB) → load.

DuckDB has one writer and shards may run on other machines, so the work between plan and load travels as
files under `<work dir>/fingerprint/dt=D/`: one JSON manifest per shard (its media files) and one folder of
Parquet outputs per shard, completed by a `_SUCCESS.json` marker written last. XCom only carries small
shard descriptors (paths and a digest), never file lists.

Descriptors name shards, not paths: each worker finds them under its own work dir (settings.work_dir), so
machines may mount the shared volume at different paths.

Outputs are a pure function of the manifest (files are keyed by the SHA-256 of their bytes), so a shard
whose marker matches its manifest's digest is done, whichever attempt or run wrote it: retries and reruns
skip finished shards and redo only missing or half-written ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines import settings, warehouse
from pipelines.media_paths import resolve_media
from pipelines.stages.fingerprint_frames import analyses_frames, peaks_frame
from pipelines.stages.shard_files import label, read_json, split_evenly, write_atomic

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
MARKER = "_SUCCESS.json"
TABLES = ("media_checks", "audio_fingerprints", "audio_peaks")


def day_dir(day: date, root: Path | None = None) -> Path:
    """The day's scratch folder: manifests, shard outputs; removed by the load once committed."""
    return (root or settings.work_dir()) / "fingerprint" / f"dt={day.isoformat()}"


def _digest(day: date, files: list[dict[str, Any]]) -> str:
    canonical = json.dumps({"day": day.isoformat(), "files": files}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def todo_files(con: duckdb.DuckDBPyConnection, day: date) -> list[dict[str, Any]]:
    """The day's media files to decode, sorted by hash: new files, and fingerprinted files lacking peaks."""
    new = con.execute(warehouse.sql_text("fingerprint/todo"), {"day": day}).fetchall()
    backfill = con.execute(warehouse.sql_text("fingerprint/peaks_todo"), {"day": day}).fetchall()
    files = [{"audio_sha256": sha, "media_path": path, "peaks_only": False} for sha, path in new]
    files += [{"audio_sha256": sha, "media_path": path, "peaks_only": True} for sha, path in backfill]
    return sorted(files, key=lambda f: f["audio_sha256"])


def plan(
    con: duckdb.DuckDBPyConnection, day: date, shard_settings: settings.ShardSettings | None = None
) -> list[dict[str, Any]]:
    """Split the day's todo into shards, write their manifests, return their descriptors (small, for XCom).

    Deterministic: the same todo gives the same shards and digests, so outputs of an earlier attempt stay
    valid; folders of shards that are no longer planned are removed.
    """
    cfg = shard_settings or settings.shard_settings()
    files = todo_files(con, day)
    folder = day_dir(day)
    bounds = split_evenly(len(files), cfg.files_per_shard, cfg.max_shards)
    if not bounds:
        shutil.rmtree(folder, ignore_errors=True)
        return []
    (folder / "manifests").mkdir(parents=True, exist_ok=True)
    (folder / "shards").mkdir(parents=True, exist_ok=True)
    shards: list[dict[str, Any]] = []
    for index, (start, stop) in enumerate(bounds):
        part = files[start:stop]
        name = f"shard-{index:04d}"
        manifest = folder / "manifests" / f"{name}.json"
        digest = _digest(day, part)
        body = {"version": MANIFEST_VERSION, "day": day.isoformat(), "index": index, "shards": len(bounds),
                "digest": digest, "files": part}
        if not manifest.exists() or read_json(manifest).get("digest") != digest:
            write_atomic(manifest, json.dumps(body, indent=1).encode("utf-8"))
        shards.append({"day": day.isoformat(), "index": index, "shards": len(bounds), "files": len(part),
                       "digest": digest, "name": name})
    planned = {manifest_path(s).name for s in shards} | {output_dir(s).name for s in shards}
    for stale in [*(folder / "manifests").iterdir(), *(folder / "shards").iterdir()]:
        if stale.name not in planned:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    write_atomic(folder / "plan.json", json.dumps(shards, indent=1).encode("utf-8"))
    log.info("fingerprint dt=%s: %d files in %d shards under %s", day, len(files), len(shards), folder)
    return shards


def plan_day(day: date) -> list[dict[str, Any]]:
    """`plan` with a read-only warehouse connection (the Airflow plan task writes nothing to DuckDB)."""
    con = warehouse.connect(read_only=True)
    try:
        return plan(con, day)
    finally:
        con.close()


def manifest_path(shard: dict[str, Any]) -> Path:
    """Where the shard's file list is, under this machine's work dir."""
    return day_dir(date.fromisoformat(shard["day"])) / "manifests" / f"{shard['name']}.json"


def output_dir(shard: dict[str, Any]) -> Path:
    """Where the shard's Parquet outputs and marker go, under this machine's work dir."""
    return day_dir(date.fromisoformat(shard["day"])) / "shards" / shard["name"]


def read_manifest(shard: dict[str, Any]) -> dict[str, Any]:
    """The shard's manifest, refused when it is not the one planned (changed or replaced since)."""
    path = manifest_path(shard)
    if not path.is_file():
        raise FileNotFoundError(f"fingerprint shard {shard['index']}: manifest {path} is missing "
                                "(is the work dir on a volume this worker mounts?)")
    manifest = read_json(path)
    digest = _digest(date.fromisoformat(manifest["day"]), manifest["files"])
    if manifest.get("day") != shard["day"] or digest != shard["digest"] or manifest.get("digest") != digest:
        raise ValueError(f"fingerprint shard {shard['index']}: manifest {path} does not match the plan "
                         f"(digest {digest[:12]}, planned {shard['digest'][:12]}); run fingerprint_plan again")
    return manifest


def completed(shard: dict[str, Any]) -> dict[str, Any] | None:
    """The shard's marker when its outputs are complete for the planned manifest, else None."""
    out = output_dir(shard)
    marker = out / MARKER
    if not marker.is_file():
        return None
    done = read_json(marker)
    if done.get("digest") != shard["digest"]:
        return None
    if not all((out / f"{table}.parquet").is_file() for table in TABLES):
        return None
    return done


def _media_path(partition: Path, declared: str, extensions: tuple[str, ...]) -> Path:
    """The file to decode, strictly inside the partition; a manifest naming a path outside is refused."""
    where = resolve_media(partition, None, declared, extensions)
    if where.status == "outside_partition":
        raise ValueError(f"refusing media path {declared!r}: {where.problem}")
    if where.status == "ok":
        return partition.resolve() / where.path
    return partition.resolve() / declared  # missing or unreadable: the analysis records it (not_found, …)


def _frames(files: list[dict[str, Any]], analyses: list) -> dict[str, pl.DataFrame]:
    for a, f in zip(analyses, files, strict=False):
        a.audio_sha256 = f["audio_sha256"]  # validate's key, whatever the analysis reported
    full = [a for a, f in zip(analyses, files, strict=False) if not f["peaks_only"]]
    checks, fingerprints = analyses_frames(full)
    return {"media_checks": checks, "audio_fingerprints": fingerprints, "audio_peaks": peaks_frame(analyses)}


def run_shard(shard: dict[str, Any]) -> dict[str, Any]:
    """Decode and fingerprint one shard's files into Parquet; no DuckDB. Skips a shard already complete."""
    started = time.perf_counter()
    manifest = read_manifest(shard)
    result = {"index": shard["index"], "files": shard["files"], "digest": shard["digest"]}
    if (done := completed(shard)) is not None:
        log.info("%s: outputs already complete, skipped", label(shard))
        return {**result, "status": "skipped", "rows": done["rows"], "seconds": time.perf_counter() - started}
    day = date.fromisoformat(shard["day"])
    partition = settings.partition_dir(day)
    if not partition.is_dir():
        raise FileNotFoundError(f"landing partition {partition} is not visible on this worker; "
                                "shard workers need the landing zone on a shared volume")
    extensions = settings.contract_settings().media_extensions
    files = manifest["files"]
    paths = [_media_path(partition, f["media_path"], extensions) for f in files]

    from pipelines.audio.analysis import analyse_files

    analyses = analyse_files(paths, workers=settings.workers(), progress=settings.show_progress(),
                             description=label(shard), sha256s=[f["audio_sha256"] for f in files])
    frames = _frames(files, analyses)
    out = output_dir(shard)
    if out.exists():  # a half-written attempt: start the folder afresh
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for table, frame in frames.items():
        tmp = out / f".{table}.parquet.tmp-{uuid.uuid4().hex}"
        frame.write_parquet(tmp)
        os.replace(tmp, out / f"{table}.parquet")
    rows = {table: frame.height for table, frame in frames.items()}
    seconds = time.perf_counter() - started
    marker = {"digest": shard["digest"], "files": len(files), "rows": rows, "seconds": round(seconds, 3)}
    write_atomic(out / MARKER, json.dumps(marker).encode("utf-8"))
    log.info("%s: %d files in %.1f s", label(shard), len(files), seconds)
    return {**result, "status": "done", "rows": rows, "seconds": seconds}


def shard_outputs(shards: Sequence[dict[str, Any]]) -> dict[str, pl.DataFrame]:
    """Every planned shard's outputs as one frame per table; fails loudly on a missing or stale shard.

    Also checks each shard holds exactly its manifest's files, so a load never half-covers the day.
    """
    missing = [f"shard {s['index']} ({output_dir(s)})" for s in shards if completed(s) is None]
    if missing:
        raise FileNotFoundError(f"fingerprint: {len(missing)} of {len(shards)} planned shard outputs are missing "
                                f"or incomplete: {', '.join(missing)}; rerun their fingerprint_shard tasks")
    parts: dict[str, list[pl.DataFrame]] = {t: [] for t in TABLES}
    for s in shards:
        files = read_manifest(s)["files"]
        for table in TABLES:
            parts[table].append(pl.read_parquet(output_dir(s) / f"{table}.parquet"))
        wanted = sorted(f["audio_sha256"] for f in files if not f["peaks_only"])
        got = sorted(parts["media_checks"][-1]["audio_sha256"].to_list())
        if got != wanted:
            raise ValueError(f"fingerprint shard {s['index']}: media_checks cover {len(got)} files, "
                             f"its manifest {len(wanted)}; rerun the shard")
    empty_checks, empty_fingerprints = analyses_frames([])
    empty = {"media_checks": empty_checks, "audio_fingerprints": empty_fingerprints, "audio_peaks": peaks_frame([])}
    return {t: pl.concat([empty[t], *parts[t]], how="vertical") for t in TABLES}


def remove_day(day: date) -> None:
    """Drop the day's scratch folder once its outputs are committed to the warehouse."""
    shutil.rmtree(day_dir(day), ignore_errors=True)
