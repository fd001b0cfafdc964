"""Peak presence along a known alignment, on real audio: a song stays present under a voice as loud as it,
unrelated audio (another song, a stitch's reply) does not, and spans grow only over present windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipelines.audio.decode import decode_pcm
from pipelines.audio.peaks import FRAME_S, peaks
from pipelines.matching import presence
from tests.support import media

WINDOW_S = presence.WINDOW_FRAMES * FRAME_S


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("presence")
    song = media.tone_music(d / "song.wav", 24.0, seed=31)
    other = media.tone_music(d / "other.wav", 24.0, seed=32)
    voice = media.speech(d / "voice.wav", "okay so I have to react to this one because honestly the first time I "
                                          "heard it I could not stop laughing and my whole family joined in and "
                                          "now we do this dance every single evening after dinner", speed=140)
    return {
        "song": media.encode(song, d / "song.m4a"),
        "duet": media.mix(song, voice, d / "duet.mp3", b_gain_db=0.0),
        "other": media.encode(other, d / "other.m4a"),
        # a stitch: the song's first 4 s, then the other song's middle
        "stitch": media.concat([media.trim(song, d / "first4.wav", 0.0, 4.0),
                                media.trim(other, d / "mid.wav", 8.0, 16.0)], d / "stitch.m4a"),
    }


def _present(post: Path, ref: Path, off: int = 0) -> np.ndarray:
    ref_frames, ref_bins = peaks(decode_pcm(ref))
    at = presence.ref_in_post(ref_frames, ref_bins, anchor_post=0, anchor_ref=off)
    return presence.present_windows(presence.dense_maxima(decode_pcm(post)), *at)


def test_the_song_is_present_under_a_voice_as_loud_as_it(files: dict[str, Path]) -> None:
    under_voice = _present(files["duet"], files["song"])
    assert under_voice.mean() >= 0.8, under_voice
    # the same reference at a wrong alignment, and another song: chance level. A window may pass by chance
    # (two songs from one generator both open on a note at 0 s), but never two in a row, so no span grows.
    for present in (_present(files["duet"], files["song"], off=40), _present(files["duet"], files["other"])):
        assert present.sum() <= 1 and not (present[:-1] & present[1:]).any(), present
        end = presence.WINDOW_FRAMES // 2
        assert presence.extended_span(present, 0, end, present.size * presence.WINDOW_FRAMES) == (0, end)


def test_a_stitch_reply_is_not_the_parent(files: dict[str, Path]) -> None:
    present = _present(files["stitch"], files["song"])
    head_windows = int(4.0 // WINDOW_S)
    assert present[:head_windows].all(), present
    assert not present[head_windows + 1 :].any(), present


def test_spans_grow_over_present_windows_and_bridge_one_gap() -> None:
    w = presence.WINDOW_FRAMES
    present = np.array([False, True, True, False, True, True, False, True, False])
    # verified inside window 1: grows right over 2, bridges 3 into 4-5, stops at 6 (7 alone is no run); window 0
    # fails, so the start stays where the landmarks put it
    assert presence.extended_span(present, w + 5, w + 40, 9 * w) == (w + 5, 6 * w)
    # a single present window after a gap is not bridged to (a stitch's reply passes one by chance now and then)
    lone = np.array([True, True, False, True, False])
    assert presence.extended_span(lone, 0, w // 2, 5 * w) == (0, 2 * w)
    # nothing present next to it: unchanged
    assert presence.extended_span(np.zeros(8, bool), w + 5, w + 40, 8 * w) == (w + 5, w + 40)
    # the last window is cut at the post's end
    assert presence.extended_span(np.ones(3, bool), 0, 10, 2 * w + 7) == (0, 2 * w + 7)
