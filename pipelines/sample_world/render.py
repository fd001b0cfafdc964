"""Turn a post's audio recipe into an encoded media file with ffmpeg, cached by the recipe's hash.

A recipe is plain JSON: where the canonical sound comes from, the platform-music steps (trim, speed with
or without pitch), the post's own segment, overlays (voice-over at an SNR, noise, room reverb) and, for
duets and stitches, the parent post's recipe nested inside. PCM is built in numpy (mixing at an exact
SNR), speed changes use ffmpeg's asetrate+aresample (pitch follows) or atempo (tempo only), users' edits (pitch
at the same tempo, EQ, a phone re-recording, a low-bitrate generation) ffmpeg's filters and encoders, and the
result is encoded with ffmpeg's real encoders (AAC in mp4/m4a/adts, MP3, Opus, Vorbis, FLAC, WAV).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from scipy.signal import fftconvolve

from . import speech
from .config import RENDER_VERSION, SAMPLE_RATE

SR = SAMPLE_RATE
TARGET_RMS = 0.1  # -20 dBFS: every sound and voice is levelled before mixing so SNRs mean what they say
BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]


def recipe_hash(task: dict) -> str:
    """Content address of a render: same recipe (incl. nested parents) -> same file, across builds."""
    blob = json.dumps({"v": RENDER_VERSION, "pcm": task["pcm"], "enc": task["enc"]}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def cached_path(cache_dir: Path, task: dict) -> Path:
    h = recipe_hash(task)
    return cache_dir / "renders" / h[:2] / f"{h}.{task['enc']['ext']}"


# ---------------------------------------------------------------- PCM primitives
def _ffmpeg_pcm(args_in: list[str], af: str | None, data: bytes | None = None) -> np.ndarray:
    cmd = ["ffmpeg", "-v", "error", *(["-nostdin"] if data is None else []), *args_in]
    if af:
        cmd += ["-af", af]
    cmd += ["-ac", "1", "-ar", str(SR), "-f", "f32le", "-"]
    res = subprocess.run(cmd, input=data, capture_output=True, check=True)
    return np.frombuffer(res.stdout, dtype="<f4").copy()


def decode(path: Path, start: float, duration: float) -> np.ndarray:
    """Mono PCM of `path` from `start` for `duration` seconds (input seeking: fast on long tracks)."""
    return _ffmpeg_pcm(["-ss", f"{start:.3f}", "-t", f"{duration:.3f}", "-i", str(path)], None)


def speed_change(pcm: np.ndarray, factor: float, mode: str) -> np.ndarray:
    """`pitch`: resample (asetrate+aresample, the 'sped up' sound); `tempo`: time-stretch (atempo)."""
    if abs(factor - 1.0) < 1e-6:
        return pcm
    af = f"asetrate={SR * factor:.4f},aresample={SR}" if mode == "pitch" else f"atempo={factor:.4f}"
    return _ffmpeg_pcm(["-f", "f32le", "-ac", "1", "-ar", str(SR), "-i", "-"], af, pcm.astype("<f4").tobytes())


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def level(x: np.ndarray, target: float = TARGET_RMS) -> np.ndarray:
    r = rms(x)
    return (x * (target / r)).astype(np.float32) if r > 1e-6 else x.astype(np.float32)


def mix_at_snr(base: np.ndarray, over: np.ndarray, snr_db: float, at_s: float) -> np.ndarray:
    """Add `over` into `base` from `at_s`, scaled so that base/over power over the overlap is `snr_db`."""
    out = base.copy()
    i = min(int(at_s * SR), max(out.size - 1, 0))
    seg = over[: out.size - i]
    if seg.size == 0:
        return out
    r_base, r_over = rms(out[i : i + seg.size]), rms(seg)
    if r_over < 1e-6:
        return out
    gain = (max(r_base, 1e-4) / r_over) / (10 ** (snr_db / 20))
    out[i : i + seg.size] += gain * seg
    return out


def noise(n: int, color: str, seed: int) -> np.ndarray:
    """White, pink (1/f) or brown (1/f^2) noise shaped in the frequency domain."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(n)
    if color == "white" or n < 4:
        return white.astype(np.float32)
    spec = np.fft.rfft(white)
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    spec /= f ** (0.5 if color == "pink" else 1.0)
    return np.fft.irfft(spec, n).astype(np.float32)


def reverb(x: np.ndarray, rt60: float, wet: float, seed: int) -> np.ndarray:
    """Room reverb by convolution with a synthetic exponentially decaying impulse response."""
    rng = np.random.default_rng(seed)
    n = int(rt60 * SR)
    t = np.arange(n) / SR
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    ir[0] = 0.0
    ir /= np.sqrt(np.sum(ir**2))
    wet_sig = fftconvolve(x, ir)[: x.size]
    return ((1 - wet) * x + wet * level(wet_sig.astype(np.float32), rms(x))).astype(np.float32)


def _filtered(x: np.ndarray, af: str) -> np.ndarray:
    """`x` through an ffmpeg audio filter chain, same length (filters may add or drop a few samples)."""
    y = _ffmpeg_pcm(["-f", "f32le", "-ac", "1", "-ar", str(SR), "-i", "-"], af, x.astype("<f4").tobytes())
    return _fit(y, x.size)


def low_bitrate(x: np.ndarray, kbps: int = 32) -> np.ndarray:
    """One lossy generation: AAC-LC at `kbps` kbit/s mono (ADTS, ffmpeg's native encoder) and decoded back, as
    a re-upload of a low-quality copy carries it before the platform encodes the post again."""
    enc = subprocess.run(["ffmpeg", "-v", "error", "-f", "f32le", "-ac", "1", "-ar", str(SR), "-i", "-", "-ac", "1",
                          "-c:a", "aac", "-b:a", f"{kbps}k", *BITEXACT, "-f", "adts", "-"],
                         input=x.astype("<f4").tobytes(), capture_output=True, check=True).stdout
    return _fit(_ffmpeg_pcm(["-f", "aac", "-i", "-"], None, enc), x.size)


def user_edit(x: np.ndarray, e: dict) -> np.ndarray:
    """The edits users make to a sound they reuse (posts.EDIT_KINDS), applied to the post's mix.

    pitch: ±1-3 semitones at the same tempo (resampled, then time-stretched back); bass_boost: +12 dB low shelf;
    eq: +10 dB presence peak, -8 dB low-mid cut; phone: played through a phone speaker and re-recorded (300 Hz -
    3.4 kHz band, a small room, room noise at 18 dB SNR); low_bitrate: one AAC 32 kbit/s mono generation."""
    kind = e["kind"]
    if kind == "pitch":
        r = 2.0 ** (e["semitones"] / 12.0)
        return _filtered(x, f"asetrate={SR * r:.4f},aresample={SR},atempo={1.0 / r:.6f}")
    if kind == "bass_boost":
        return _filtered(x, "bass=g=12:f=110:w=0.6")
    if kind == "eq":
        return _filtered(x, "equalizer=f=3000:t=q:w=1.2:g=10,equalizer=f=350:t=q:w=1:g=-8")
    if kind == "phone":
        y = _filtered(x, "highpass=f=300,highpass=f=300,lowpass=f=3400,lowpass=f=3400")
        y = reverb(level(y, max(rms(x), 1e-4)), 0.35, 0.35, e["seed"])
        room = noise(y.size, "pink", e["seed"] + 1)
        return (y + max(rms(y), 1e-4) / 10 ** (18 / 20) / max(rms(room), 1e-6) * room).astype(np.float32)
    if kind == "low_bitrate":
        return low_bitrate(x)
    raise ValueError(f"unknown edit {kind!r}")


# ---------------------------------------------------------------- recipe evaluation
class _LRU(OrderedDict):
    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_or(self, key: str, make):
        if key in self:
            self.move_to_end(key)
            return self[key]
        val = make()
        self[key] = val
        if len(self) > self.size:
            self.popitem(last=False)
        return val


_SOUNDS = _LRU(48)
_MUSIC = _LRU(48)
_POSTS = _LRU(24)  # duets and stitches re-use their parent's PCM
_CACHE_DIR: Path | None = None


def _key(obj) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def sound_pcm(spec: dict) -> np.ndarray:
    """The canonical sound's audio, levelled: a clip of a real track / render, or synthetic speech."""

    def make() -> np.ndarray:
        if spec["type"] == "speech":
            return level(speech.synth(spec["speech"], spec["duration"]))
        assert _CACHE_DIR is not None
        pcm = decode(_CACHE_DIR / spec["path"], spec["start"], spec["duration"])
        return level(pcm)

    return _SOUNDS.get_or(_key(spec), make)


def music_pcm(music: dict) -> np.ndarray:
    """A platform sound's audio: the canonical sound after the music's steps (re-upload trims, speed)."""

    def make() -> np.ndarray:
        pcm = sound_pcm(music["sound"])
        for step in music["steps"]:
            pcm = apply_step(pcm, step)
        return pcm

    return _MUSIC.get_or(_key(music), make)


def apply_step(pcm: np.ndarray, step: dict) -> np.ndarray:
    """Cut [offset, offset+length) then change speed."""
    a = round(step["offset"] * SR)
    b = a + round(step["length"] * SR)
    return speed_change(pcm[a:b], step.get("speed", 1.0), step.get("mode", "pitch"))


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if x.size >= n else np.concatenate([x, np.zeros(n - x.size, dtype=np.float32)])


def partner_pcm(p: dict, n: int) -> np.ndarray:
    if p["type"] == "voice":
        return level(speech.synth(p["speech"], p["duration"]))
    assert _CACHE_DIR is not None
    return level(decode(_CACHE_DIR / p["path"], p["start"], p["duration"]))


def post_pcm(r: dict) -> np.ndarray:
    """Evaluate a post's recipe (recursively for duets and stitches) to mono float32 PCM."""
    return _POSTS.get_or(_key(r), lambda: _post_pcm(r))  # shared: callers never modify it in place


def _post_pcm(r: dict) -> np.ndarray:
    kind = r["kind"]
    if kind == "silence":
        x = np.zeros(int(r["duration"] * SR), dtype=np.float32)
    elif kind == "clip":
        x = apply_step(music_pcm(r["music"]), r["segment"])
    elif kind == "duet":
        base = post_pcm(r["parent"])
        x = mix_at_snr(base, partner_pcm(r["partner"], base.size), r["partner"]["snr_db"], r["partner"]["at"])
    elif kind == "stitch":
        head = post_pcm(r["parent"])[: int(r["clip_s"] * SR)]
        tail = level(speech.synth(r["reply"], r["reply_s"]))
        fade = min(int(0.03 * SR), head.size)
        head = head.copy()
        if fade:
            head[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        x = np.concatenate([head, tail])
    else:
        raise ValueError(f"unknown recipe kind {kind!r}")
    if r.get("voice"):
        v = r["voice"]
        x = mix_at_snr(x, level(speech.synth(v["speech"], v["duration"])), v["snr_db"], v["at"])
    if r.get("noise"):
        nz = r["noise"]
        n_sig = noise(x.size, nz["color"], nz["seed"])
        gain = max(rms(x), 1e-4) / 10 ** (nz["snr_db"] / 20) / max(rms(n_sig), 1e-6)
        x = (x + gain * n_sig).astype(np.float32)
    if r.get("reverb"):
        rv = r["reverb"]
        x = reverb(x, rv["rt60"], rv["wet"], rv["seed"])
    if r.get("edit"):
        x = user_edit(x, r["edit"])
    return x.astype(np.float32)


def _finish(x: np.ndarray) -> np.ndarray:
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return x * (0.95 / peak) if peak > 0.95 else x


ENCODERS = {
    "aac": lambda e: ["-c:a", "aac", "-aac_coder", "fast", "-b:a", f"{e['kbps']}k"],
    "mp3": lambda e: ["-c:a", "libmp3lame", "-b:a", f"{e['kbps']}k"],
    "opus": lambda e: ["-c:a", "libopus", "-b:a", f"{e['kbps']}k"],
    "vorbis": lambda e: ["-c:a", "libvorbis", "-q:a", str(e.get("q", 3))],
    "flac": lambda e: ["-c:a", "flac"],
    "pcm": lambda e: ["-c:a", "pcm_s16le"],
}
FORMATS = {"mp4": "mp4", "m4a": "ipod", "aac": "adts", "mp3": "mp3", "webm": "webm", "ogg": "ogg",
           "opus": "ogg", "wav": "wav", "flac": "flac"}


def encode(x: np.ndarray, enc: dict, out: Path) -> None:
    """Encode mono float PCM to `out` with the recipe's codec, bitrate, sample rate and container."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".{os.getpid()}.part")
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "f32le", "-ac", "1", "-ar", str(SR), "-i", "-",
           "-ar", str(enc["sr"]), *ENCODERS[enc["codec"]](enc), *BITEXACT, "-f", FORMATS[enc["ext"]], str(tmp)]
    subprocess.run(cmd, input=_finish(x).astype("<f4").tobytes(), capture_output=True, check=True)
    tmp.replace(out)


def render_task(task: dict, cache_dir: Path) -> str:
    """Render one task into the cache unless it is there; returns the cache path."""
    global _CACHE_DIR
    _CACHE_DIR = cache_dir
    out = cached_path(cache_dir, task)
    if not out.exists():
        encode(post_pcm(task["pcm"]), task["enc"], out)
    return str(out)


def _render_chunk(tasks: list[dict], cache_dir: str) -> int:
    for t in tasks:
        render_task(t, Path(cache_dir))
    return len(tasks)


def render_all(tasks: list[dict], cache_dir: Path, workers: int | None, progress: bool, label: str) -> int:
    """Render the missing tasks in a process pool (chunks grouped by sound so workers reuse decoded audio)."""
    todo = [t for t in tasks if not cached_path(cache_dir, t).exists()]
    uniq: dict[str, dict] = {}
    for t in todo:
        uniq.setdefault(recipe_hash(t), t)
    todo = sorted(uniq.values(), key=lambda t: (t.get("group", ""), recipe_hash(t)))
    if not todo:
        return 0
    workers = workers or os.cpu_count() or 1
    size = max(1, min(16, len(todo) // (workers * 4) or 1))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), disable=not progress) as bar:
        job = bar.add_task(label, total=len(todo))
        if workers == 1:
            for c in chunks:
                bar.advance(job, _render_chunk(c, str(cache_dir)))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futs = [pool.submit(_render_chunk, c, str(cache_dir)) for c in chunks]
                for f in as_completed(futs):
                    bar.advance(job, f.result())
    return len(todo)
