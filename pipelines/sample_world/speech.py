"""Speech from espeak-ng (several languages, voices, speeds, pitches) as mono float32 PCM.

Used for "talking" original sounds, voice-overs, duet partners and stitch replies. Utterances are
cut or looped to the exact duration the world asked for, so durations are known before rendering.
"""

from __future__ import annotations

import subprocess

import numpy as np

from .config import SAMPLE_RATE


def espeak_version() -> str:
    out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True)
    return out.stdout.strip()


def _wav_to_pcm(data: bytes) -> tuple[np.ndarray, int]:
    """espeak-ng streams a WAV whose sizes are placeholders: locate the data chunk by hand."""
    rate = int.from_bytes(data[24:28], "little")
    pos = data.find(b"data", 12)
    pcm = np.frombuffer(data[pos + 8 :], dtype="<i2").astype(np.float32) / 32768.0
    return pcm, rate


def synth(spec: dict, duration_s: float) -> np.ndarray:
    """Speak `spec["text"]` with the spec's voice and return exactly `duration_s` seconds at SAMPLE_RATE.

    Shorter speech is repeated after a short breath; longer speech is cut with a 50 ms fade.
    """
    res = subprocess.run(
        ["espeak-ng", "--stdout", "-v", spec["voice"], "-s", str(spec["wpm"]), "-p", str(spec["pitch"]),
         spec["text"]],
        capture_output=True,
        check=True,
    )
    pcm, rate = _wav_to_pcm(res.stdout)
    if rate != SAMPLE_RATE:
        n_out = round(pcm.size * SAMPLE_RATE / rate)
        pcm = np.interp(np.linspace(0, pcm.size - 1, n_out), np.arange(pcm.size), pcm).astype(np.float32)
    # trim espeak's leading/trailing silence so the utterance starts when the world says it does
    loud = np.flatnonzero(np.abs(pcm) > 0.01)
    if loud.size:
        pcm = pcm[loud[0] : loud[-1] + 1]
    n = round(duration_s * SAMPLE_RATE)
    if pcm.size == 0:
        return np.zeros(n, dtype=np.float32)
    gap = np.zeros(int(0.35 * SAMPLE_RATE), dtype=np.float32)
    reps = int(np.ceil(n / (pcm.size + gap.size)))
    out = np.concatenate([np.concatenate([pcm, gap])] * max(reps, 1))[:n].copy()
    fade = min(int(0.05 * SAMPLE_RATE), n)
    if fade:
        out[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return out
