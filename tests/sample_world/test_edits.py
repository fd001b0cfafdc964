"""The edits users make to a sound (issue 18): rendered by ffmpeg from real synthetic music, each one measured
in the spectrum it must change, and given to a share of a world's reuses without changing the rest of it."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.signal import resample_poly

from pipelines.accuracy import recall_by_transform
from pipelines.sample_world import render, transform_family
from pipelines.sample_world.diffusion import DUET, REUSE
from pipelines.sample_world.posts import EDIT_KINDS, sample_edits, sample_params
from pipelines.sample_world.recipes import edit_tag
from tests.support import media

SR = render.SR


@pytest.fixture(scope="module")
def music() -> np.ndarray:
    x = media.music_pcm(6.0, seed=5).astype(np.float32) / 32768.0
    return resample_poly(x, SR, media.MUSIC_RATE).astype(np.float32) if SR != media.MUSIC_RATE else x


def band(x: np.ndarray, lo: float, hi: float) -> float:
    """Energy of `x` between lo and hi Hz."""
    f = np.fft.rfftfreq(x.size, 1 / SR)
    s = np.abs(np.fft.rfft(x)) ** 2
    return float(s[(f >= lo) & (f < hi)].sum())


def semitones_between(x: np.ndarray, y: np.ndarray) -> float:
    """How far y's spectrum sits above x's, in semitones: the best lag of their log-frequency magnitude spectra
    (tenths of a semitone, 100 Hz - 5 kHz)."""
    grid = 100.0 * 2 ** (np.arange(0, 56 * 10) / 120.0)  # 100 Hz .. ~2.5 octaves+, 1/10 semitone steps

    def logspec(z: np.ndarray) -> np.ndarray:
        f = np.fft.rfftfreq(z.size, 1 / SR)
        m = np.log1p(np.interp(grid, f, np.abs(np.fft.rfft(z))))
        return m - m.mean()

    a, b = logspec(x), logspec(y)
    lags = range(-50, 51)
    score = [float(np.dot(a[max(0, -k): a.size - max(0, k)], b[max(0, k): b.size - max(0, -k)])) for k in lags]
    return lags[int(np.argmax(score))] / 10.0


@pytest.mark.parametrize("semitones", [-3, -1, 2])
def test_a_pitch_shift_moves_the_spectrum_and_keeps_the_tempo(music, semitones):
    y = render.user_edit(music, {"kind": "pitch", "semitones": semitones, "seed": 1})
    assert y.size == music.size  # same tempo: as long as before
    assert semitones_between(music, y) == pytest.approx(semitones, abs=0.25)
    # the onsets stay where they were: the envelopes correlate at lag 0, unlike the plain resampled copy whose
    # pitch moves as far but whose tempo moves with it
    def env(z: np.ndarray) -> np.ndarray:
        z = render._fit(z, music.size)
        return np.abs(z[: z.size // 256 * 256]).reshape(-1, 256).mean(axis=1)

    resampled = render.speed_change(music, 2 ** (semitones / 12), "pitch")
    same_tempo = np.corrcoef(env(music), env(y))[0, 1]
    assert same_tempo > 0.6 and same_tempo > np.corrcoef(env(music), env(resampled))[0, 1] + 0.1


def test_a_phone_re_recording_keeps_only_the_phone_band(music):
    # broadband input (the synthetic song has little above 3 kHz): the song plus white noise 10 dB under it
    x = (music + render.noise(music.size, "white", 2) * render.rms(music) / 3.16).astype(np.float32)
    y = render.user_edit(x, {"kind": "phone", "seed": 3})
    assert band(y, 20, 150) / band(y, 500, 3000) < 0.1 * band(x, 20, 150) / band(x, 500, 3000)
    # what is left above the speaker's band is the room noise the phone's microphone picked up, far below
    assert band(y, 6000, SR / 2) / band(y, 500, 3000) < 0.2 * band(x, 6000, SR / 2) / band(x, 500, 3000)


def test_bass_boost_and_eq_reshape_the_balance(music):
    boosted = render.user_edit(music, {"kind": "bass_boost", "seed": 1})
    assert band(boosted, 40, 160) / band(boosted, 500, 3000) > 3 * band(music, 40, 160) / band(music, 500, 3000)
    eq = render.user_edit(music, {"kind": "eq", "seed": 1})
    assert band(eq, 2400, 3700) / band(eq, 250, 450) > 4 * band(music, 2400, 3700) / band(music, 250, 450)


def test_a_low_bitrate_generation_is_lossy_but_the_same_music(music):
    y = render.user_edit(music, {"kind": "low_bitrate", "seed": 1})
    assert y.size == music.size and not np.allclose(y, music, atol=1e-3)
    lag = int(np.argmax(np.correlate(y[:SR], music[:SR], "full"))) - (SR - 1)  # the encoder's priming delay
    a, b = (y[lag:], music[: music.size - lag]) if lag >= 0 else (y[: y.size + lag], music[-lag:])
    assert np.corrcoef(a, b)[0, 1] > 0.8


def test_edits_go_to_a_share_of_reuses_and_leave_the_rest_of_the_world_alone():
    n = 4000
    rng = np.random.default_rng(3)
    relation = np.where(rng.random(n) < 0.7, REUSE, DUET)
    before = sample_params(n, np.random.default_rng(9), 2)
    p = {k: v.copy() for k, v in before.items()}
    sample_edits(p, relation, seed=7, share=0.2)
    edited = p["edit"] != None  # noqa: E711 (object array)
    assert not edited[relation != REUSE].any()
    assert 0.17 < edited[relation == REUSE].mean() < 0.23
    assert set(p["edit"][edited]) == set(EDIT_KINDS)
    loud = p["edit"] == "loud_voice"
    assert p["voice"][loud].all() and (p["voice_snr"][loud] == -6.0).all() and (p["voice_at"][loud] == 0.0).all()
    for key, value in before.items():  # everything else as the world's own stream drew it
        assert (p[key][~loud] == value[~loud]).all(), key
    none = {k: v.copy() for k, v in before.items()}
    sample_edits(none, relation, seed=7, share=0.0)
    assert (none["edit"] == None).all()  # noqa: E711
    assert {transform_family(edit_tag(k, 2)) for k in EDIT_KINDS if k != "loud_voice"} <= set(EDIT_KINDS)
    assert edit_tag("pitch", -3) == "pitch_-3st"


def test_recall_by_transform_counts_posts_in_their_sounds_majority_cluster():
    labels = pl.DataFrame({
        "post_id": ["a", "b", "c", "d", "e"],
        "canonical_sound_id": ["S", "S", "S", "T", "T"],
        "sound_id": ["s1", "s1", "s2", "t1", None],
        "transforms": [["segment", "aac_64k"], ["segment", "pitch_+2st", "aac_64k"],
                       ["segment", "pitch_-1st", "mp3_96k"], ["segment", "phone", "aac_64k"],
                       ["segment", "phone", "opus_32k"]],
    })
    got = {r["transform"]: (r["correct"], r["posts"]) for r in recall_by_transform(labels, "sound_id",
                                                                                    "canonical_sound_id")}
    assert got["pitch"] == (1, 2)  # b sits with a in S's majority cluster, c made a sound of its own
    assert got["phone"] == (1, 2)  # e has no primary sound at all: a miss
    assert got["segment"] == (3, 5) and got["aac"] == (3, 3)  # d is T's majority cluster by itself
