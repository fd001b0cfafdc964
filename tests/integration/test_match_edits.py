"""The edits users make to a sound (issue 18), heard through the real match engine on real music.

Real tracks (the Debian game-music pack the sample world uses) are cut, encoded and indexed with the pipeline's
own code into a real DuckDB file. Queries are real ffmpeg renditions, decoded by the pipeline: pitch shifts of
-1 and -3 semitones at the same tempo (resampled by 2^(s/12), then time-stretched back), a "slowed" copy resampled
by 0.85, a "slowed + reverb" copy resampled by 0.826 with an echo tail, and an unindexed track pitch-shifted +1
semitone, which must match nothing. The old preset grid (each mode at SPEED_FACTORS) leaves the first four
unexplained; the new grid (analyse.MODE_FACTORS) explains the pitch shifts and the 0.85 copy, and leaves the 0.826
copy to the resampling-factor scan (speed_estimate.resampled_matches), which is what finds it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from pipelines import warehouse
from pipelines.audio.chromaprint import raw_fingerprint
from pipelines.audio.decode import SAMPLE_RATE, decode_pcm
from pipelines.audio.peaks import peaks
from pipelines.matching import engine
from pipelines.matching.analyse import SPEED_FACTORS, SPEED_MODES, SPEED_VARIANTS
from pipelines.matching.engine import landmark_matches
from pipelines.matching.resolve import is_primary
from pipelines.matching.types import Query
from tests.support.index import index_songs
from tests.support.real_music import cut, pack_tracks, pitch_filter

DAY = date(2024, 6, 1)
OLD_VARIANTS = [(f, m) for m in SPEED_MODES for f in SPEED_FACTORS]  # the grid before issue 18


EDITS = {  # query -> (indexed track it plays, or None, ffmpeg filters)
    "down_1st": (0, pitch_filter(-1)),
    "down_3st": (1, pitch_filter(-3)),
    "slowed_085": (2, "aresample=44100,asetrate=37485,aresample=44100"),
    # slowed + reverb between the resampled presets (0.8, 0.85): a copy at 0.826 with a 1.5 s echo tail
    "slowed_reverb_0826": (3, ("aresample=44100,asetrate=36427,aresample=44100,"
                               "aecho=0.8:0.7:60|130|210|320|450:0.5|0.4|0.3|0.22|0.15")),
    "unseen_up_1st": (None, pitch_filter(1)),
}


SLOWED = {"slowed_085": 0.85, "slowed_reverb_0826": 0.826}



@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("edits")
    src = pack_tracks(5)
    con = warehouse.connect(d / "edits.duckdb")
    index_songs(con, {f"t{i}": decode_pcm(cut(s, d / f"t{i}.m4a")) for i, s in enumerate(src[:4])}, 0, DAY)
    queries = {}
    for qid, (name, (track, filters)) in enumerate(EDITS.items()):
        pcm = decode_pcm(cut(src[4] if track is None else src[track], d / f"{name}.m4a", filters))
        frames, bins = peaks(pcm)
        queries[name] = Query(qid, name, pcm.size / SAMPLE_RATE, raw_fingerprint(pcm), frames, bins)
    yield con, queries
    con.close()


def _sound(con, audio_id: int) -> str:
    return con.execute("SELECT sound_id FROM match_audio WHERE audio_id = $a", {"a": audio_id}).fetchall()[0][0]


@pytest.mark.parametrize("name", ["down_1st", "down_3st", "slowed_085", "slowed_reverb_0826"])
def test_an_edit_the_old_presets_missed_is_heard_as_its_sound(world, name):
    con, queries = world
    q = queries[name]
    old = landmark_matches(con, [q], [q], speeds=OLD_VARIANTS, chunk_refs=False)
    assert not is_primary(old, q.duration_s), "the old presets already explain it: the test shows nothing"
    found = engine.match_chunk(con, [q], chunk_refs=False)[q.qid]
    assert is_primary(found, q.duration_s), found
    track = EDITS[name][0]
    assert {_sound(con, m.ref) for m in found} == {f"snd-t{track}"}
    best = max(found, key=lambda m: m.post_end_s - m.post_start_s)
    if name.startswith("slowed"):  # resampled: time and pitch slowed together, the row's speed is the time factor
        assert best.method == "landmarks_speed_pitch" and abs(best.speed - SLOWED[name]) < 0.01, best
    else:  # a key shift keeps the time axis: sound seconds = post seconds
        assert best.method == "landmarks_speed_key" and best.speed == 1.0, best
        assert abs((best.ref_end_s - best.ref_start_s) - (best.post_end_s - best.post_start_s)) < 1.0


def test_an_unindexed_track_pitch_shifted_matches_nothing(world):
    con, queries = world
    q = queries["unseen_up_1st"]
    assert engine.match_chunk(con, [q], chunk_refs=False)[q.qid] == []
    assert np.all(q.peak_frames >= 0)  # it was analysed (peaks exist), it just plays no indexed sound
    assert q.peak_frames.size > 100


def test_a_slowed_reverb_copy_between_the_presets_is_found_by_the_factor_scan(world):
    con, queries = world
    q = queries["slowed_reverb_0826"]
    presets = landmark_matches(con, [q], [q], speeds=SPEED_VARIANTS, chunk_refs=False)
    assert not is_primary(presets, q.duration_s), "the presets already explain it: the scan is not what finds it"
    found = engine.match_chunk(con, [q], chunk_refs=False)[q.qid]
    assert is_primary(found, q.duration_s) and {_sound(con, m.ref) for m in found} == {"snd-t3"}, found
