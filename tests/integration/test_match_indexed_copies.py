"""A copy of a copy: audio heard as a sound only at another speed is indexed as a copy of that sound, so a
re-upload of it is heard plainly, and placed on the sound's own time line (pipelines/matching/resolve.py).

Real synthetic songs in a real DuckDB file; the copy is a real ffmpeg rendition (resampled x1.25, AAC), the
copy of the copy its re-encode to MP3, both decoded and fingerprinted by the pipeline's own code.
"""

from __future__ import annotations

import subprocess
from datetime import date, datetime

import numpy as np
import pytest

from pipelines import warehouse
from pipelines.audio.chromaprint import raw_fingerprint
from pipelines.audio.decode import SAMPLE_RATE, decode_pcm
from pipelines.audio.peaks import peaks
from pipelines.matching.analyse import SPEED_VARIANTS
from pipelines.matching.engine import chromaprint_matches, landmark_matches, resolver_as_of
from pipelines.matching.types import Query
from tests.support import media
from tests.support.index import index_songs

DAY = date(2024, 6, 1)


def _query(qid: int, pcm: np.ndarray) -> Query:
    frames, bins = peaks(pcm)
    return Query(qid, f"q{qid}", pcm.size / SAMPLE_RATE, raw_fingerprint(pcm), frames, bins)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("copies")
    songs = {f"song{i}": decode_pcm(media.encode(media.tone_music(d / f"song{i}.wav", 24.0, seed=40 + i),
                                                 d / f"song{i}.m4a")) for i in range(3)}
    con = warehouse.connect(d / "copies.duckdb")
    index_songs(con, songs, 0, DAY)
    sped = d / "sped.m4a"  # song1 "sped up": resampled x1.25 (pitch and tempo)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(d / "song1.m4a"), "-af",
                    "asetrate=55125,aresample=44100", "-c:a", "aac", "-b:a", "96k", str(sped)], check=True)
    again = media.encode(sped, d / "again.mp3", bitrate="128k")  # someone re-uploads the sped-up copy
    yield con, decode_pcm(sped), decode_pcm(again)
    con.close()


def test_a_copy_heard_through_a_change_is_indexed_and_its_copies_follow_it(world):
    con, sped_pcm, again_pcm = world
    resolver = resolver_as_of(con, DAY)
    sped = _query(0, sped_pcm)
    found = landmark_matches(con, [sped], [sped], speeds=SPEED_VARIANTS, chunk_refs=False)
    res = resolver.resolve(sped, "p-sped", datetime(2024, 6, 2), found)
    assert res.outcome == "matched" and res.rows[0].sound_id == "snd-song1", res.detail
    assert res.index_as_copy is not None, "a sped-up match must make the copy indexed"
    sound_id, via = res.index_as_copy
    assert sound_id == "snd-song1" and abs(via[2] - 1.25) < 0.02 and abs(via[3] - 1.25) < 0.02, via  # pitch too
    index_songs(con, {"sped": sped_pcm}, 10, DAY, copies={"sped": res.index_as_copy})

    # a fresh day's resolver reads the copy back from match_audio; the re-upload is heard plainly through it
    again = _query(1, again_pcm)
    plain = chromaprint_matches(con, [again], chunk_refs=False) + landmark_matches(con, [again], [again],
                                                                                 chunk_refs=False)
    copy_id = con.execute("SELECT audio_id FROM match_audio WHERE audio_sha256 = 'sped'").fetchall()[0][0]
    assert copy_id in {m.ref for m in plain}, "the re-upload must match the indexed copy as posted"
    res = resolver_as_of(con, DAY).resolve(again, "p-again", datetime(2024, 6, 3), plain)
    assert res.outcome == "matched", res.detail
    row = res.rows[0]
    assert row.sound_id == "snd-song1" and abs(row.speed - 1.25) < 0.02, row
    assert abs(row.pitch - 1.25) < 0.02, row  # heard plainly on a nightcore copy: nightcore relative to the sound
    # its times are on the song's own time line: the post's length at 1.25x covers 1.25x as much song
    assert abs((row.sound_end_s - row.sound_start_s) - 1.25 * (row.post_end_s - row.post_start_s)) < 0.5, row
    assert abs(row.sound_start_s - 1.25 * row.post_start_s) < 0.5, row
    assert res.index_as_copy is None  # heard plainly: no need to index this one as well
