"""Which real audio each canonical sound is: Debian tracks, music21 renders, espeak-ng speech.

A sound is a 20-60 s clip of one source (the way platform sounds are excerpts), one source per sound so
two "different" sounds never share audio. Metadata-only worlds name sounds after corpus pieces without
rendering or downloading anything.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import music, sources
from .config import Scale
from .text import speech_spec


@dataclass(slots=True)
class SoundSource:
    kind: str  # 'music' | 'speech'
    source: str  # which real audio, e.g. "debian:singularity-music=007-2:Awakening.ogg@31.2s"
    title: str
    artist: str
    album: str
    duration_s: float  # of the canonical sound (the clip)
    spec: dict | None  # render spec of the clip (None in metadata-only worlds)
    package: str = ""
    version: str = ""
    licence: str = ""


@dataclass(slots=True)
class Catalog:
    sounds: list[SoundSource]
    partners: list[dict] = field(default_factory=list)  # music21 renders for duet instrument partners
    versions: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # seconds per sub-phase (packs, renders), for build_timings.json


def _clip(rng: np.random.Generator, total: float, max_start: float | None = None) -> tuple[float, float]:
    dur = float(min(total - 0.5, rng.uniform(20.0, 60.0)))
    hi = total - dur if max_start is None else min(max_start, total - dur)
    start = float(rng.uniform(0.0, max(hi, 0.0)))
    return round(start, 2), round(dur, 2)


def _speech_sounds(n: int, rng: np.random.Generator) -> list[SoundSource]:
    out = []
    for i in range(n):
        spec = speech_spec(rng, min_words=40)
        dur = round(float(rng.uniform(8.0, 35.0)), 2)
        out.append(SoundSource(
            "speech", f"espeak-ng:{spec['voice']}:wpm={spec['wpm']}:pitch={spec['pitch']}:{i}",
            "original sound", "", "", dur, {"type": "speech", "speech": spec, "duration": dur},
            "espeak-ng", "", "GPL-3+",
        ))
    return out


def _render_many(specs: list[dict], cache_dir: Path, workers: int | None, progress: bool, label: str,
                 need: int | None = None) -> list[dict]:
    """Render `specs` in order (cached ones are free), across `workers` processes.

    With `need`, stops once the first k specs hold `need` good renders and returns only those k metas:
    callers take the first `need` good renders in order, so the world is the same as rendering them all,
    but the spare pieces (picked in case some fail) are not rendered. At most `workers - 1` renders started
    in parallel beyond that point finish anyway (into the cache).
    """
    from rich.progress import Progress

    done: dict[int, dict] = {}
    for i, s in enumerate(specs):
        if music.render_path(s, cache_dir).with_suffix(".json").exists():
            done[i] = music.render(s, cache_dir)

    def prefix() -> int | None:  # length of the shortest prefix that holds `need` good renders
        ok = 0
        for i in range(len(specs)):
            if i not in done:
                return None
            ok += bool(done[i].get("ok"))
            if need is not None and ok >= need:
                return i + 1
        return len(specs)

    if prefix() is None:
        workers = workers or os.cpu_count() or 1
        todo = [i for i in range(len(specs)) if i not in done]
        total = (
            len(todo) if need is None
            else min(len(todo), max(need - sum(bool(m.get("ok")) for m in done.values()), 1))
        )
        with Progress(disable=not progress) as bar, ProcessPoolExecutor(max_workers=workers) as pool:
            job = bar.add_task(label, total=total)
            running: dict = {}
            while prefix() is None:
                while todo and len(running) < workers:
                    i = todo.pop(0)
                    running[pool.submit(music.render, specs[i], cache_dir)] = i
                fut = next(as_completed(running))
                done[running.pop(fut)] = fut.result()
                bar.advance(job)
            for fut, i in running.items():  # started before the prefix was complete: let them land in the cache
                done[i] = fut.result()
    return [done[i] for i in range(prefix() or len(specs))]


def _music21_sounds(n: int, rng: np.random.Generator, cache_dir: Path, workers: int | None, progress: bool,
                    used: set[str]) -> list[SoundSource]:
    out: list[SoundSource] = []
    while len(out) < n:
        need = n - len(out)
        pieces = music.pick_pieces(int(need * 1.25) + 2, rng, music.SOUND_COLLECTIONS, used)
        if not pieces:
            break
        used.update(pieces)
        specs = [music.render_spec(p, rng) for p in pieces]
        for meta in _render_many(specs, cache_dir, workers, progress, "music21 renders", need=need):
            if not meta.get("ok") or len(out) >= n:
                continue
            start, dur = _clip(rng, meta["duration_s"], max_start=10.0)
            spec = meta["spec"]
            out.append(SoundSource(
                "music",
                f"music21:{spec['piece']}|{meta['instrument']}|tempo×{spec['tempo']}|{spec['transpose']:+d}st"
                f"@{start}s",
                f"{meta['title']} ({meta['instrument']})", meta["composer"], "music21 corpus", dur,
                {"type": "file", "path": meta["path"], "start": start, "duration": dur},
                "music21", music.music21_version(), "BSD-3-Clause (music21); corpus works public domain / "
                "per music21 corpus licence notes",
            ))
    return out


def build_catalog(scale: Scale, seed: int, cache_dir: Path, no_media: bool, workers: int | None,
                  progress: bool) -> Catalog:
    """The scale's canonical sound sources, in sound-index order (shuffled so kinds interleave)."""
    rng = np.random.default_rng([seed, 11])
    if no_media:
        return _names_only(scale, rng)
    used: set[str] = set()
    t0 = time.perf_counter()
    tracks = sources.ensure_packs(scale.debian_packs, cache_dir)
    t1 = time.perf_counter()
    n_speech = min(scale.n_speech, scale.n_sounds)
    n_deb = min(len(tracks), scale.n_sounds - n_speech - scale.n_music21)
    n_m21 = scale.n_sounds - n_speech - max(n_deb, 0)
    sounds: list[SoundSource] = []
    for j in sorted(rng.choice(len(tracks), size=max(n_deb, 0), replace=False).tolist()):
        tr = tracks[j]
        start, dur = _clip(rng, tr.duration_s)
        sounds.append(SoundSource(
            "music", f"debian:{tr.package}={tr.version}:{Path(tr.path).name}@{start}s", tr.title, tr.artist,
            tr.album, dur, {"type": "file", "path": tr.path, "start": start, "duration": dur},
            tr.package, tr.version, tr.licence,
        ))
    sounds += _music21_sounds(n_m21, rng, cache_dir, workers, progress, used)
    t2 = time.perf_counter()
    sounds += _speech_sounds(n_speech, rng)
    if len(sounds) < scale.n_sounds:
        raise RuntimeError(f"only {len(sounds)} of {scale.n_sounds} sound sources could be prepared")
    order = rng.permutation(len(sounds))
    sounds = [sounds[i] for i in order]
    partners = []
    pieces = music.pick_pieces(scale.n_partner_renders * 2, rng, music.PARTNER_COLLECTIONS, used)
    specs = [music.render_spec(p, rng, solo=True) for p in pieces]
    for meta in _render_many(specs, cache_dir, workers, progress, "duet partner renders",
                              need=scale.n_partner_renders):
        if meta.get("ok") and len(partners) < scale.n_partner_renders:
            partners.append({"path": meta["path"], "duration_s": meta["duration_s"],
                             "title": meta["title"], "instrument": meta["instrument"]})
    t3 = time.perf_counter()
    timings = {"packs": round(t1 - t0, 2), "music21_sounds": round(t2 - t1, 2), "music21_partners": round(t3 - t2, 2)}
    versions = {
        "debian": {pkg: next((t.version for t in tracks if t.package == pkg), None) for pkg in scale.debian_packs},
        "music21": music.music21_version(),
        "soundfont": "fluid-soundfont-gm (FluidR3_GM.sf2)",
    }
    return Catalog(sounds, partners, versions, timings)


def _names_only(scale: Scale, rng: np.random.Generator) -> Catalog:
    """Metadata-only sounds: music21 corpus piece names + speech; nothing fetched or rendered."""
    paths = music.corpus_paths()
    n = scale.n_sounds
    is_speech = rng.random(n) < 0.12
    piece = rng.integers(0, len(paths), n)
    variant = rng.integers(0, 1000, n)
    dur = np.round(rng.uniform(20.0, 60.0, n), 2)
    sdur = np.round(rng.uniform(8.0, 35.0, n), 2)
    out = []
    for i in range(n):
        if is_speech[i]:
            out.append(SoundSource("speech", f"espeak-ng:synthetic:{i}", "original sound", "", "", float(sdur[i]),
                                   None, "espeak-ng", "", "GPL-3+"))
        else:
            p = paths[int(piece[i])]
            out.append(SoundSource("music", f"music21:{p}|variant{int(variant[i])}",
                                   f"{Path(p).stem} v{int(variant[i])}", p.split("/", 1)[0], "music21 corpus",
                                   float(dur[i]), None, "music21", "", "BSD-3-Clause"))
    return Catalog(out, [], {"music21": music.music21_version()})
