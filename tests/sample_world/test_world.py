"""Invariants of the sample world, checked on the small world built once per test run (tests/conftest.py).

No assert here is on elapsed time: how fast worlds build is `make bench` (scripts/bench_world.py).
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.sample_world import TRANSFORM_FAMILIES, build_world, transform_family
from pipelines.sample_world.config import SAMPLE_RATE
from pipelines.sample_world.exports import CSV_HEADER
from tests.conftest import SMALL_WORLD, build_media_world

SEED = SMALL_WORLD["seed"]
DAYS = SMALL_WORLD["days"]
RELATIONS = {"duet", "stitch", "reupload", "sound_reuse"}
REQUIRED_FAMILIES = {"full", "segment", "trim", "speed_pitch", "speed_tempo", "voice_over", "noise", "reverb",
                     "duet_voice", "duet_instrument", "stitch_clip", "speech", "aac", "mp3", "opus"}
BAD_KINDS = {"malformed_json", "corrupt_media", "duplicate_id", "very_late", "silent_media", "short_clip"}


@pytest.fixture(scope="session")
def truth(small_world) -> pl.DataFrame:
    return pl.read_parquet(small_world[0] / "truth" / "posts.parquet")


def _export_files(out: Path) -> list[Path]:
    return sorted(p for p in (out / "landing").glob("dt=*/*") if p.is_file())


def _records(path: Path) -> tuple[list[dict], int]:
    """Parsed records of one export file and the number of lines that did not parse."""
    text = path.read_text()
    if path.suffix == ".csv":
        with path.open(newline="") as fh:
            return list(csv.DictReader(fh)), 0
    if path.suffix == ".jsonl":
        recs, bad = [], 0
        for line in text.splitlines():
            try:
                recs.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1
        return recs, bad
    obj = json.loads(text)
    return (obj["data"]["videos"] if isinstance(obj, dict) else obj), 0


def _rid(rec: dict) -> str:
    return str(rec.get("post_id", rec.get("id")))


def test_small_world_has_the_right_shape(small_world):
    out, s = small_world
    assert 70 <= s["posts_generated"] <= 140
    assert s["partitions"] == DAYS
    assert sorted(p.name for p in (out / "landing").iterdir()) == [f"dt=2024-03-0{d}" for d in range(1, 6)]
    assert (out / "truth" / "world.json").exists()
    world = json.loads((out / "truth" / "world.json").read_text())
    assert world["seed"] == SEED and world["scale"] == "small"


def test_every_parent_is_older_and_there_are_no_cycles(truth):
    created = dict(zip(truth["post_id"], truth["created_at"], strict=True))
    for col in ("parent_post_id", "true_parent_post_id"):
        edges = truth.filter(pl.col(col).is_not_null()).select("post_id", col)
        for child, parent in edges.iter_rows():
            assert parent in created, f"{col} {parent} of {child} is not a post of the world"
            assert created[parent] < created[child]
        parent_of = dict(edges.iter_rows())
        for start in parent_of:
            seen, node = set(), start
            while node in parent_of:
                assert node not in seen, "cycle"
                seen.add(node)
                node = parent_of[node]


def test_convention_parents_are_observed_and_of_the_same_sound(truth):
    obs = truth.filter(pl.col("observed"))
    by_id = {r["post_id"]: r for r in truth.iter_rows(named=True)}
    for r in obs.filter(pl.col("parent_post_id").is_not_null()).iter_rows(named=True):
        parent = by_id[r["parent_post_id"]]
        assert parent["observed"]
        assert parent["canonical_sound_id"] == r["canonical_sound_id"]
        if r["relation"] in ("duet", "stitch"):
            assert r["parent_post_id"] == r["true_parent_post_id"]
        if r["relation"] == "sound_reuse":
            assert parent["platform_music_id"] == r["platform_music_id"]
    assert (obs.filter(pl.col("scorable") & pl.col("relation").is_in(["duet", "stitch"]))
            ["parent_post_id"].null_count() == 0)


def test_truth_covers_every_exported_post(small_world, truth):
    out, _ = small_world
    ids_in_exports: set[str] = set()
    malformed_lines = 0
    for f in _export_files(out):
        recs, bad = _records(f)
        malformed_lines += bad
        ids_in_exports |= {_rid(r) for r in recs}
        if bad:  # cut records still name their post: the id is at the start of the line
            ids_in_exports |= set(re.findall(r'^\{"id":"(\d{19})"', f.read_text(), flags=re.M))
    truth_ids = set(truth["post_id"])
    assert ids_in_exports <= truth_ids
    assert ids_in_exports == set(truth.filter(pl.col("exported"))["post_id"])
    assert malformed_lines == truth.filter(pl.col("bad_input_kind") == "malformed_json").height


def test_each_relation_and_transform_family_appears(truth):
    assert set(truth["true_relation"].drop_nulls()) == RELATIONS
    scored = truth.filter(pl.col("scorable"))
    assert set(scored["relation"].drop_nulls()) == RELATIONS
    fams = {transform_family(t) for chain in truth["transforms"].to_list() for t in chain}
    assert fams >= REQUIRED_FAMILIES
    assert fams <= set(TRANSFORM_FAMILIES)
    assert (truth["voice_snr_db"] == 0.0).any(), "a voice as loud as the music"
    assert (truth["speed"] > 1.1).any() and (truth["speed"] < 0.9).any()
    assert set(truth["sound_role"].drop_nulls()) == {"primary", "contained"}


def test_bad_inputs_are_recorded_and_not_scorable(truth):
    bad = truth.filter(pl.col("bad_input_kind").is_not_null())
    assert set(bad["bad_input_kind"]) == BAD_KINDS
    assert not bad["scorable"].any()
    late = truth.filter(pl.col("exported")).select(
        (pl.col("partition_day") - pl.col("created_at").dt.date()).dt.total_days().alias("lag"), "bad_input_kind")
    assert set(late["lag"]) <= {0, 1, 2, 3} and {0, 1}.issubset(set(late["lag"]))
    assert late.filter(pl.col("lag") == 3)["bad_input_kind"].to_list() == ["very_late"]
    assert truth.filter(pl.col("exported") & ~pl.col("observed"))["bad_input_kind"].is_in(
        ["malformed_json", "corrupt_media"]).all()


def test_exports_parse_in_all_three_formats(small_world):
    out, _ = small_world
    seen = set()
    for f in _export_files(out):
        text = f.read_text()
        if f.suffix == ".csv":
            assert text.splitlines()[0].split(",") == CSV_HEADER
            recs, _ = _records(f)
            assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["created_at"]) for r in recs)
            assert all(r["media_path"].startswith("media/") for r in recs)
            seen.add("csv")
            continue
        recs, _ = _records(f)
        assert recs
        if "create_time" in recs[0]:  # Research API: 19-digit ids as JSON numbers, never strings
            seen.add("research_wrapper" if text.startswith('{"data"') else "research_array")
            assert all(isinstance(r["id"], int) and len(str(r["id"])) == 19 for r in recs)
            assert all(isinstance(r["music_id"], int) for r in recs)
            assert re.search(r'"id":\d{19}[,}]', text)
            assert "duet" not in json.dumps(list(recs[0]))
        else:
            seen.add(f"web_{f.suffix[1:]}")
            for r in recs:
                assert isinstance(r["id"], str) and len(r["id"]) == 19 and isinstance(r["createTime"], int)
                assert {"uniqueId"} <= set(r["author"]) and isinstance(r["music"]["id"], str)
                assert set(r["music"]) >= {"id", "title", "authorName", "original", "duration"}
                assert set(r["stats"]) == {"playCount", "diggCount", "shareCount", "commentCount"}
                if r["music"]["original"]:
                    assert r["music"]["title"].startswith("original sound - ")
                duet_from = r["duetInfo"]["duetFromId"]
                assert duet_from == "0" or (len(duet_from) == 19 and r["desc"].startswith("#duet with @"))
    assert seen == {"csv", "research_wrapper", "research_array", "web_jsonl", "web_json"}


def test_duplicate_ids_appear_in_two_files(small_world, truth):
    out, _ = small_world
    counts: dict[str, int] = {}
    for f in _export_files(out):
        for r in _records(f)[0]:
            counts[_rid(r)] = counts.get(_rid(r), 0) + 1
    dups = {k for k, v in counts.items() if v > 1}
    assert dups == set(truth.filter(pl.col("bad_input_kind") == "duplicate_id")["post_id"])


def _probe(path: Path) -> float | None:
    """Duration in seconds, None if the file does not decode (raw ADTS has no index: decode it)."""
    if path.suffix == ".aac":
        res = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "8000", "-f", "s16le",
                              "-"], capture_output=True)
        return len(res.stdout) / 16000 if res.returncode == 0 and res.stdout else None
    res = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                          str(path)], capture_output=True, text=True)
    try:
        return float(res.stdout.strip()) if res.returncode == 0 else None
    except ValueError:
        return None


@pytest.mark.slow
def test_media_files_exist_and_decode(small_world, truth):
    out, _ = small_world
    exported = truth.filter(pl.col("exported"))
    media = sorted((out / "landing").glob("dt=*/media/*"))
    assert len(media) == exported.height
    for r in exported.iter_rows(named=True):
        path = out / r["media_file"]
        assert path.exists() and path.stem == r["post_id"]
        assert path.suffix[1:] in {"mp4", "m4a", "mp3", "aac", "ogg", "opus", "wav", "webm", "flac"}
        dur = _probe(path)
        if r["bad_input_kind"] == "corrupt_media":
            assert dur is None, "corrupt media must not decode"
            continue
        assert dur is not None, f"{path} does not decode"
        assert abs(dur - r["duration_s"]) < 0.6, (path, dur, r["duration_s"])
        if r["bad_input_kind"] == "short_clip":
            assert dur < 1.0
        elif r["bad_input_kind"] is None:
            assert 4.5 <= dur <= 61.0


def _pcm(path: Path, start: float = 0.0, dur: float | None = None) -> np.ndarray:
    cmd = ["ffmpeg", "-v", "error", "-ss", f"{start}", *(["-t", f"{dur}"] if dur else []), "-i", str(path),
           "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, dtype="<f4")


def test_clean_segments_are_the_canonical_sound_at_the_stated_offset(small_world, truth):
    """Truth fidelity: a plain segment decodes to the source audio at `sound_offset_s` (codec aside)."""
    out, _ = small_world
    from pipelines.sample_world.config import default_cache_dir

    sounds = pl.read_parquet(out / "truth" / "sounds.parquet")
    src = {r["canonical_sound_id"]: r for r in sounds.iter_rows(named=True)}
    plain = truth.filter(pl.col("exported") & pl.col("bad_input_kind").is_null()
                         & (pl.col("transforms").list.len() == 2)
                         & pl.col("transforms").list.first().is_in(["full", "segment"]))
    checked = 0
    for r in plain.head(6).iter_rows(named=True):
        s = src[r["canonical_sound_id"]]
        if s["source_path"] is None:
            continue
        ref = _pcm(default_cache_dir() / s["source_path"], s["source_start_s"] + r["sound_offset_s"], 8.0)
        got = _pcm(out / r["media_file"], 0.0, 8.0)
        n = min(ref.size, got.size) - 2000
        best = max(abs(np.corrcoef(ref[:n], got[lag:lag + n])[0, 1]) for lag in range(0, 2000, 50))
        assert best > 0.8, (r["post_id"], best)
        checked += 1
    assert checked >= 2


def test_stages_are_complete_daily_series(small_world):
    out, _ = small_world
    st = pl.read_parquet(out / "truth" / "sound_stages.parquet")
    assert set(st["stage"]) <= {"moment", "spark", "trend", "movement"}
    per = st.group_by("canonical_sound_id").agg(pl.len(), pl.col("day").max(), pl.col("cum_creators").diff().min())
    assert (per["day"] == per["day"].max()).all()
    assert (per["cum_creators"].fill_null(0) >= 0).all()
    assert "spark" in set(st["stage"])


def test_same_seed_same_world(small_world, tmp_path):
    out, _ = small_world
    again = tmp_path / "again"
    build_media_world(again, **SMALL_WORLD)  # every render is in the cache by now: this only links files
    a, b = _export_files(out), _export_files(again)
    assert [p.relative_to(out) for p in a] == [p.relative_to(again) for p in b]
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    for name in ("posts", "sounds", "sound_stages"):
        assert pl.read_parquet(out / "truth" / f"{name}.parquet").equals(
            pl.read_parquet(again / "truth" / f"{name}.parquet"))
    assert (out / "truth" / "world.json").read_text() == (again / "truth" / "world.json").read_text()
    media_a = {p.name: p.stat().st_size for p in out.glob("landing/dt=*/media/*")}
    media_b = {p.name: p.stat().st_size for p in again.glob("landing/dt=*/media/*")}
    assert media_a == media_b


def test_other_seed_other_world(tmp_path):
    a = build_world(tmp_path / "a", days=DAYS, seed=1, scale="small", no_media=True, progress=False)
    b = build_world(tmp_path / "b", days=DAYS, seed=2, scale="small", no_media=True, progress=False)
    ta = pl.read_parquet(tmp_path / "a" / "truth" / "posts.parquet")
    tb = pl.read_parquet(tmp_path / "b" / "truth" / "posts.parquet")
    assert set(ta["post_id"]).isdisjoint(tb["post_id"])
    assert a["posts_generated"] > 50 and b["posts_generated"] > 50
    assert not list((tmp_path / "a" / "landing").glob("dt=*/media"))


@pytest.mark.slow
def test_metadata_only_world_of_a_million_posts(tmp_path):
    s = build_world(tmp_path / "xl", days=30, seed=SEED, scale="xl", no_media=True, progress=False)
    assert s["posts_generated"] >= 1_000_000
    t = pl.scan_parquet(tmp_path / "xl" / "truth" / "posts.parquet")
    assert t.select(pl.len()).collect().item() == s["posts_generated"]
    assert t.filter(pl.col("relation").is_not_null()).select(pl.col("relation").n_unique()).collect().item() == 4


def test_audio_made_from_a_stitch_only_contains_the_root_sound(tmp_path):
    # A duet of a stitch plays the stitch's audio (the root's first seconds, then speech) under a new voice: the
    # root sound is contained in it, not its primary sound, exactly as for the stitch itself.
    build_world(tmp_path / "w", days=14, seed=SEED, scale="demo", no_media=True, progress=False)
    posts = pl.read_parquet(tmp_path / "w" / "truth" / "posts.parquet")
    from_stitch = posts.filter(pl.col("transforms").list.eval(pl.element().str.starts_with("stitch_clip")).list.any())
    duets = from_stitch.filter(pl.col("true_relation") == "duet")
    assert duets.height > 0 and from_stitch.height > duets.height  # stitches and duets of stitches both occur
    assert (from_stitch["sound_role"] == "contained").all()
    assert (posts.filter(pl.col("sound_role") == "primary")["transforms"]
            .list.eval(pl.element().str.starts_with("stitch_clip")).list.any().not_().all())
