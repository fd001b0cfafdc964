"""Real music for the matcher's edit tests: tracks of the Debian pack the sample world uses, cut to 30 s and
encoded (optionally through ffmpeg filters: an edit users make), with the pipeline's own decoder downstream."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipelines.sample_world.config import default_cache_dir
from pipelines.sample_world.sources import ensure_pack

PACK = "singularity-music"


def pack_tracks(n: int) -> list[Path]:
    """The first `n` tracks of PACK (by title) that last 55 s or more, from the render cache."""
    cache = default_cache_dir()
    tracks = sorted((t for t in ensure_pack(PACK, cache) if t.duration_s >= 55), key=lambda t: t.title)[:n]
    assert len(tracks) == n, f"the pack has fewer than {n} tracks of 55 s or more"
    return [cache / t.path for t in tracks]


def pitch_filter(semitones: int) -> str:
    """ffmpeg filters for a pitch shift at the same tempo: resampled by 2^(s/12), then time-stretched back."""
    r = 2 ** (semitones / 12)
    return f"aresample=44100,asetrate={44100 * r:.0f},aresample=44100,atempo={1 / r:.6f}"


def cut(src: Path, dst: Path, filters: str | None = None) -> Path:
    """30 s of `src` from 20 s in, through `filters`, as AAC 64k in `dst`."""
    af = ["-af", filters] if filters else []
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", "20", "-t", "30", "-i", str(src), *af,
                    "-c:a", "aac", "-b:a", "64k", str(dst)], check=True)
    return dst
