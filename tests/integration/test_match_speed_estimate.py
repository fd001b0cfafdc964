"""Speed changes the presets cannot map back, found by measuring the time factor (pipelines/matching/speed_estimate.py).

Real synthetic songs are indexed in a real DuckDB file; the queries are real ffmpeg renditions, re-encoded
and decoded by the pipeline's own code: a copy sped up x1.25 by resampling and then time-stretched x1.2 (time
factor 1.5, pitch factor 1.25: no preset is both), a tempo-only stretch at a factor between presets (x1.37),
and the same chain applied to a song that was never indexed (must match nothing).
"""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from pipelines import warehouse
from pipelines.audio.decode import SAMPLE_RATE, decode_pcm
from pipelines.audio.peaks import peaks
from pipelines.matching import speed_estimate
from pipelines.matching.analyse import SPEED_VARIANTS
from pipelines.matching.engine import landmark_matches, speed_estimated_matches
from pipelines.matching.resolve import is_primary
from pipelines.matching.types import Query
from tests.support import media
from tests.support.index import index_songs

CHAIN = "asetrate=55125,aresample=44100,atempo=1.2"  # resampled x1.25, then time-stretched x1.2


def _render(src: Path, dst: Path, filters: str) -> Path:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), "-af", filters, "-c:a", "aac",
                    "-b:a", "96k", str(dst)], check=True)
    return dst


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("speed")
    songs = {f"song{i}": media.tone_music(d / f"song{i}.wav", 24.0, seed=70 + i) for i in range(4)}
    con = warehouse.connect(d / "speed.duckdb")
    index_songs(con, {n: decode_pcm(media.encode(p, d / f"{n}.m4a")) for n, p in songs.items()}, 0, date(2024, 6, 1))
    unseen = media.tone_music(d / "unseen.wav", 24.0, seed=99)
    renditions = {
        "chain": _render(songs["song1"], d / "chain.m4a", CHAIN),
        "tempo": _render(songs["song2"], d / "tempo.m4a", "atempo=1.37"),
        "unseen_chain": _render(unseen, d / "unseen_chain.m4a", CHAIN),
    }
    queries = {}
    for qid, (name, path) in enumerate(renditions.items()):
        pcm = decode_pcm(path)
        frames, bins = peaks(pcm)
        queries[name] = Query(qid, name, pcm.size / SAMPLE_RATE, np.zeros(0, np.uint32), frames, bins)
    yield con, queries
    con.close()


def _ref_of(con, audio_id: int) -> str:
    return con.execute("SELECT sound_id FROM match_audio WHERE audio_id = $a", {"a": audio_id}).fetchall()[0][0]


def test_a_resampled_then_stretched_copy_is_found_at_its_time_factor(world):
    con, queries = world
    q = queries["chain"]
    presets = landmark_matches(con, [q], [q], speeds=SPEED_VARIANTS, chunk_refs=False)
    assert not is_primary(presets, q.duration_s)  # why the estimate exists: no preset maps it back
    found = speed_estimated_matches(con, [q])
    assert found and {_ref_of(con, m.ref) for m in found} == {"snd-song1"}
    best = max(found, key=lambda m: m.post_end_s - m.post_start_s)
    assert best.method == speed_estimate.METHOD and abs(best.speed - 1.5) < 0.02, best
    assert is_primary(found, q.duration_s)
    # the matched part of the song is the post's length times the time factor
    assert abs((best.ref_end_s - best.ref_start_s) - (best.post_end_s - best.post_start_s) * best.speed) < 1.0


def test_a_tempo_stretch_between_presets_is_measured(world):
    con, queries = world
    q = queries["tempo"]
    found = speed_estimated_matches(con, [q])
    assert found and {_ref_of(con, m.ref) for m in found} == {"snd-song2"}
    assert all(abs(m.speed - 1.37) < 0.02 for m in found), found
    assert is_primary(found, q.duration_s)


def test_an_unindexed_song_with_the_same_chain_matches_nothing(world):
    con, queries = world
    assert speed_estimated_matches(con, [queries["unseen_chain"]]) == []


def _named_by_presets(con, q: Query):
    """The (qid, ref) frame of the audios the speed presets' triplet keys name for `q` (what the engine passes)."""
    named: list = []
    landmark_matches(con, [q], [q], speeds=SPEED_VARIANTS, chunk_refs=False, named_out=named)
    return named[0]


@pytest.mark.parametrize("name", ["chain", "tempo", "unseen_chain"])
def test_through_the_audios_the_presets_name_the_same_matches_as_over_every_pair(world, name):
    """The engine votes the measured factors only against the audios each query's speed-preset triplet keys
    named (a lookup, not a scan of every indexed pair): it must find what the scan finds."""
    con, queries = world
    q = queries[name]
    named = _named_by_presets(con, q)
    assert speed_estimated_matches(con, [q], named=named) == speed_estimated_matches(con, [q])
    if name != "unseen_chain":
        assert named.height and named["qid"].to_list() == [q.qid] * named.height
