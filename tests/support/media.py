"""Make real media for tests in well under a second each, offline: espeak-ng speech, synthetic music,
ffmpeg encodes/concats/mixes, videos without audio, and damaged files.

Everything is produced by the real tools the pipeline will meet (ffmpeg encoders, espeak-ng), so decoding
and fingerprinting in tests exercise the same code paths as production data. The output format always
follows the destination's suffix (see `encode`).
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.io import wavfile

MUSIC_RATE = 44100
_CODEC_BY_SUFFIX = {  # suffixes whose container settles the codec; others (.m4a, .mp4, .mkv, .mov) use `codec`
    ".mp3": "libmp3lame",
    ".ogg": "libvorbis",
    ".opus": "libopus",
    ".webm": "libopus",
    ".flac": "flac",
    ".wav": "pcm_s16le",
}
_LOSSLESS = {"flac", "pcm_s16le"}
_VIDEO_CODEC_BY_SUFFIX = {".webm": "libvpx"}  # default libx264
_MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
_MINOR = np.array([0, 2, 3, 5, 7, 8, 10])


def _run(cmd: list[str], stdin_text: str | None = None) -> None:
    proc = subprocess.run(cmd, input=stdin_text, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()[-600:]}")


def _inp(path: Path) -> str:
    """`-i` argument that survives names starting with '-' or containing ':'."""
    return f"file:{Path(path).absolute()}"


def _audio_out_args(dst: Path, codec: str = "aac", bitrate: str = "64k") -> list[str]:
    chosen = _CODEC_BY_SUFFIX.get(Path(dst).suffix.lower(), codec)
    args = ["-c:a", chosen]
    if chosen not in _LOSSLESS:
        args += ["-b:a", bitrate]
    return args


def _ffmpeg(args: list[str], dst: Path) -> Path:
    dst = Path(dst)
    _run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args, _inp(dst)])
    return dst


def _to_suffix(wav: Path, dst: Path) -> Path:
    """Leave `wav` as is when `dst` is a .wav, otherwise encode it into `dst` and delete it."""
    if dst.suffix.lower() == ".wav":
        return dst
    try:
        return encode(wav, dst)
    finally:
        wav.unlink(missing_ok=True)


def _tmp_wav(dst: Path) -> Path:
    return dst if dst.suffix.lower() == ".wav" else dst.with_name(dst.name + ".tmp.wav")


def speech(path: Path, text: str, voice: str = "en", speed: int = 160, pitch: int = 50) -> Path:
    """Spoken `text` via espeak-ng (voices: `espeak-ng --voices`, e.g. en, en-us, de, fr, en+f3).

    The text goes through stdin so words starting with '-' are never read as options.
    """
    path = Path(path)
    wav = _tmp_wav(path)
    _run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav.absolute()), "--stdin"],
         stdin_text=text)
    return _to_suffix(wav, path)


def _notes_to_hz(midi: np.ndarray) -> np.ndarray:
    return 440.0 * 2.0 ** ((midi - 69) / 12.0)


def _osc(cycles: np.ndarray) -> np.ndarray:
    """sin(2*pi*cycles) in float32: phase kept exact in float64, the costly sin done in fast float32."""
    return np.sin((2 * np.pi) * (cycles - np.floor(cycles)).astype(np.float32))


def _decay(rate: float, since: np.ndarray) -> np.ndarray:
    return np.exp(np.float32(-rate) * since.astype(np.float32))


def _plucks(t: np.ndarray, step_idx: np.ndarray, onsets: np.ndarray, step: float, decay: float) -> np.ndarray:
    """Envelope restarting at every step flagged in `onsets` (a held note keeps decaying)."""
    last_onset = np.maximum.accumulate(np.where(onsets, np.arange(onsets.size), 0))
    since = (t - last_onset[step_idx] * step).astype(np.float32)
    return np.minimum(since / np.float32(0.008), np.float32(1.0)) * _decay(decay, since)


def music_pcm(seconds: float, seed: int, rate: int = MUSIC_RATE) -> np.ndarray:
    """Seeded synthetic song as int16: key, mode, tempo, chords, melody, rests and drums all follow `seed`.

    A melody over changing chords gives Chromaprint's chroma features real movement, so different seeds
    produce clearly different fingerprints while one seed is exactly reproducible.
    """
    rng = np.random.default_rng(seed)
    step = 60.0 / rng.uniform(96.0, 150.0) / 2.0  # eighth notes
    n_steps = math.ceil(seconds / step) + 1
    n_bars = n_steps // 8 + 1
    scale = _MAJOR if rng.random() < 0.5 else _MINOR
    root = 48 + int(rng.integers(0, 12))

    def degree_to_midi(deg: np.ndarray) -> np.ndarray:
        return root + 12 * (deg // 7) + scale[deg % 7]

    walk = np.clip(np.cumsum(rng.choice([-3, -2, -1, 1, 2, 3], size=n_steps)) + 7, 0, 16)
    melody_hz = _notes_to_hz(degree_to_midi(walk) + 12)
    onsets = rng.random(n_steps) < 0.8
    rests = rng.random(n_steps) < 0.12
    chord_deg = rng.choice([0, 1, 2, 3, 4, 5], size=n_bars)
    chord_hz = _notes_to_hz(degree_to_midi(chord_deg[:, None] + np.array([0, 2, 4])[None, :]))  # (bars, 3)

    t = np.arange(round(seconds * rate)) / rate
    k = np.minimum((t / step).astype(np.int64), n_steps - 1)
    bar = k // 8
    mel_cycles = np.cumsum(melody_hz[k]) / rate
    melody = _osc(mel_cycles) + 0.35 * _osc(2 * mel_cycles) + 0.15 * _osc(3 * mel_cycles)
    melody *= _plucks(t, k, onsets, step, 2.5) * ~rests[k]
    chords = _osc(np.cumsum(chord_hz[bar], axis=0) / rate).sum(axis=1)
    chords *= 0.6 + 0.4 * _decay(1.5, t - bar * 8 * step)
    bass = _osc(np.cumsum(chord_hz[bar, 0] / 2) / rate)
    bass *= _plucks(t, k, np.arange(n_steps) % 2 == 0, step, 6.0)
    beat_t = t - (k // 2) * 2 * step
    kick = _osc(50 * beat_t + 8 * (1 - _decay(12, beat_t))) * _decay(14, beat_t)
    hat = rng.standard_normal(t.size, dtype=np.float32) * _decay(60, t - k * step) * (k % 2 == 1)
    mix = 0.5 * melody + 0.15 * chords + 0.35 * bass + 0.45 * kick + 0.06 * hat
    mix *= 0.8 / max(float(np.abs(mix).max()), 1e-9)
    return np.round(mix * 32767).astype(np.int16)


def tone_music(path: Path, seconds: float, seed: int) -> Path:
    """A short synthetic song (see `music_pcm`) in the format of `path`'s suffix."""
    path = Path(path)
    wav = _tmp_wav(path)
    wavfile.write(wav, MUSIC_RATE, music_pcm(seconds, seed))
    return _to_suffix(wav, path)


def encode(src: Path, dst: Path, codec: str = "aac", bitrate: str = "64k", video: bool = False) -> Path:
    """Re-encode the audio of `src` into `dst`, codec by suffix: .mp3 mp3, .ogg vorbis, .opus/.webm opus,
    .flac, .wav PCM; .m4a/.mp4/.mkv/.mov use `codec` (default aac). `bitrate` applies to lossy codecs.

    `video=True` adds a tiny 64x64 video stream (libx264, or libvpx for .webm) like a real post export.
    """
    args = ["-i", _inp(src)]
    if video:
        vcodec = _VIDEO_CODEC_BY_SUFFIX.get(Path(dst).suffix.lower(), "libx264")
        args += ["-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-map", "1:v:0", "-c:v", vcodec]
        args += ["-pix_fmt", "yuv420p", "-shortest"]
    args += ["-map", "0:a:0", *_audio_out_args(dst, codec, bitrate)]
    return _ffmpeg(args, dst)


def concat(parts: Sequence[Path], dst: Path) -> Path:
    """The parts' audio one after another (any formats/rates; resampled to 44.1 kHz mono), e.g. a stitch."""
    args: list[str] = []
    for part in parts:
        args += ["-i", _inp(part)]
    prep = ";".join(f"[{i}:a:0]aresample={MUSIC_RATE},aformat=channel_layouts=mono[a{i}]" for i in range(len(parts)))
    joined = "".join(f"[a{i}]" for i in range(len(parts)))
    graph = f"{prep};{joined}concat=n={len(parts)}:v=0:a=1[out]"
    return _ffmpeg([*args, "-filter_complex", graph, "-map", "[out]", *_audio_out_args(dst)], dst)


def trim(src: Path, dst: Path, start_s: float, end_s: float) -> Path:
    """Seconds [start_s, end_s) of `src`'s audio (e.g. a stitch's first seconds, a clip)."""
    args = ["-ss", f"{start_s:.3f}", "-t", f"{end_s - start_s:.3f}", "-i", _inp(src), "-map", "0:a:0"]
    return _ffmpeg([*args, *_audio_out_args(dst)], dst)


def mix(a: Path, b: Path, dst: Path, b_gain_db: float = 0.0) -> Path:
    """`a` and `b` summed without level normalisation, `b` scaled by `b_gain_db` (e.g. a voice-over or duet).

    Lasts as long as the longer input.
    """
    graph = (
        f"[0:a:0]aresample={MUSIC_RATE},aformat=channel_layouts=mono[a];"
        f"[1:a:0]aresample={MUSIC_RATE},aformat=channel_layouts=mono,volume={b_gain_db}dB[b];"
        "[a][b]amix=inputs=2:duration=longest:normalize=0[out]"
    )
    args = ["-i", _inp(a), "-i", _inp(b), "-filter_complex", graph, "-map", "[out]", *_audio_out_args(dst)]
    return _ffmpeg(args, dst)


def silence(path: Path, seconds: float) -> Path:
    """Digital silence (all-zero samples); `seconds=0` gives a valid file with no samples at all."""
    src = ["-f", "lavfi", "-i", f"anullsrc=r={MUSIC_RATE}:cl=mono", "-t", f"{seconds:.6f}"]
    return _ffmpeg([*src, *_audio_out_args(path)], Path(path))


def video_without_audio(path: Path, seconds: float = 2.0) -> Path:
    """A video file (by suffix: .mp4 libx264, .webm libvpx) with only a video stream."""
    vcodec = _VIDEO_CODEC_BY_SUFFIX.get(Path(path).suffix.lower(), "libx264")
    src = ["-f", "lavfi", "-i", f"testsrc=size=64x64:rate=10:duration={seconds:.3f}"]
    return _ffmpeg([*src, "-an", "-c:v", vcodec, "-pix_fmt", "yuv420p"], Path(path))


def truncated(src: Path, dst: Path, keep_fraction: float = 0.5) -> Path:
    """The first `keep_fraction` of `src`'s bytes, like an interrupted download."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: int(len(data) * keep_fraction)])
    return Path(dst)


def corrupt(path: Path, size: int = 4096, seed: int = 0) -> Path:
    """`size` seeded random bytes under whatever (audio) name `path` has: a file no decoder accepts."""
    Path(path).write_bytes(np.random.default_rng(seed).bytes(size))
    return Path(path)
