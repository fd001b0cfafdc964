"""The fingerprint stage's shards on real audio: deterministic plan, DuckDB-free workers, resumable, loud loads."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines import settings
from pipelines.stages import fingerprint, fingerprint_shards, ingest, validate
from tests.support import landing as landing_builder

ROOT = Path(__file__).resolve().parents[2]
DAY = landing_builder.DAY1


@pytest.fixture(scope="module")
def built_landing(tmp_path_factory):
    return landing_builder.build(tmp_path_factory.mktemp("landing"))


@pytest.fixture
def validated(built_landing, tmp_path, monkeypatch):
    """Day 1 ingested and validated into a fresh warehouse, with 3 files per shard (day 1 has 8 files)."""
    monkeypatch.setenv("TRENDTRACE_LANDING", str(built_landing.root))
    wh = tmp_path / "wh" / "trendtrace.duckdb"
    monkeypatch.setenv("TRENDTRACE_WAREHOUSE", str(wh))
    monkeypatch.setenv("TRENDTRACE_FILES_PER_SHARD", "3")
    monkeypatch.delenv("TRENDTRACE_WORK_DIR", raising=False)
    for stage in (ingest, validate):
        assert stage.run(DAY, "test").status == "success"
    return built_landing, wh


def plan_now() -> list[dict]:
    return fingerprint_shards.plan_day(DAY)


def day_media(wh: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute("SELECT DISTINCT audio_sha256, media_path FROM posts WHERE ingest_day = ? "
                           "AND audio_sha256 IS NOT NULL ORDER BY 1", [DAY]).fetchall()
    finally:
        con.close()


def test_split_is_even_bounded_and_covers_everything():
    assert fingerprint_shards.split_evenly(0, 3, 8) == []
    assert fingerprint_shards.split_evenly(7, 3, 8) == [(0, 3), (3, 5), (5, 7)]
    assert fingerprint_shards.split_evenly(7, 100, 8) == [(0, 7)]
    many = fingerprint_shards.split_evenly(1000, 10, 8)  # max_shards caps the count: bigger shards
    assert len(many) == 8 and many[0] == (0, 125) and many[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in itertools.pairwise(many))


def test_plan_is_deterministic_and_xcom_carries_no_file_lists(validated):
    _land, wh = validated
    shards = plan_now()
    assert plan_now() == shards  # same todo -> same shards, same digests
    assert [s["files"] for s in shards] == [3, 3, 2]  # 8 media files on day 1, at most 3 per shard
    work = wh.parent / "work" / "fingerprint" / f"dt={DAY}"
    assert {fingerprint_shards.manifest_path(s).parent for s in shards} == {work / "manifests"}
    # XCom gets names and a digest; each worker finds the files under its own mount of the work dir
    assert all(set(s) == {"day", "index", "shards", "files", "digest", "name"} for s in shards)
    listed = [(f["audio_sha256"], f["media_path"]) for s in shards
              for f in json.loads(fingerprint_shards.manifest_path(s).read_text())["files"]]
    assert sorted(listed) == day_media(wh)  # every media file in exactly one shard
    assert len(listed) == len(set(listed)) == 8


def test_a_shard_runs_in_another_process_while_duckdb_is_locked(validated):
    """Shards never open the warehouse: one runs to completion while another process holds the writer lock."""
    _land, wh = validated
    shard = plan_now()[0]
    writer = duckdb.connect(str(wh))  # this process now holds DuckDB's file lock
    try:
        code = ("import json,sys; from pipelines.stages.fingerprint_shards import run_shard; "
                "print(json.dumps(run_shard(json.loads(sys.argv[1]))))")
        proc = subprocess.run([sys.executable, "-c", code, json.dumps(shard)], cwd=ROOT, env=os.environ.copy(),
                              capture_output=True, text=True, timeout=120)
    finally:
        writer.close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == "done" and result["rows"]["media_checks"] == 3
    out = fingerprint_shards.output_dir(shard)
    assert sorted(p.name for p in out.iterdir()) == ["_SUCCESS.json", "audio_fingerprints.parquet",
                                                      "audio_peaks.parquet", "media_checks.parquet"]


def test_a_shard_killed_half_way_is_redone_and_finished_ones_are_skipped(validated):
    _land, wh = validated
    shards = plan_now()
    first = [fingerprint_shards.run_shard(s) for s in shards]
    assert [r["status"] for r in first] == ["done"] * 3
    # shard 1 "killed" while writing: marker never written, one table missing, a temporary file left behind
    out = fingerprint_shards.output_dir(shards[1])
    (out / "_SUCCESS.json").unlink()
    (out / "audio_peaks.parquet").rename(out / ".audio_peaks.parquet.tmp-deadbeef")
    kept = {i: (fingerprint_shards.output_dir(shards[i]) / "_SUCCESS.json").stat().st_mtime_ns for i in (0, 2)}

    again = [fingerprint_shards.run_shard(s) for s in plan_now()]
    assert [r["status"] for r in again] == ["skipped", "done", "skipped"]
    assert {i: (fingerprint_shards.output_dir(shards[i]) / "_SUCCESS.json").stat().st_mtime_ns for i in (0, 2)} == kept
    assert not list(out.glob(".*tmp*"))

    # the in-process stage reuses all three, loads each file exactly once and removes the work dir
    result = fingerprint.run(DAY, "resume").as_dict()
    assert result["status"] == "success"
    assert "in 3 shards (3 reused" in result["message"]
    con = duckdb.connect(str(wh), read_only=True)
    checks = con.execute("SELECT count(*), count(DISTINCT audio_sha256) FROM media_checks").fetchone()
    fps = con.execute("SELECT count(*) FROM audio_fingerprints").fetchone()[0]
    peaks = con.execute("SELECT count(*) FROM audio_peaks").fetchone()[0]
    con.close()
    assert checks == (8, 8)
    assert fps == peaks == 7  # every decodable file (the silent one too: the contract rejects it afterwards)
    assert not fingerprint_shards.day_dir(DAY).exists()
    # rerun: nothing left to plan, nothing added
    assert plan_now() == []
    assert fingerprint.run(DAY, "rerun").rows_out == 0


def test_load_fails_loudly_when_a_planned_shard_output_is_missing(validated):
    _land, wh = validated
    shards = plan_now()
    for s in shards[:2]:
        fingerprint_shards.run_shard(s)
    with pytest.raises(FileNotFoundError, match=r"1 of 3 planned shard outputs are missing.*shard 2"):
        fingerprint.run_load(DAY, "load-test", shards)
    con = duckdb.connect(str(wh), read_only=True)
    assert con.execute("SELECT count(*) FROM media_checks").fetchone()[0] == 0  # nothing half-loaded
    assert con.execute("SELECT status FROM pipeline_runs WHERE run_id = 'load-test'").fetchall() == [("failed",)]
    con.close()
    assert (fingerprint_shards.output_dir(shards[0]) / "_SUCCESS.json").exists()  # finished work is kept for the retry


def test_a_manifest_naming_a_file_outside_the_partition_is_refused(validated):
    _land, _wh = validated
    shard = {**plan_now()[0], "name": "shard-evil"}
    files = [{"audio_sha256": "0" * 64, "media_path": "../dt=2024-03-02/media/7300000000000000301.m4a",
              "peaks_only": False}]
    shard["digest"] = fingerprint_shards._digest(DAY, files)
    fingerprint_shards.manifest_path(shard).write_text(
        json.dumps({"day": DAY.isoformat(), "digest": shard["digest"], "files": files}))
    with pytest.raises(ValueError, match="refusing media path"):
        fingerprint_shards.run_shard(shard)
    assert not fingerprint_shards.output_dir(shard).exists()
    # and a manifest changed after planning is refused before anything is decoded
    real = plan_now()[1]
    body = json.loads(fingerprint_shards.manifest_path(real).read_text())
    body["files"] = body["files"][:1]
    fingerprint_shards.manifest_path(real).write_text(json.dumps(body))
    with pytest.raises(ValueError, match="does not match the plan"):
        fingerprint_shards.run_shard(real)


def test_work_dir_and_shard_settings_come_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("TRENDTRACE_WORK_DIR", str(tmp_path / "shared"))
    monkeypatch.setenv("TRENDTRACE_MAX_SHARDS", "4")
    assert settings.work_dir() == (tmp_path / "shared").resolve()
    assert settings.shard_settings().max_shards == 4
    assert fingerprint_shards.day_dir(DAY) == (tmp_path / "shared").resolve() / "fingerprint" / f"dt={DAY}"
    monkeypatch.setenv("TRENDTRACE_MAX_SHARDS", "0")
    with pytest.raises(ValueError, match="at least 1"):
        settings.shard_settings()
