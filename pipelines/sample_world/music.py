"""Real compositions from music21's bundled corpus, rendered to audio with FluidSynth and a GM soundfont.

Each render is a recipe (piece, instrument, tempo, key) cached by its hash, so thousands of distinct
sounds cost one render each, ever. Pieces are picked across collections so no two sounds share a score.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from .config import SAMPLE_RATE

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
RENDER_MAX_S = 75.0  # a sound never needs more than a minute; longer pieces are cut

# General MIDI programs that sound convincing with FluidR3_GM
PROGRAMS = {
    0: "Acoustic Grand Piano", 4: "Electric Piano", 6: "Harpsichord", 11: "Vibraphone", 19: "Church Organ",
    21: "Accordion", 24: "Nylon Guitar", 25: "Steel Guitar", 40: "Violin", 42: "Cello",
    46: "Harp", 48: "String Ensemble", 52: "Choir Aahs", 56: "Trumpet", 61: "Brass Section",
    65: "Alto Sax", 68: "Oboe", 71: "Clarinet", 73: "Flute", 80: "Square Lead", 81: "Saw Lead",
    88: "New Age Pad", 105: "Banjo", 108: "Kalimba", 114: "Steel Drums",
}
SOLO_PROGRAMS = (40, 73, 68, 71, 65, 56, 24, 108, 11)  # duet partners: one melodic line

# collections of single-piece files (multi-tune "opus" books and analyses are skipped)
SOUND_COLLECTIONS = ("bach", "palestrina", "monteverdi", "trecento", "beethoven", "mozart", "haydn",
                     "schumann_robert", "schumann_clara", "josquin", "ryansMammoth", "joplin", "verdi",
                     "handel", "corelli", "weber", "schubert", "chopin", "cpebach", "beach", "luca",
                     "ciconia", "lusitano", "johnson_j_r", "liliuokalani")
PARTNER_COLLECTIONS = ("ryansMammoth",)
SKIP_SUFFIXES = (".rntxt",)
MAX_FILE_BYTES = 60_000  # whole quartets/symphonies take 10-300 s to convert; a 75 s sound needs none of that


@lru_cache(maxsize=1)
def corpus_paths() -> tuple[str, ...]:
    """Relative paths (collection/file) of music21's core corpus, sorted for determinism."""
    from music21 import corpus

    out = []
    for p in corpus.getCorePaths():
        rel = str(p).split("/corpus/", 1)[1]
        if not rel.endswith(SKIP_SUFFIXES) and Path(p).stat().st_size <= MAX_FILE_BYTES:
            out.append(rel)
    return tuple(sorted(out))


def music21_version() -> str:
    import music21

    return music21.__version__


def pick_pieces(n: int, rng: np.random.Generator, collections: tuple[str, ...], exclude: set[str]) -> list[str]:
    """`n` distinct pieces, spread round-robin over collections so a small world still varies."""
    by_coll: dict[str, list[str]] = {c: [] for c in collections}
    for rel in corpus_paths():
        c = rel.split("/", 1)[0]
        if c in by_coll and rel not in exclude:
            by_coll[c].append(rel)
    pools = []
    for c in collections:
        items = by_coll[c]
        pools.append([items[i] for i in rng.permutation(len(items))])
    out: list[str] = []
    depth = 0
    while len(out) < n and any(depth < len(p) for p in pools):
        for pool in pools:
            if depth < len(pool) and len(out) < n:
                out.append(pool[depth])
        depth += 1
    return out


def render_spec(piece: str, rng: np.random.Generator, solo: bool = False) -> dict:
    """Instrument, tempo factor and transposition for one render of `piece`."""
    progs = SOLO_PROGRAMS if solo else tuple(PROGRAMS)
    return {
        "piece": piece,
        "program": int(progs[int(rng.integers(0, len(progs)))]),
        "tempo": round(float(rng.uniform(0.8, 1.3)), 3),
        "transpose": int(rng.integers(-4, 5)),
        "reverb": bool(rng.random() < 0.5),
    }


MUSIC_RENDER_VERSION = 2  # part of every render's cache key: bump when rendering changes


def spec_key(spec: dict) -> str:
    blob = json.dumps({"v": MUSIC_RENDER_VERSION, **spec}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def render_path(spec: dict, cache_dir: Path) -> Path:
    return cache_dir / "music21" / f"{spec_key(spec)}.ogg"


def render(spec: dict, cache_dir: Path) -> dict:
    """Render one spec to `<cache>/music21/<hash>.ogg` (mono, 22.05 kHz) unless cached; returns metadata.

    The metadata (title, composer, duration) sits next to the audio as JSON; a failed parse or a
    silent render is cached as failed so it is never retried.
    """
    out = render_path(spec, cache_dir)
    meta_path = out.with_suffix(".json")
    if meta_path.exists():
        return json.loads(meta_path.read_text())
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"spec": spec, "ok": False, "path": str(out.relative_to(cache_dir))}
    try:
        meta.update(_render(spec, out))
    except Exception as exc:  # a corpus file music21 cannot turn into MIDI: record, move on
        meta["error"] = f"{type(exc).__name__}: {exc}"[:300]
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta))
    tmp.replace(meta_path)
    return meta


def _opening(score, quarters: float):
    """The first measures covering `quarters` quarter notes: rendering whole quartets takes minutes."""
    from music21 import stream

    parts = list(score.parts)
    if not parts or score.duration.quarterLength <= quarters:
        return score
    last = None
    for m in parts[0].getElementsByClass(stream.Measure):
        last = m.number
        if m.offset >= quarters:
            break
    return score.measures(0, last) if last is not None else score


def _strip_repeats(score) -> None:
    from music21 import bar, repeat, spanner, stream

    for m in score.recurse().getElementsByClass(stream.Measure):
        if isinstance(m.leftBarline, bar.Repeat):
            m.leftBarline = None
        if isinstance(m.rightBarline, bar.Repeat):
            m.rightBarline = None
    for el in list(score.recurse().getElementsByClass((repeat.RepeatExpression, spanner.RepeatBracket))):
        if el.activeSite is not None:
            el.activeSite.remove(el)


def _render(spec: dict, out: Path) -> dict:
    from music21 import corpus, instrument, stream, tempo

    score = corpus.parse(spec["piece"])
    if isinstance(score, stream.Opus):
        score = score.scores[0]
    title = (score.metadata.title if score.metadata and score.metadata.title else None) or Path(
        spec["piece"]
    ).stem
    composer = (score.metadata.composer if score.metadata and score.metadata.composer else None) or spec[
        "piece"
    ].split("/")[0]
    marks = list(score.recurse().getElementsByClass(tempo.MetronomeMark))
    base = marks[0].number if marks and marks[0].number else 96.0
    bpm = float(np.clip(base * spec["tempo"], 50, 190))
    score = _opening(score, quarters=(RENDER_MAX_S + 10) * bpm / 60.0)
    if spec["transpose"]:
        score = score.transpose(spec["transpose"])
    for m in list(score.recurse().getElementsByClass(tempo.MetronomeMark)):
        m.activeSite.remove(m)
    parts = list(score.parts) or [score]
    for part in parts:
        for inst in list(part.recurse().getElementsByClass(instrument.Instrument)):
            inst.activeSite.remove(inst)
        part.insert(0, instrument.instrumentFromMidiProgram(spec["program"]))
    parts[0].insert(0, tempo.MetronomeMark(number=bpm))
    with tempfile.TemporaryDirectory() as tmp:
        mid = Path(tmp) / "piece.mid"
        try:
            score.write("midi", fp=str(mid))
        except Exception:  # repeats music21 cannot expand (often after the cut): play it straight through
            _strip_repeats(score)
            score.write("midi", fp=str(mid))
        # raw stereo s16 on stdout, read only what a sound can use: some corpus MIDIs never end in FluidSynth
        synth = subprocess.Popen(
            ["fluidsynth", "-ni", "-q", "-R", "1" if spec["reverb"] else "0", "-C", "0", "-g", "0.7",
             "-r", str(SAMPLE_RATE), "-T", "raw", "-O", "s16", "-F", "-", str(SOUNDFONT), str(mid)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        assert synth.stdout is not None
        raw = synth.stdout.read(int((RENDER_MAX_S + 5) * SAMPLE_RATE) * 4)
        synth.kill()
        synth.wait()
    tmp_out = out.with_suffix(".part.ogg")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "s16le", "-ac", "2", "-ar", str(SAMPLE_RATE), "-i", "-",
         "-af", "silenceremove=start_periods=1:start_threshold=-50dB", "-t", str(RENDER_MAX_S), "-ac", "1",
         "-c:a", "libvorbis", "-q:a", "5", "-fflags", "+bitexact", "-flags:a", "+bitexact",
         "-map_metadata", "-1", str(tmp_out)],
        input=raw, check=True, capture_output=True,
    )
    tmp_out.replace(out)
    dur = float(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(out)],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )
    return {"ok": dur >= 12.0, "title": str(title), "composer": str(composer), "duration_s": round(dur, 3),
            "instrument": PROGRAMS.get(spec["program"], str(spec["program"])), "bpm": round(bpm, 1)}
