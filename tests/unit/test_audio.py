"""Decode, levels and Chromaprint on real media made by ffmpeg and espeak-ng (nothing mocked)."""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipelines.audio import (
    ALGORITHM,
    MAX_DECODE_SECONDS,
    SAMPLE_RATE,
    DecodeError,
    analyse_file,
    analyse_files,
    decode_pcm,
    file_sha256,
    raw_fingerprint,
)
from tests.support import media

SOURCE_SECONDS = 10.0
LONG_TEXT = (
    "Every morning the baker opens the shop at six, sweeps the floor, lights the ovens and sings an old song "
    "about the sea while the first loaves of bread turn golden brown."
)


def bit_error_rate(a: np.ndarray, b: np.ndarray, max_shift: int = 4, min_overlap: int = 16) -> float:
    """Lowest fraction of differing bits over the item alignments within +-max_shift."""
    best = 1.0
    for shift in range(-max_shift, max_shift + 1):
        x, y = a[max(shift, 0) :], b[max(-shift, 0) :]
        n = min(x.size, y.size)
        if n >= min_overlap:
            best = min(best, float(np.bitwise_count(x[:n] ^ y[:n]).sum()) / (32 * n))
    return best


def fpcalc_raw(path: Path) -> np.ndarray:
    """`fpcalc -raw` of the whole file; Debian's fpcalc exits 3 after printing a valid result, so parse stdout."""
    out = subprocess.run(["fpcalc", "-raw", "-length", "0", str(path)], capture_output=True, text=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("FINGERPRINT="))
    return np.array([int(v) for v in line.removeprefix("FINGERPRINT=").split(",")], dtype=np.uint64)


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("audio")
    media.tone_music(d / "song.wav", SOURCE_SECONDS, seed=1)
    media.tone_music(d / "other.wav", SOURCE_SECONDS, seed=2)
    media.speech(d / "speech.wav", LONG_TEXT)
    media.encode(d / "song.wav", d / "song.mp3")
    media.encode(d / "song.wav", d / "song.m4a")
    stereo = "[0:a]aresample=44100[l];[l][1:a]join=inputs=2:channel_layout=stereo,aresample=48000[out]"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(d / "speech.wav"), "-i", str(d / "song.wav"),
                    "-filter_complex", stereo, "-map", "[out]", str(d / "stereo48k.wav")], check=True)
    return d


@pytest.fixture(scope="module")
def song_fp(media_dir: Path) -> np.ndarray:
    return raw_fingerprint(decode_pcm(media_dir / "song.wav"))


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".webm"])
def test_each_codec_decodes_to_the_same_audio(media_dir: Path, song_fp: np.ndarray, suffix: str) -> None:
    encoded = media.encode(media_dir / "song.wav", media_dir / f"codec{suffix}")
    pcm = decode_pcm(encoded)
    assert pcm.dtype == np.int16 and pcm.ndim == 1
    assert abs(pcm.size / SAMPLE_RATE - SOURCE_SECONDS) < 0.05
    fp = raw_fingerprint(pcm)
    assert fp.size >= 8 * (SOURCE_SECONDS - 3)
    if suffix in (".wav", ".flac"):  # lossless: the very same samples
        np.testing.assert_array_equal(fp, song_fp)
    assert bit_error_rate(fp, song_fp) < 0.15


def test_video_container_with_audio_decodes_its_audio(media_dir: Path, song_fp: np.ndarray) -> None:
    post = media.encode(media_dir / "song.wav", media_dir / "post.mp4", video=True)
    streams = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
                              str(post)], capture_output=True, text=True).stdout.split()
    assert sorted(streams) == ["audio", "video"]
    assert bit_error_rate(raw_fingerprint(decode_pcm(post)), song_fp) < 0.15


@pytest.mark.parametrize("name", ["song.wav", "song.mp3", "song.m4a", "speech.wav", "stereo48k.wav"])
def test_fingerprint_is_identical_to_fpcalc(media_dir: Path, name: str) -> None:
    path = media_dir / name
    ours = raw_fingerprint(decode_pcm(path))
    theirs = fpcalc_raw(path)
    assert ours.dtype == np.uint32 and ALGORITHM == "chromaprint-2"
    assert theirs.max() >= 2**31  # high bit set somewhere, so equality proves the unsigned conversion
    np.testing.assert_array_equal(ours.astype(np.uint64), theirs)


def test_different_audio_has_high_bit_error_rate(media_dir: Path, song_fp: np.ndarray) -> None:
    other = raw_fingerprint(decode_pcm(media_dir / "other.wav"))
    voice = raw_fingerprint(decode_pcm(media_dir / "speech.wav"))
    assert voice.size >= 40  # enough overlap for the BER to mean something
    assert bit_error_rate(song_fp, other) > 0.2
    assert bit_error_rate(song_fp, voice) > 0.2
    mp3 = raw_fingerprint(decode_pcm(media.encode(media_dir / "song.wav", media_dir / "again.mp3", bitrate="48k")))
    assert bit_error_rate(song_fp, mp3) < 0.15


def test_same_seed_reproduces_the_music(tmp_path: Path) -> None:
    assert np.array_equal(media.music_pcm(3.0, seed=7), media.music_pcm(3.0, seed=7))
    assert not np.array_equal(media.music_pcm(3.0, seed=7), media.music_pcm(3.0, seed=8))


def test_video_without_audio_is_no_audio_stream(tmp_path: Path) -> None:
    video = media.video_without_audio(tmp_path / "silent_film.mp4")
    with pytest.raises(DecodeError) as info:
        decode_pcm(video)
    assert info.value.rule == "no_audio_stream" and "silent_film.mp4" in info.value.message


@pytest.mark.parametrize("suffix", [".mp3", ".m4a", ".ogg", ".wav"])
def test_random_bytes_are_undecodable(tmp_path: Path, suffix: str) -> None:
    bad = media.corrupt(tmp_path / f"noise{suffix}", seed=3)
    result = analyse_file(bad)
    assert not result.decoded and result.error_rule == "undecodable"
    assert f"noise{suffix}" in (result.error or "") and result.fingerprint is None and result.duration_s is None
    assert result.audio_sha256 == hashlib.sha256(bad.read_bytes()).hexdigest()


def test_zero_sample_file_is_empty_and_missing_file_is_not_found(tmp_path: Path) -> None:
    empty = media.silence(tmp_path / "nothing.wav", 0.0)
    with pytest.raises(DecodeError) as info:
        decode_pcm(empty)
    assert info.value.rule == "empty"
    missing = analyse_file(tmp_path / "gone.mp3")
    assert (missing.decoded, missing.error_rule, missing.audio_sha256) == (False, "not_found", "")
    assert analyse_file(tmp_path).error_rule == "not_found"  # a directory is not a media file


def test_truncated_mp3_keeps_what_decodes(media_dir: Path, song_fp: np.ndarray, tmp_path: Path) -> None:
    whole = media.encode(media_dir / "song.wav", tmp_path / "whole.mp3")
    half = analyse_file(media.truncated(whole, tmp_path / "half.mp3", keep_fraction=0.5))
    assert half.decoded and half.duration_s is not None
    assert 0.4 * SOURCE_SECONDS < half.duration_s < 0.6 * SOURCE_SECONDS
    assert half.fingerprint is not None and bit_error_rate(half.fingerprint, song_fp) < 0.15


def test_truncated_m4a_with_index_at_the_end_is_undecodable(media_dir: Path, tmp_path: Path) -> None:
    # ffmpeg writes the mp4 index (moov) last by default: losing the tail loses everything.
    whole = media.encode(media_dir / "song.wav", tmp_path / "whole.m4a")
    assert analyse_file(media.truncated(whole, tmp_path / "half.m4a")).error_rule == "undecodable"


def test_levels_of_silence_and_of_a_known_sine(tmp_path: Path) -> None:
    quiet = analyse_file(media.silence(tmp_path / "quiet.m4a", 3.0))
    assert quiet.decoded and quiet.peak_dbfs is not None and quiet.peak_dbfs < -90
    # 441 Hz is 25 samples per period at 11025 Hz, so nothing is resampled and the levels follow from maths.
    sine = tmp_path / "sine.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"aevalsrc=0.5*sin(2*PI*441*t):s={SAMPLE_RATE}:d=4", "-c:a", "pcm_s16le", str(sine)], check=True)
    result = analyse_file(sine)
    peak = 20 * math.log10(0.5 * math.sin(2 * math.pi * 6 / 25))
    assert result.peak_dbfs == pytest.approx(peak, abs=0.01)
    assert result.rms_dbfs == pytest.approx(20 * math.log10(0.5 / math.sqrt(2)), abs=0.01)
    assert result.duration_s == pytest.approx(4.0, abs=0.001)


def test_max_seconds_and_timeout(media_dir: Path) -> None:
    assert decode_pcm(media_dir / "song.wav", max_seconds=2.5).size == pytest.approx(2.5 * SAMPLE_RATE, abs=1)
    with pytest.raises(DecodeError) as info:
        decode_pcm(media_dir / "song.wav", timeout_s=0.001)
    assert info.value.rule == "timeout"


def test_files_longer_than_the_cap_report_their_declared_duration(tmp_path: Path) -> None:
    long = tmp_path / "long.wav"
    seconds = MAX_DECODE_SECONDS + 30
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"sine=frequency=440:sample_rate=8000:duration={seconds}", "-c:a", "pcm_s16le", str(long)],
                   check=True)
    result = analyse_file(long)
    assert result.duration_s == pytest.approx(seconds, abs=0.01)  # not the decoder's stop point (issue 15.6)
    assert result.fingerprint is not None and result.fingerprint.size > 8 * (MAX_DECODE_SECONDS - 5)


@pytest.mark.parametrize("name", ["-starts-with-dash.mp3", "sp ace 'q\" ;$(touch pwned)&|.m4a", "pro:to.ogg",
                                  "100%d.wav", "ünï cødé 音.flac", "-i"])
def test_weird_file_names(media_dir: Path, tmp_path: Path, name: str) -> None:
    weird = tmp_path / name
    shutil.copyfile(media_dir / "song.mp3", weird)
    result = analyse_file(weird)
    assert result.decoded, result.error
    assert result.path == str(weird)
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_relative_name_starting_with_dash(media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(media_dir / "song.wav", tmp_path / "-y.wav")
    monkeypatch.chdir(tmp_path)
    assert decode_pcm(Path("-y.wav")).size == pytest.approx(SOURCE_SECONDS * SAMPLE_RATE, abs=2)


def test_pool_matches_in_process_and_keeps_order(media_dir: Path, tmp_path: Path) -> None:
    paths = [
        media_dir / "song.wav",
        media.corrupt(tmp_path / "bad.mp3"),
        media_dir / "speech.wav",
        tmp_path / "missing.ogg",
        media.video_without_audio(tmp_path / "mute.mp4"),
        media_dir / "other.wav",
    ]
    serial = analyse_files(paths, workers=1, progress=False)
    pooled = analyse_files(paths, workers=2, progress=True)
    assert [r.path for r in pooled] == [str(p) for p in paths] == [r.path for r in serial]
    for a, b in zip(serial, pooled, strict=True):
        assert (a.audio_sha256, a.decoded, a.error_rule, a.duration_s, a.peak_dbfs, a.rms_dbfs) == (
            b.audio_sha256, b.decoded, b.error_rule, b.duration_s, b.peak_dbfs, b.rms_dbfs)
        assert (a.fingerprint is None and b.fingerprint is None) or np.array_equal(a.fingerprint, b.fingerprint)
    assert [r.error_rule for r in pooled] == [None, "undecodable", None, "not_found", "no_audio_stream", None]


def test_sha256_matches_hashlib(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(np.random.default_rng(5).bytes(3 * (1 << 20) + 123))  # spans several 1 MiB chunks
    assert file_sha256(big) == hashlib.sha256(big.read_bytes()).hexdigest()


def test_raw_fingerprint_rejects_float_samples() -> None:
    with pytest.raises(TypeError):
        raw_fingerprint(np.zeros(SAMPLE_RATE * 5, dtype=np.float32))


def test_known_hashes_are_kept_and_must_match_the_paths(media_dir: Path) -> None:
    paths = [media_dir / "song.wav", media_dir / "other.wav"]
    given = ["a" * 64, "b" * 64]  # what the validate stage computed; the fingerprint stage keys rows by it
    results = analyse_files(paths, workers=2, progress=False, sha256s=given)
    assert [r.audio_sha256 for r in results] == given and all(r.decoded for r in results)
    with pytest.raises(ValueError, match="1 sha256s for 2 paths"):
        analyse_files(paths, progress=False, sha256s=given[:1])
