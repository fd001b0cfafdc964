"""The fast spectral-peak picker equals its plain definition (scipy maximum_filter, np.median) on real audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import maximum_filter

from pipelines.audio import peaks as P
from pipelines.audio.decode import decode_pcm
from tests.support import media


def reference_peaks(pcm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The peak rule written the obvious way: what `peaks` must reproduce exactly."""
    s = P.spectrogram_db(pcm)[:, : P.MAX_BIN + 1]
    s[:, : P.MIN_BIN] = -200.0
    prom = s - np.median(s[:, P.MIN_BIN :], axis=1, keepdims=True)
    local = maximum_filter(s, size=(2 * P.PEAK_TIME + 1, 2 * P.PEAK_FREQ + 1), mode="constant", cval=-300.0)
    loud = s >= s.max(axis=1, keepdims=True) - 45.0
    t, f = np.nonzero((s == local) & (prom > 10.0) & (s > -70.0) & loud)
    keep = max(1, int(P.PEAKS_PER_S * s.shape[0] * P.FRAME_S))
    if t.size > keep:
        top = np.argpartition(-prom[t, f], keep - 1)[:keep]
        t, f = t[top], f[top]
    order = np.lexsort((f, t))
    return t[order].astype(np.int32), f[order].astype(np.int32)


@pytest.mark.parametrize(
    ("shape", "half", "axis"), [((40, 30), 6, 1), ((40, 30), 7, 0), ((5, 3), 7, 0), ((1, 9), 6, 1)]
)
def test_running_max_equals_maximum_filter(shape: tuple[int, int], half: int, axis: int) -> None:
    a = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    size = [1, 1]
    size[axis] = 2 * half + 1
    expected = maximum_filter(a, size=tuple(size), mode="constant", cval=-300.0)
    assert np.array_equal(P.running_max(a, half, axis, -300.0), expected)


def test_peaks_equal_the_reference_on_real_audio(tmp_path: Path) -> None:
    song = media.tone_music(tmp_path / "song.wav", 12.0, seed=4)
    voice = media.speech(tmp_path / "voice.wav", "A voice over the music, as loud as the music itself, for a while.")
    files = [media.encode(song, tmp_path / "song.m4a"), media.mix(song, voice, tmp_path / "duet.mp3", b_gain_db=0.0)]
    for path in files:
        pcm = decode_pcm(path)
        frames, bins = P.peaks(pcm)
        ref_frames, ref_bins = reference_peaks(pcm)
        assert frames.size > 100, path  # music yields peaks: the comparison below is not vacuous
        assert np.array_equal(frames, ref_frames) and np.array_equal(bins, ref_bins), path
