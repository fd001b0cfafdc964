"""A voice 6 dB louder than the music, heard through the weak step's recent sounds (pipelines/matching/recent.py).

Real tracks (the Debian game-music pack of the sample world) are indexed as sounds heard on the day before, with
the pipeline's own code, into a real DuckDB file; their `post_sounds` rows are what a real first day writes for
a sound's first post. Each query is a 30 s cut of one track under an espeak-ng voice, both loudness-normalised the
way scripts/bench_matching.py makes `voice_plus6dB` (music -26 LUFS, voice -20 LUFS), decoded by the pipeline. A
track that was never indexed, under the same voice, must match nothing.
"""

from __future__ import annotations

import subprocess
from datetime import date, timedelta

import pytest

from pipelines import warehouse
from pipelines.audio.chromaprint import raw_fingerprint
from pipelines.audio.decode import SAMPLE_RATE, decode_pcm
from pipelines.audio.peaks import peaks
from pipelines.matching import engine, recent, store
from pipelines.matching.resolve import is_primary
from pipelines.matching.types import Query
from tests.support import media
from tests.support.index import index_songs
from tests.support.real_music import cut, pack_tracks

DAY = date(2024, 6, 2)
N_INDEXED = 4
LOUD = "aresample=44100,aformat=channel_layouts=mono,loudnorm=I={}:LRA=20:TP=-1"
TALK = ("so this is the part where everybody starts dancing and nobody knows why but it works every time "
        "honestly I have heard this song in every single video today and I still cannot stop")
WORDS = TALK.split(" ")


def _loud_voice(music, d, name: str, seed: int):
    """`music` under a voice 6 dB louder than it, as scripts/bench_matching.py makes voice_plus6dB."""
    wav = d / f"{name}.wav"
    text = " ".join(WORDS[(seed * 7 + k) % len(WORDS)] for k in range(28))
    subprocess.run(["espeak-ng", "-v", ["en", "en-us", "en+f3"][seed % 3], "-s", "160", "-w", str(wav), text],
                   check=True, capture_output=True)
    out = d / f"{name}.m4a"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(music), "-stream_loop", "-1",
                    "-i", str(wav), "-filter_complex",
                    (f"[0:a]{LOUD.format(-26)}[a];[1:a]{LOUD.format(-20)}[b];"
                     "[a][b]amix=inputs=2:duration=first:normalize=0"), "-c:a", "aac", "-b:a", "64k", str(out)],
                   check=True)
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("recent")
    src = pack_tracks(N_INDEXED + 1)
    con = warehouse.connect(d / "recent.duckdb")
    songs = {f"t{i}": cut(s, d / f"t{i}.m4a") for i, s in enumerate(src)}
    index_songs(con, {n: decode_pcm(p) for n, p in list(songs.items())[:N_INDEXED]}, 0, DAY - timedelta(days=1))
    # each indexed sound was heard on the day before (its first post), as match_sounds records it
    for i in range(N_INDEXED):
        con.execute("INSERT INTO post_sounds (post_id, sound_id, role, speed, score, method, matched_sound_id, "
                    "ingest_day) VALUES ($p, $s, 'primary', 1.0, 1.0, 'origin', $s, $d)",
                    {"p": f"p{i}", "s": f"snd-t{i}", "d": DAY - timedelta(days=1)})
    queries = {}
    for qid, (name, path) in enumerate(songs.items()):
        pcm = decode_pcm(_loud_voice(path, d, f"voice_{name}", qid))
        frames, bins = peaks(pcm)
        queries[name] = Query(qid, name, pcm.size / SAMPLE_RATE, raw_fingerprint(pcm), frames, bins,
                              media=d / f"voice_{name}.m4a")
    # a stitch: the first 5 s of indexed track 0, then the voice alone (its reply)
    stitch = media.concat([media.trim(songs["t0"], d / "open.wav", 0.0, 5.0),
                           media.trim(d / "voice_t0.wav", d / "reply.wav", 0.0, 7.0)], d / "stitch_t0.m4a")
    pcm = decode_pcm(stitch)
    frames, bins = peaks(pcm)
    queries["stitch"] = Query(len(queries), "stitch", pcm.size / SAMPLE_RATE, raw_fingerprint(pcm), frames, bins,
                              media=stitch)
    yield con, queries
    con.close()


def _sounds(con, matches) -> set[str]:
    return {con.execute("SELECT sound_id FROM match_audio WHERE audio_id = $a", {"a": m.ref}).fetchall()[0][0]
            for m in matches}


def test_the_recent_sounds_are_the_ones_heard_in_the_days_before(world):
    con, _ = world
    ids = store.recent_audio(con, DAY, recent.RECENT_DAYS, recent.RECENT_SOUNDS)
    assert len(ids) == N_INDEXED
    assert store.recent_audio(con, DAY + timedelta(days=recent.RECENT_DAYS + 1), recent.RECENT_DAYS,
                              recent.RECENT_SOUNDS) == []  # heard too long ago
    assert len(store.recent_audio(con, DAY, recent.RECENT_DAYS, 2)) == 2  # at most `limit` sounds
    assert store.recent_audio(con, None, recent.RECENT_DAYS, recent.RECENT_SOUNDS) == ids  # after the last day


def test_the_recent_sounds_name_the_sound_under_each_loud_voice(world):
    con, queries = world
    sounds = engine.recent_sounds(con, DAY)()
    named = sounds.named([queries[f"t{i}"] for i in range(N_INDEXED)])
    hits = [i for i in range(N_INDEXED) if i in named.get(queries[f"t{i}"].qid, [])]
    assert len(hits) >= N_INDEXED - 1, named  # the track's own audio (audio id i) among the named
    assert sounds.named([queries[f"t{N_INDEXED}"]]) == {}  # the unindexed track names nothing


def test_tracks_under_a_voice_6_db_louder_are_heard_as_their_sounds(world):
    con, queries = world
    heard = {}
    for i in range(N_INDEXED):
        q = queries[f"t{i}"]
        found = engine.match_chunk(con, [q], chunk_refs=False, recent_of=engine.recent_sounds(con, DAY))[q.qid]
        primary = [m for m in found if is_primary([m], q.duration_s)]
        if primary:
            heard[i] = _sounds(con, primary)
    assert all(s == {f"snd-t{i}"} for i, s in heard.items()), heard  # never another track
    # every one, track 2 included: it keeps fewer than 10 of its pairs aligned under the voice, so no pair vote
    # names it, but its single peaks still align (RecentSounds.candidates)
    assert len(heard) == N_INDEXED, heard


def test_an_unindexed_track_under_the_same_voice_matches_nothing(world):
    con, queries = world
    q = queries[f"t{N_INDEXED}"]
    assert engine.match_chunk(con, [q], chunk_refs=False, recent_of=engine.recent_sounds(con, DAY))[q.qid] == []



def test_a_stitch_of_a_recent_sound_is_not_heard_as_that_sound_over_its_reply(world):
    """The weak step's single-peak seeds span the whole overlap; the presence test must cut them to where the sound
    plays (the stitch's opening), which does not explain the post, so nothing claims the reply."""
    con, queries = world
    q = queries["stitch"]
    found = engine.match_chunk(con, [q], chunk_refs=False, recent_of=engine.recent_sounds(con, DAY))[q.qid]
    assert any(m.post_end_s < 7.0 for m in found if _sounds(con, [m]) == {"snd-t0"}), found  # the opening is heard
    assert not [m for m in found if is_primary([m], q.duration_s)], found
