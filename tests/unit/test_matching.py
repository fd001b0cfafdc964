"""The matching primitives on real audio: BER spans, landmark hashes (as posted, under a 0 dB voice and
at a corrected speed), the generic-audio guards and the canonical-sound rules."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from pipelines.audio.chromaprint import raw_fingerprint
from pipelines.audio.decode import decode_pcm
from pipelines.audio.peaks import peaks
from pipelines.matching import verify
from pipelines.matching.landmarks import (
    INDEX_TRIPLET_FAN,
    QUERY_TRIPLET_FAN,
    SPEED_TRIPLET_FAN,
    landmarks,
    pair_hashes,
    scaled_triplet_keys,
    triplet_keys,
)
from pipelines.matching.resolve import Resolver, coverage, is_primary
from pipelines.matching.types import Match, Query
from pipelines.matching.vote import aligned
from tests.support import media


@pytest.fixture(scope="module")
def audio(tmp_path_factory) -> dict[str, np.ndarray]:
    d = tmp_path_factory.mktemp("mu")
    song = media.tone_music(d / "song.wav", 20.0, seed=21)
    other = media.tone_music(d / "other.wav", 20.0, seed=22)
    voice = media.speech(d / "voice.wav", "so here is the thing nobody tells you about this song, it was never "
                                          "meant to be this popular and now everybody is dancing to it")
    fast = d / "fast.m4a"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(song), "-af",
                    "asetrate=55125,aresample=44100", "-c:a", "aac", "-b:a", "64k", str(fast)], check=True)
    key = d / "key.m4a"  # sped up x1.25 (resampled), then slowed back x0.8 (tempo only): a key shift
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(song), "-af",
                    "asetrate=55125,aresample=44100,atempo=0.8", "-c:a", "aac", "-b:a", "64k", str(key)], check=True)
    return {
        "song": decode_pcm(media.encode(song, d / "song.m4a")),
        "song_mp3": decode_pcm(media.encode(song, d / "song.mp3")),
        "other": decode_pcm(media.encode(other, d / "other.m4a")),
        "voiced": decode_pcm(media.mix(song, voice, d / "voiced.m4a", b_gain_db=0.0)),
        "fast": decode_pcm(fast),
        "key": decode_pcm(key),
        "tone": decode_pcm(_tone(d / "tone.m4a")),
    }


def _tone(path: Path) -> Path:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=10:sample_rate=44100", "-c:a", "aac", str(path)], check=True)
    return path


def test_ber_spans_find_the_clip_where_it_is(audio):
    song = raw_fingerprint(audio["song"])
    clip = raw_fingerprint(audio["song_mp3"][11025 * 6 : 11025 * 12])  # 6 s from 6 s in
    offset = round(6.0 / verify.ITEM_S)
    found = [s for off in range(offset - 2, offset + 3) for s in verify.spans(clip, song, off)]
    assert found and min(s.ber for s in found) < 0.1
    best = min(found, key=lambda s: s.ber)
    assert best.q_start == 0 and best.q_end >= clip.size - 2
    # the same clip against another song: no span at any offset
    other = raw_fingerprint(audio["other"])
    assert not any(verify.spans(clip, other, off) for off in range(-clip.size, other.size))


def test_low_diversity_fingerprints_never_verify(audio):
    tone = raw_fingerprint(audio["tone"])
    assert verify.diversity(tone) < verify.MIN_DIVERSITY
    assert verify.spans(tone, tone, 0) == []  # identical, but generic: it must not glue sounds


def _votes(q: tuple[np.ndarray, np.ndarray], r: tuple[np.ndarray, np.ndarray]) -> tuple[int, int]:
    """(aligned landmarks at the best offset, that offset) by brute force over offsets."""
    best = (0, 0)
    for off in range(-200, 200):
        n = int(aligned(q[0], q[1], r[0], r[1], off).sum())
        best = max(best, (n, off))
    return best


def test_landmarks_survive_a_voice_as_loud_as_the_music(audio):
    song = landmarks(audio["song"])
    voiced = landmarks(audio["voiced"])
    other = landmarks(audio["other"])
    n_voiced, off = _votes(voiced, song)
    n_other, _ = _votes(other, song)
    assert abs(off) <= 1 and n_voiced >= 40, n_voiced
    assert n_other < 15, n_other


def test_triplet_keys_align_under_a_voice_and_stay_rare_between_songs(audio):
    """The landmark candidate lookup's keys: the index's keys of a song are among a query's keys of the same
    peaks, a loud voice leaves many aligned at one offset, an unrelated song shares almost none, and a sped-up
    copy's keys meet the song's once mapped back by its speed."""
    song_t, song_f = peaks(audio["song"])
    indexed = triplet_keys(song_t, song_f, INDEX_TRIPLET_FAN)
    same = triplet_keys(song_t, song_f, QUERY_TRIPLET_FAN)
    assert set(zip(*map(np.ndarray.tolist, indexed), strict=False)) <= set(
        zip(*map(np.ndarray.tolist, same), strict=False)
    )

    def best_offset_votes(query: tuple[np.ndarray, np.ndarray]) -> int:
        keys, frames = query
        ref = {}
        for k, t in zip(*map(np.ndarray.tolist, indexed), strict=False):
            ref.setdefault(k, []).append(t)
        offs = [rt - t for k, t in zip(keys.tolist(), frames.tolist(), strict=False) for rt in ref.get(k, ())]
        return max(np.bincount(np.asarray(offs) - min(offs)).tolist()) if offs else 0

    voiced = best_offset_votes(triplet_keys(*peaks(audio["voiced"]), QUERY_TRIPLET_FAN))
    other = best_offset_votes(triplet_keys(*peaks(audio["other"]), QUERY_TRIPLET_FAN))
    assert voiced >= 10 * max(other, 1) and voiced >= 20, (voiced, other)
    # a copy resampled x1.25: its peaks mapped back by the preset meet the index's keys; as posted they do not
    fast_t, fast_f = peaks(audio["fast"])
    keys, frames, preset = scaled_triplet_keys(fast_t, fast_f, [(1.0, 1.0), (1.25, 1.25)], SPEED_TRIPLET_FAN)
    mapped = best_offset_votes((keys[preset == 1], frames[preset == 1]))
    as_posted = best_offset_votes(triplet_keys(fast_t, fast_f, SPEED_TRIPLET_FAN))
    assert mapped >= 20 and mapped >= 5 * max(as_posted, 1), (mapped, as_posted)
    assert np.array_equal(np.sort(scaled_triplet_keys(song_t, song_f, [(1.0, 1.0)], INDEX_TRIPLET_FAN)[0]),
                          np.sort(indexed[0]))
    # all presets in one pass give what each preset alone gives
    both = scaled_triplet_keys(fast_t, fast_f, [(1.25, 1.25), (0.8, 1.0)], SPEED_TRIPLET_FAN)
    for p, factors in enumerate([(1.25, 1.25), (0.8, 1.0)]):
        alone = scaled_triplet_keys(fast_t, fast_f, [factors], SPEED_TRIPLET_FAN)
        assert np.array_equal(both[0][both[2] == p], alone[0]) and np.array_equal(both[1][both[2] == p], alone[1])


def test_speed_corrected_hashes_match_a_sped_up_copy(audio):
    song = landmarks(audio["song"])
    t, f = peaks(audio["fast"])
    plain, _ = _votes(pair_hashes(t, f), song)
    corrected, off = _votes(pair_hashes(t, f, 1.25, "pitch"), song)
    assert plain < 15 and corrected >= 60 and abs(off) <= 2, (plain, corrected)


def test_key_corrected_hashes_match_a_key_shifted_copy(audio):
    song = landmarks(audio["song"])
    t, f = peaks(audio["key"])
    plain, _ = _votes(pair_hashes(t, f), song)
    resampled, _ = _votes(pair_hashes(t, f, 1.25, "pitch"), song)  # the time axis was not changed: no use
    key, off = _votes(pair_hashes(t, f, 1.25, "key"), song)
    assert plain < 15 and resampled < 15 and key >= 40 and abs(off) <= 2, (plain, resampled, key)


def test_a_steady_tone_gives_no_landmarks_to_glue_with(audio):
    h, _ = landmarks(audio["tone"])
    assert np.unique(h >> 13).size <= 3  # one frequency: whatever pairs exist share it


def _q(qid: int, seconds: float) -> Query:
    return Query(qid, f"sha{qid}", seconds, np.arange(200, dtype=np.uint32), np.arange(300, dtype=np.int32),
                 np.arange(300, dtype=np.int32) % 200)


def _m(qid: int, ref: int, ps: float, pe: float, rs: float, method: str = "chromaprint", score: float = 0.9) -> Match:
    return Match(qid, ref, ps, pe, rs, rs + pe - ps, 1.0, 1.0, score, method)


def test_primary_needs_most_of_the_post():
    assert is_primary([_m(0, 0, 0, 9.5, 0)], 10.0)
    assert not is_primary([_m(0, 0, 0, 5.0, 0)], 11.0)  # a stitch: 5 s of the parent, then 6 s of reply
    assert coverage([_m(0, 0, 0, 4, 0), _m(0, 0, 3, 8, 3)], 10.0) == (0.8, 2.0)


def test_resolver_rules():
    t = datetime(2024, 1, 1)
    r = Resolver({0: "snd-a", 1: "snd-b"}, {"snd-a": None, "snd-b": None},
                 {"snd-a": (t, "a"), "snd-b": (datetime(2024, 1, 2), "b")}, {"snd-a": 30.0, "snd-b": 12.0})
    # a stitch: parent's first 3 s then other audio -> new sound containing the parent
    res = r.resolve(_q(5, 12.0), "p5", datetime(2024, 1, 3), [_m(5, 0, 0, 3.0, 0, "landmarks", 0.4)])
    assert res.outcome == "new_sound" and res.new_sound_id == "snd-p5"
    assert [(x.sound_id, x.role) for x in res.rows] == [("snd-p5", "primary"), ("snd-a", "contained")]
    # a later post that is B whole and, over the same part, the middle of A: B is a trim of A -> merged into A
    res = r.resolve(_q(6, 12.0), "p6", datetime(2024, 1, 4),
                    [_m(6, 1, 0, 12.0, 0), _m(6, 0, 0, 12.0, 10.0)])
    assert [(m.sound_id, m.into_sound_id) for m in res.merges] == [("snd-b", "snd-a")]
    assert r.canonical("snd-b") == "snd-a" and res.rows[0].role == "primary"
    # a clip shared by a stitch and its parent does not merge them (the stitch is not inside the clip whole)
    r2 = Resolver({0: "snd-a", 1: "snd-s"}, {}, {"snd-a": (t, "a"), "snd-s": (datetime(2024, 1, 2), "s")},
                  {"snd-a": 30.0, "snd-s": 11.0})
    res = r2.resolve(_q(7, 5.0), "p7", datetime(2024, 1, 5), [_m(7, 0, 0, 5.0, 0), _m(7, 1, 0, 5.0, 0)])
    assert res.merges == [] and res.outcome == "matched"
    # too little signal and no match: no sound at all
    tiny = Query(8, "sha8", 0.8, np.zeros(0, np.uint32), np.zeros(0, np.int32), np.zeros(0, np.int32))
    assert r.resolve(tiny, "p8", t, []).outcome == "too_short"


def test_a_same_chunk_post_that_matched_a_known_sound_leads_to_that_sound():
    """Post 11 hears post 10 of its own chunk, and post 10 was a sped-up clip of known sound A: post 11 is A,
    at A's times (post 10 at 1.25x from A's 20 s), not a new sound."""
    t = datetime(2024, 1, 1)
    r = Resolver({0: "snd-a"}, {"snd-a": None}, {"snd-a": (t, "a")}, {"snd-a": 60.0})
    first = r.resolve(_q(10, 8.0), "p10", datetime(2024, 1, 2),
                      [Match(10, 0, 0.0, 8.0, 20.0, 30.0, 1.25, 1.25, 0.5, "landmarks_speed_pitch")])
    assert first.outcome == "matched" and first.rows[0].sound_id == "snd-a"
    # post 11 plays post 10's seconds 2..8 from its own second 1, at post 10's speed
    res = r.resolve(_q(11, 7.0), "p11", datetime(2024, 1, 3), [_m(11, -1 - 10, 1.0, 7.0, 2.0, "landmarks", 0.4)])
    assert res.outcome == "matched", res.detail
    row = res.rows[0]
    assert (row.sound_id, row.role, row.speed, row.pitch) == ("snd-a", "primary", 1.25, 1.25)  # nightcore too
    assert (row.post_start_s, row.sound_start_s, row.sound_end_s) == (1.0, 22.5, 30.0)
    # a post of the chunk that created a sound still leads to that sound, at its own times
    new = r.resolve(_q(12, 9.0), "p12", datetime(2024, 1, 4), [])
    assert new.outcome == "new_sound"
    res = r.resolve(_q(13, 9.0), "p13", datetime(2024, 1, 5), [_m(13, -1 - 12, 0.0, 9.0, 0.0)])
    assert (res.rows[0].sound_id, res.rows[0].sound_start_s) == ("snd-p12", 0.0)




def test_only_copies_of_a_sound_at_another_speed_are_indexed():
    t = datetime(2024, 1, 1)
    r = Resolver({0: "snd-a"}, {"snd-a": None}, {"snd-a": (t, "a")}, {"snd-a": 60.0})
    plain = [_m(21, 0, 0.0, 10.0, 5.0, "landmarks", 0.5)]  # a clean copy is found through the sound itself
    assert r.resolve(_q(21, 10.0), "p21", t, plain).index_as_copy is None
    # a voice-over (10 % of its landmarks aligned): its voice is not the sound, so it is no copy to match against
    voice_over = [_m(20, 0, 0.0, 10.0, 5.0, "landmarks", 0.1)]
    assert r.resolve(_q(20, 10.0), "p20", t, voice_over).index_as_copy is None
    sped = [Match(22, 0, 0.0, 8.0, 5.0, 15.0, 1.25, 1.25, 0.2, "landmarks_speed_pitch")]
    assert r.resolve(_q(22, 8.0), "p22", t, sped).index_as_copy == ("snd-a", (0.0, 5.0, 1.25, 1.25))


def test_speed_keys_are_computed_once_per_file_and_shared_by_the_merge_pass_copy(audio):
    """The merge pass queries a day's files again under new qids (Query.with_qid): their speed-preset keys come
    from the day's computation (Query.keyed), and are the keys a fresh computation gives."""
    from pipelines.matching import analyse
    from pipelines.matching.analyse import SPEED_VARIANTS

    t, f = peaks(audio["fast"])
    q = Query(3, "fast", 20.0, np.zeros(0, np.uint32), t, f)
    marks, triplets = analyse.q_marks([q], [q], SPEED_VARIANTS), analyse.q_triplets([q], SPEED_VARIANTS)
    assert q.keyed  # kept on the file
    again = q.with_qid(7)
    assert again.keyed is q.keyed
    fresh = Query(7, "fast", 20.0, np.zeros(0, np.uint32), t, f)
    for cached, computed in ((analyse.q_marks([again], [again], SPEED_VARIANTS),
                              analyse.q_marks([fresh], [fresh], SPEED_VARIANTS)),
                             (analyse.q_triplets([again], SPEED_VARIANTS),
                              analyse.q_triplets([fresh], SPEED_VARIANTS))):
        assert cached.equals(computed) and cached.height > 1000
    assert marks.drop("qid").equals(analyse.q_marks([fresh], [fresh], SPEED_VARIANTS).drop("qid"))
    assert triplets["variant"].min() == 1 and triplets["variant"].max() == len(SPEED_VARIANTS)
