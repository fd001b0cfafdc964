"""Which edit was heard (issue 18): post_sounds.speed, pitch_semitones and edit of real edits of real music.

Real tracks (the Debian game-music pack, as tests/integration/test_match_edits.py) are cut, encoded and indexed
with the pipeline's own code into a real DuckDB file. Each query is a real ffmpeg rendition decoded by the
pipeline, matched by the real engine and resolved by the real rules into the post_sounds row the stage writes
(PostSound.of, as engine._match_day does). Expected values come from the ffmpeg filters chosen here: a nightcore
copy (resampled up 1.25: tempo and pitch, +3.86 st), a slowed one (resampled 0.85: -2.81 st), key shifts of +-2
semitones at the same tempo, a time-stretch x1.2 with the pitch kept, and a reverb-only copy, which the matcher
cannot tell from the sound as posted. A re-upload of the +2 st copy is heard plainly through that copy once it is
indexed, and must still be +2 st relative to the sound (the pitch factor composes through match_audio.via_pitch).
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from pipelines import warehouse
from pipelines.audio.chromaprint import raw_fingerprint
from pipelines.audio.decode import SAMPLE_RATE, decode_pcm
from pipelines.audio.peaks import peaks
from pipelines.matching import engine
from pipelines.matching.types import PostSound, Query
from tests.support import media
from tests.support.index import index_songs
from tests.support.real_music import cut, pack_tracks, pitch_filter

DAY = date(2024, 6, 1)
REVERB = "aecho=0.8:0.7:60|130|210|320|450:0.5|0.4|0.3|0.22|0.15"
# query -> (indexed track it plays, ffmpeg filters, expected (edit, speed, pitch semitones))
EDITS = {
    "nightcore_125": (1, "aresample=44100,asetrate=55125,aresample=44100", ("sped_up", 1.25, 12 * math.log2(1.25))),
    "slowed_085": (2, "aresample=44100,asetrate=37485,aresample=44100", ("slowed", 0.85, 12 * math.log2(0.85))),
    "up_2st": (2, pitch_filter(2), ("pitch_up", 1.0, 2.0)),
    "down_2st": (3, pitch_filter(-2), ("pitch_down", 1.0, -2.0)),
    "tempo_12": (0, "atempo=1.2", ("tempo_up", 1.2, 0.0)),
    "reverb_only": (0, REVERB, ("as_posted", 1.0, 0.0)),
}


def _query(qid: int, name: str, pcm) -> Query:
    frames, bins = peaks(pcm)
    return Query(qid, name, pcm.size / SAMPLE_RATE, raw_fingerprint(pcm), frames, bins)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("edit_labels")
    src = pack_tracks(4)
    con = warehouse.connect(d / "labels.duckdb")
    index_songs(con, {f"t{i}": decode_pcm(cut(s, d / f"t{i}.m4a")) for i, s in enumerate(src)}, 0, DAY)
    files = {name: cut(src[track], d / f"{name}.m4a", filters) for name, (track, filters, _) in EDITS.items()}
    queries = {name: _query(qid, name, decode_pcm(path)) for qid, (name, path) in enumerate(files.items())}
    yield con, queries, files, d
    con.close()


def _heard(con, q: Query, post_id: str) -> tuple[PostSound, object]:
    """The primary post_sounds row of `q` as match_sounds writes it, and its resolution."""
    found = engine.match_chunk(con, [q], chunk_refs=False)[q.qid]
    res = engine.resolver_as_of(con, DAY).resolve(q, post_id, datetime(2024, 6, 2), found)
    assert res.outcome == "matched", res.detail
    return PostSound.of(res.rows[0], post_id, res.rows[0].method, DAY), res


@pytest.mark.parametrize("name", sorted(EDITS))
def test_each_edit_is_named_with_its_speed_and_pitch(world, name):
    con, queries, _, _ = world
    track, _, (edit, speed, semitones) = EDITS[name]
    row, _ = _heard(con, queries[name], f"p-{name}")
    assert row.sound_id == f"snd-t{track}", row
    assert row.edit == edit, row
    assert abs(row.speed - speed) < 0.01, row  # tempo kept (1.0) for the key shifts
    assert abs(row.pitch_semitones - semitones) < 0.3, row  # 0 for the time-stretch and the reverb


def test_a_copy_of_a_key_shifted_copy_is_key_shifted_through_it(world):
    """The +2 st copy is indexed as a copy of its sound (speed 1, pitch 2^(2/12)); a re-upload of it is heard
    plainly on the copy, and carried onto the sound: +2 st, not as posted."""
    con, queries, files, d = world
    row, res = _heard(con, queries["up_2st"], "p-up")
    assert res.index_as_copy is not None and abs(res.index_as_copy[1][3] - 2 ** (2 / 12)) < 0.01, res.index_as_copy
    index_songs(con, {"up_2st": decode_pcm(files["up_2st"])}, 10, DAY, copies={"up_2st": res.index_as_copy})
    stored = con.execute("SELECT via_speed, via_pitch FROM match_audio WHERE audio_id = 10").fetchall()
    assert stored == [(1.0, pytest.approx(2 ** (2 / 12), abs=1e-3))], stored
    again = _query(20, "again", decode_pcm(media.encode(files["up_2st"], d / "again.mp3", bitrate="128k")))
    found = engine.match_chunk(con, [again], chunk_refs=False)[again.qid]
    plain = [m for m in found if m.ref == 10 and m.method in ("chromaprint", "landmarks")]
    assert plain, "the re-upload must be heard as posted on the indexed copy"
    res = engine.resolver_as_of(con, DAY).resolve(again, "p-again", datetime(2024, 6, 3), found)
    row = PostSound.of(res.rows[0], "p-again", res.rows[0].method, DAY)
    assert row.sound_id == "snd-t2" and row.edit == "pitch_up" and abs(row.pitch_semitones - 2.0) < 0.3, row
    assert abs(row.speed - 1.0) < 0.01, row
