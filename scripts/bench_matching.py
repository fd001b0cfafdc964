"""Accuracy and speed of the sound identity engine on real music (not synthetic tones).

    uv run python scripts/bench_matching.py [--sounds 60] [--music DIR] [--work DIR]

Real tracks (Debian game-music packs under data/cache/sources, or any folder of audio) become origin posts
on day 1; day 2 holds, per origin, a re-encode, a 5 s clip, a stitch (its first 1-5 s then speech), a 0 dB
voice-over, a resampled speed change, a tempo-only stretch, the two chained (resampled then stretched: time and
pitch factors differ), a tempo-only stretch at a factor between the presets, and the edits users make (EDIT_KINDS:
pitch shifts at the same tempo, slowed + reverb, nightcore, bass boost, EQ, phone re-recordings, AAC 32k mono, a
voice 6 dB over the music, continuous speeds 0.7-1.5 with or without the pitch), plus tracks never posted
(unrelated: any match is a false one). Everything goes through the real fingerprint analysis and the real
match_sounds stage on a real DuckDB file, and the same queries are scored with plain whole-file Chromaprint
comparison (best BER over +-10 s of alignment, as a baseline). Prints recall per transform and timings.

    uv run python scripts/bench_matching.py --scale [--sizes 1000 10000 100000] [--landmark-sizes 1000 10000]

Index lookup vs exhaustive comparison and growth with the index: the index is filled with N synthetic
sounds (random 32-bit items, 30 s each; random landmark hashes at the real density of ~150/s) in a DuckDB
file, and the real candidate SQL of match_sounds is timed for a chunk of 16 excerpts of 16 indexed sounds,
as match_sounds runs it (store.lookup: ART lookups) and as a plain scan of the postings (it must return the
same candidates); exhaustive = BER of a query against every fingerprint at every offset (numpy, timed on
1000 and scaled linearly). Also timed: adding one day's 100 new sounds to the indexed table and resetting
that day (a rerun), with the real SQL.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines import warehouse  # noqa: E402
from pipelines.audio.analysis import analyse_files  # noqa: E402
from pipelines.matching import store  # noqa: E402
from pipelines.stages.fingerprint_frames import analyses_frames, peaks_frame  # noqa: E402

DAY1, DAY2 = date(2024, 6, 1), date(2024, 6, 2)
TEXTS = [
    "okay so everyone has been asking me about this one, here is my honest reaction to the whole thing",
    "wait for it, wait for it, this part is my favourite and I cannot stop listening to it every morning",
    "let me tell you what happened yesterday at work because you will not believe it when you hear it",
    "this is my entry for the challenge, tag a friend who would do this better than me, thank you all",
]


def ff(args: list[str], dst: Path) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args, str(dst)], check=True)
    return dst


def make_queries(tracks: list[Path], unrelated: list[Path], work: Path, rng: random.Random,
                 speeds_rng: random.Random, edits_rng: random.Random, keep: bool = False) -> list[dict]:
    """Queries per track; `speeds_rng` draws the chained and in-between speed changes and `edits_rng` the edits
    users make (edit_jobs), so adding them left the other queries of a seed as they were. `keep`: files already in
    `work` (an earlier run of the same seed and tracks) are not made again."""
    words = " ".join(TEXTS).replace(",", "").split()

    def speech(name: str, r: random.Random = rng) -> Path:  # every stitch reply and voice-over says something else
        wav = work / f"{name}.wav"
        text = " ".join(r.choice(words) for _ in range(28))
        voice = r.choice(["en", "en-us", "en+f3", "en-gb", "en+m3", "en-us+f2"])
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(r.randint(140, 180)), "-w", str(wav), text], check=True)
        return wav

    jobs: list[tuple[dict, list[str]]] = []
    aac = ["-c:a", "aac", "-b:a", "64k"]
    for i, src in enumerate(tracks):
        origin = work / f"o{i:03d}.m4a"
        jobs.append(({"kind": "origin", "sound": i, "path": origin},
                     ["-ss", "20", "-t", "30", "-i", str(src), *aac, str(origin)]))
    for i, src in enumerate(tracks):
        o = ["-ss", "20", "-t", "30", "-i", str(src)]
        q = lambda k, i=i: work / f"q{i:03d}_{k}.m4a"  # noqa: E731
        clip_at = rng.uniform(0, 24)
        jobs.append(({"kind": "reencode", "sound": i, "path": q("re").with_suffix(".mp3")},
                     [*o, "-b:a", "96k", str(q("re").with_suffix(".mp3"))]))
        jobs.append(({"kind": "clip_5s", "sound": i, "path": q("clip")},
                     ["-ss", f"{20 + clip_at:.2f}", "-t", "5", "-i", str(src), *aac, str(q("clip"))]))
        keep = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0])
        sp = str(speech(f"reply{i:03d}"))
        jobs.append(({"kind": f"stitch_{keep:g}s", "sound": i, "path": q("stitch")},
                     ["-ss", "20", "-t", f"{keep}", "-i", str(src), "-i", sp, "-filter_complex",
                      ("[0:a]aresample=44100,aformat=channel_layouts=mono[a];[1:a]aresample=44100,"
                      "aformat=channel_layouts=mono[b];[a][b]concat=n=2:v=0:a=1"), *aac, str(q("stitch"))]))
        # voice at 0 dB: both sides loudness-normalised to the same RMS, voice looped over the clip
        vo = str(speech(f"voice{i:03d}"))
        jobs.append(({"kind": "voice_0dB", "sound": i, "path": q("voice")},
                     [*o, "-stream_loop", "-1", "-i", vo, "-filter_complex",
                      ("[0:a]aresample=44100,aformat=channel_layouts=mono,loudnorm=I=-20:LRA=20:TP=-1[a];"
                      "[1:a]aresample=44100,aformat=channel_layouts=mono,loudnorm=I=-20:LRA=20:TP=-1[b];"
                      "[a][b]amix=inputs=2:duration=first:normalize=0"), *aac, str(q("voice"))]))
        f = rng.choice([0.8, 1.15, 1.2, 1.25, 1.33, 1.5])
        jobs.append(({"kind": "speed_pitch", "factor": f, "sound": i, "path": q("pitch")},
                     [*o, "-af", f"aresample=44100,asetrate={44100 * f:.0f},aresample=44100", *aac, str(q("pitch"))]))
        f2 = rng.choice([0.8, 1.15, 1.25, 1.33, 1.5])
        jobs.append(({"kind": "speed_tempo", "factor": f2, "sound": i, "path": q("tempo")},
                     [*o, "-af", f"atempo={f2}", *aac, str(q("tempo"))]))
        # two changes chained: resampled by f3, then time-stretched by g (time factor f3 * g, pitch factor f3)
        f3, g = speeds_rng.choice([0.8, 1.15, 1.25, 1.33]), speeds_rng.choice([0.8, 1.2, 1.25])
        jobs.append(({"kind": "speed_chain", "factor": round(f3 * g, 3), "sound": i, "path": q("chain")},
                     [*o, "-af", f"aresample=44100,asetrate={44100 * f3:.0f},aresample=44100,atempo={g}", *aac,
                      str(q("chain"))]))
        # a tempo-only stretch at a factor between the presets
        f4 = round(speeds_rng.uniform(0.78, 1.45), 3)
        jobs.append(({"kind": "speed_tempo_any", "factor": f4, "sound": i, "path": q("tempo_any")},
                     [*o, "-af", f"atempo={f4}", *aac, str(q("tempo_any"))]))
    jobs += edit_jobs(tracks, work, edits_rng, lambda name: speech(name, edits_rng))
    for j, src in enumerate(unrelated):
        path = work / f"u{j:03d}.m4a"
        jobs.append(({"kind": "unrelated", "sound": None, "path": path},
                     ["-ss", "25", "-t", "20", "-i", str(src), *aac, str(path)]))

    def run(job):
        spec, args = job
        if not (keep and spec["path"].exists()):
            subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)
        return spec

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(run, jobs))


# the edits users make (issue 18): one query per kind per track, from a random stream of their own
EDIT_KINDS = ("pitch_shift", "slowed_reverb", "nightcore", "bass_boost", "eq", "phone", "aac_32k_mono",
              "voice_plus6dB", "speed_pitch_any", "speed_tempo_wide")
LOUD = "aresample=44100,aformat=channel_layouts=mono,loudnorm=I={}:LRA=20:TP=-1"  # mono, loudness-normalised


def decaying_noise(seconds: float, seed: int) -> str:
    """A synthetic room impulse response: pink noise under an exponential fade (a filtergraph source)."""
    return (f"anoisesrc=d={seconds}:r=44100:a=0.5:c=pink:seed={seed},"
            f"afade=t=out:st=0:d={seconds}:curve=exp,aformat=channel_layouts=mono")


def edit_jobs(tracks: list[Path], work: Path, rng: random.Random, speech) -> list[tuple[dict, list[str]]]:
    """ffmpeg jobs for the edits of each track (EDIT_KINDS): a pitch shift of +-1-3 semitones at the same tempo,
    slowed + reverb, nightcore, bass boost, EQ, a phone re-recording in a noisy room, AAC 32 kbit/s mono, a voice
    6 dB louder than the music, and continuous speed factors 0.7-1.5 resampled or time-stretched."""
    jobs: list[tuple[dict, list[str]]] = []
    aac = ["-c:a", "aac", "-b:a", "64k"]
    for i, src in enumerate(tracks):
        o = ["-ss", "20", "-t", "30", "-i", str(src)]
        q = lambda k, i=i: work / f"e{i:03d}_{k}.m4a"  # noqa: E731
        seed = rng.randrange(1 << 30)
        # pitch shift at the same tempo: resampled by 2^(s/12), then time-stretched back
        st = rng.choice([1, 2, 3]) * rng.choice([1, -1])
        r = 2 ** (st / 12)
        jobs.append(({"kind": "pitch_shift", "factor": st, "sound": i, "path": q("pitchshift")},
                     [*o, "-af", f"aresample=44100,asetrate={44100 * r:.0f},aresample=44100,atempo={1 / r:.6f}",
                      *aac, str(q("pitchshift"))]))
        # slowed + reverb: resampled slower (pitch with it), then a convolution reverb (2.5 s decaying noise),
        # the wet signal 4 dB under the dry
        f = rng.uniform(0.8, 0.9)
        jobs.append(({"kind": "slowed_reverb", "factor": round(f, 3), "sound": i, "path": q("slowrev")},
                     [*o, "-filter_complex",
                      (f"[0:a]aresample=44100,asetrate={44100 * f:.0f},aresample=44100,aformat=channel_layouts=mono,"
                       f"asplit[d0][w0];{decaying_noise(2.5, seed)}[ir];[w0][ir]afir=gtype=none[w1];"
                       f"[d0]{LOUD.format(-20)}[d];[w1]{LOUD.format(-24)}[w];"
                       "[d][w]amix=inputs=2:duration=first:normalize=0,aresample=44100"), *aac, str(q("slowrev"))]))
        # nightcore: resampled faster, pitch up with it
        f = rng.uniform(1.2, 1.35)
        jobs.append(({"kind": "nightcore", "factor": round(f, 3), "sound": i, "path": q("nightcore")},
                     [*o, "-af", f"aresample=44100,asetrate={44100 * f:.0f},aresample=44100", *aac,
                      str(q("nightcore"))]))
        g = rng.uniform(10, 15)
        jobs.append(({"kind": "bass_boost", "factor": round(g, 1), "sound": i, "path": q("bass")},
                     [*o, "-af", f"bass=g={g:.1f},alimiter=limit=0.9", *aac, str(q("bass"))]))
        # EQ: a strong peak somewhere in the mids and the treble cut or boosted
        fc, gain, treble = rng.uniform(500, 3000), rng.uniform(8, 12), rng.choice([-10, 8])
        jobs.append(({"kind": "eq", "sound": i, "path": q("eq")},
                     [*o, "-af", f"equalizer=f={fc:.0f}:t=q:w=1:g={gain:.1f},treble=g={treble},alimiter=limit=0.9",
                      *aac, str(q("eq"))]))
        # played through a phone speaker in a room and recorded again: band 300-3400 Hz, a short room response,
        # room noise (brown/pink) at 15-20 dB SNR, AAC 64k
        snr = rng.uniform(15, 20)
        color = rng.choice(["pink", "brown"])
        jobs.append(({"kind": "phone", "factor": round(snr, 1), "sound": i, "path": q("phone")},
                     [*o, "-filter_complex",
                      ("[0:a]aresample=44100,aformat=channel_layouts=mono,highpass=f=300,highpass=f=300,"
                       f"lowpass=f=3400,lowpass=f=3400,asplit[d0][w0];{decaying_noise(0.3, seed)}[ir];"
                       f"[w0][ir]afir=gtype=none[w1];[d0]{LOUD.format(-20)}[d];[w1]{LOUD.format(-26)}[w];"
                       f"anoisesrc=d=40:r=44100:a=0.5:c={color}:seed={seed + 1},{LOUD.format(-20 - snr)}[n];"
                       "[d][w][n]amix=inputs=3:duration=first:normalize=0,aresample=44100"), *aac, str(q("phone"))]))
        jobs.append(({"kind": "aac_32k_mono", "sound": i, "path": q("aac32")},
                     [*o, "-ac", "1", "-c:a", "aac", "-b:a", "32k", str(q("aac32"))]))
        # a voice 6 dB louder than the music (both loudness-normalised, the music at -26 LUFS, the voice at -20)
        vo = str(speech(f"loudvoice{i:03d}"))
        jobs.append(({"kind": "voice_plus6dB", "sound": i, "path": q("loudvoice")},
                     [*o, "-stream_loop", "-1", "-i", vo, "-filter_complex",
                      (f"[0:a]{LOUD.format(-26)}[a];[1:a]{LOUD.format(-20)}[b];"
                       "[a][b]amix=inputs=2:duration=first:normalize=0"), *aac, str(q("loudvoice"))]))
        f = round(rng.uniform(0.7, 1.5), 3)
        jobs.append(({"kind": "speed_pitch_any", "factor": f, "sound": i, "path": q("pitch_any")},
                     [*o, "-af", f"aresample=44100,asetrate={44100 * f:.0f},aresample=44100", *aac,
                      str(q("pitch_any"))]))
        f = round(rng.uniform(0.7, 1.5), 3)
        jobs.append(({"kind": "speed_tempo_wide", "factor": f, "sound": i, "path": q("tempo_wide")},
                     [*o, "-af", f"atempo={f}", *aac, str(q("tempo_wide"))]))
    return jobs


def load_world(specs: list[dict], wh: Path, rng: random.Random) -> dict:
    t = time.perf_counter()
    analyses = analyse_files([s["path"] for s in specs], progress=False)
    secs = time.perf_counter() - t
    for s, a in zip(specs, analyses, strict=False):
        s["sha"] = a.audio_sha256
        s["fp"] = a.fingerprint
    con = warehouse.connect(wh)
    checks, fps = analyses_frames(analyses)
    frames = {"new_media_checks": checks, "new_fingerprints": fps, "new_peaks": peaks_frame(analyses)}
    for name, frame in frames.items():
        con.register(name, frame)
    warehouse.run_sql(con, "fingerprint/insert_media_checks")
    warehouse.run_sql(con, "fingerprint/insert_peaks")
    rows = []
    t1 = datetime(2024, 6, 1, 8)
    queries = [s for s in specs if s["kind"] not in ("origin", *EDIT_KINDS)]
    rng.shuffle(queries)  # as before the edits existed; the edits go in at places of their own random stream
    edits_rng = random.Random(rng.random())
    for s in [s for s in specs if s["kind"] in EDIT_KINDS]:
        queries.insert(edits_rng.randint(0, len(queries)), s)
    for k, s in enumerate([s for s in specs if s["kind"] == "origin"] + queries):
        s["post_id"] = f"{s['kind'][:6]}_{k:04d}"
        origin = s["kind"] == "origin"
        at = t1 + timedelta(minutes=k) if origin else datetime(2024, 6, 2, 8) + timedelta(minutes=k)
        rows.append({"post_id": s["post_id"], "author": "a", "created_at": at, "created_day": at.date(),
                     "audio_sha256": s["sha"], "source_format": "csv_export", "source_file": "x.csv",
                     "source_record": k, "ingest_day": DAY1 if origin else DAY2, "media_path": s["path"].name})
    con.register("bench_posts", pl.DataFrame(rows))
    con.execute("INSERT INTO validated_posts BY NAME SELECT * FROM bench_posts")
    con.close()
    return {"analyse_s": secs, "n_files": len(specs)}


def baseline(specs: list[dict]) -> dict[str, bool]:
    """Plain whole-file Chromaprint: best BER over alignments within +-80 items (10 s), >= 16 items overlap."""
    origins = {s["sound"]: s["fp"] for s in specs if s["kind"] == "origin"}
    hit: dict[str, bool] = {}
    for s in specs:
        if s["kind"] == "origin":
            continue
        q = s["fp"]
        best_sound, best = None, 1.0
        for sound, r in origins.items():
            for off in range(-80, 81):
                q0, q1 = max(0, -off), min(q.size, r.size - off)
                if q1 - q0 < 16:
                    continue
                ber = np.bitwise_count(q[q0:q1] ^ r[q0 + off:q1 + off]).mean() / 32
                if ber < best:
                    best, best_sound = ber, sound
        found = best < 0.2
        hit[s["post_id"]] = (found and best_sound == s["sound"]) if s["sound"] is not None else found
    return hit


# --- --scale: lookup cost vs index size ------------------------------------------------------------------
ITEMS = 240  # ~30 s
MARKS = 2250  # pair postings per sound (~15 s at ~150 landmarks/s), as many as its triplets below
QUERY_ITEMS = 60
QUERY_MARKS = 1500
N_QUERIES = 16
DAY_SOUNDS = 100  # one day's new sounds, for the incremental add / rerun cost
REPS = 9


def fill(con, n: int, landmarks: bool, rng: np.random.Generator) -> float:
    """Grow an empty index to n sounds the way match_sounds does (batches inserted ORDER BY key into the
    indexed tables); returns the seconds spent."""
    t = time.perf_counter()
    step = 5000
    for start in range(0, n, step):
        m = min(step, n - start)
        ids = np.repeat(np.arange(start, start + m, dtype=np.int32), ITEMS)
        frame = pl.DataFrame({"key": rng.integers(0, 1 << 24, ids.size, dtype=np.uint32), "audio_id": ids,
                              "pos": np.tile(np.arange(ITEMS, dtype=np.int32), m)})
        con.register("f", frame)
        con.execute("INSERT INTO match_postings SELECT * FROM f ORDER BY key")
        con.unregister("f")
        if landmarks:
            ids = np.repeat(np.arange(start, start + m, dtype=np.int32), MARKS)
            frame = pl.DataFrame({"hash": rng.integers(0, 1 << 21, ids.size, dtype=np.uint32), "audio_id": ids,
                                  "t": rng.integers(0, 1300, ids.size, dtype=np.int32)})
            con.register("f", frame)
            con.execute("INSERT INTO match_landmark_postings SELECT * FROM f ORDER BY hash")
            con.unregister("f")
    con.execute("CHECKPOINT")
    return time.perf_counter() - t


def chunk_items(con, n: int, rng: np.random.Generator) -> pl.DataFrame:
    """A chunk of N_QUERIES queries, each a different excerpt of a different indexed sound (so the vote has
    something to find and the chunk's keys are as many as its items)."""
    rows = []
    for qid, audio_id in enumerate(rng.choice(n, N_QUERIES, replace=False)):
        keys = con.execute("SELECT key FROM match_postings WHERE audio_id = $a ORDER BY pos LIMIT $n OFFSET $o",
                           {"a": int(audio_id), "n": QUERY_ITEMS, "o": int(rng.integers(0, ITEMS - QUERY_ITEMS))}
                           ).fetchall()
        rows += [(qid, k, i) for i, (k,) in enumerate(keys)]
    return pl.DataFrame(rows, schema={"qid": pl.Int32, "key": pl.UInt32, "pos": pl.Int32}, orient="row")


def _timed(run) -> float:
    t = time.perf_counter()
    run()
    return time.perf_counter() - t


def chromaprint_runs(con, q_items: pl.DataFrame) -> dict[str, object]:
    """The Chromaprint candidate SQL for one chunk, as match_sounds runs it (store.lookup: ART lookups when
    they are cheaper) and as a plain scan of every posting; fails if the two disagree on a single candidate."""
    params = {"min_votes": 2, "offsets_per_ref": 2, "top_k": 20, "refs_per_sound": 2, "chunk_refs": True,
              "since_audio_id": 0, "as_of": date.max}
    sql = warehouse.sql_text("match_sounds/candidates_chromaprint")

    def scan() -> pl.DataFrame:
        con.register("q_items", q_items)
        try:
            return con.sql(sql, params=params).pl()
        finally:
            con.unregister("q_items")

    def lookup() -> pl.DataFrame:
        with store.lookup(con):
            return scan()

    if not lookup().equals(scan()):
        raise SystemExit("index lookup and scan disagree on the candidates")
    return {"lookup": lookup, "scan": scan}


def landmark_run(con, rng: np.random.Generator):
    q_marks = pl.DataFrame({"qid": np.repeat(np.arange(N_QUERIES, dtype=np.int32), QUERY_MARKS),
                            "variant": np.zeros(N_QUERIES * QUERY_MARKS, dtype=np.int16),
                            "hash": rng.integers(0, 1 << 21, N_QUERIES * QUERY_MARKS, dtype=np.uint32),
                            "t": rng.integers(0, 400, N_QUERIES * QUERY_MARKS, dtype=np.int32)})
    sql = warehouse.sql_text("match_sounds/candidates_landmarks")
    params = {"min_votes": 20, "top_k": 10, "refs_per_sound": 2, "min_ratio": 2.0, "min_variant": 0, "chunk_refs": True}

    def run() -> None:  # the voting over every indexed pair (what the speed-corrected queries still do)
        con.register("q_marks", q_marks)
        con.register("lm_index", con.sql(warehouse.sql_text("match_sounds/landmark_index_all")))
        try:
            con.sql(sql, params=params).pl()
        finally:
            con.unregister("q_marks")
            con.unregister("lm_index")
    return run


TRIPLETS = 2250  # triplet postings per indexed sound (index fan 4: 6 per anchor, ~15 s of music)
PAIRS = MARKS  # its pair hashes, one row of match_audio_landmarks
POST_TRIPLETS, POST_TRUE = 5000, 600  # one query post's triplet keys (fan 6), of which this many are its sound's
POST_PAIRS, POST_TRUE_PAIRS = 1500, 600


def fill_triplets(con, n: int, rng: np.random.Generator) -> float:
    """The landmark candidate index at n sounds: random 34-bit triplet postings (ART maintained by the inserts,
    as match_sounds does) and each sound's pair hashes in one row of match_audio_landmarks."""
    t = time.perf_counter()
    step = 2000
    for start in range(0, n, step):
        m = min(step, n - start)
        ids = np.repeat(np.arange(start, start + m, dtype=np.int32), TRIPLETS)
        con.register("f", pl.DataFrame({"key": rng.integers(0, 1 << 34, ids.size, dtype=np.uint64), "audio_id": ids,
                                        "t": rng.integers(0, 1300, ids.size, dtype=np.int32)}))
        con.execute("INSERT INTO match_triplet_postings SELECT * FROM f ORDER BY key")
        con.unregister("f")
        hashes = rng.integers(0, 1 << 21, (m, PAIRS), dtype=np.uint32)
        frames = np.sort(rng.integers(0, 1300, (m, PAIRS), dtype=np.int32), axis=1)
        con.register("f", pl.DataFrame({"audio_id": np.arange(start, start + m, dtype=np.int32),
                                        "hashes": list(hashes), "frames": list(frames)},
                                       schema={"audio_id": pl.Int32, "hashes": pl.List(pl.UInt32),
                                               "frames": pl.List(pl.Int32)}))
        con.execute("INSERT INTO match_audio_landmarks SELECT * FROM f")
        con.unregister("f")
    con.execute("CHECKPOINT")
    return time.perf_counter() - t


def post_queries(con, n: int, rng: np.random.Generator) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    """N_QUERIES posts, each playing a different indexed sound: (q_triplets, q_marks) with POST_TRUE of the
    sound's triplet keys and POST_TRUE_PAIRS of its pair hashes at one offset, the rest random."""
    out = []
    for qid, audio_id in enumerate(rng.choice(n, N_QUERIES, replace=False)):
        keys = con.execute("SELECT key, t FROM match_triplet_postings WHERE audio_id = $a LIMIT $n",
                           {"a": int(audio_id), "n": POST_TRUE}).fetchall()
        ((hashes, frames),) = con.execute("SELECT hashes, frames FROM match_audio_landmarks WHERE audio_id = $a",
                                          {"a": int(audio_id)}).fetchall()
        off = int(rng.integers(0, 200))
        k = np.concatenate([np.array([x for x, _ in keys], np.uint64),
                            rng.integers(0, 1 << 34, POST_TRIPLETS - len(keys), dtype=np.uint64)])
        kt = np.concatenate([np.array([y for _, y in keys], np.int32) - off,
                             rng.integers(0, 1300, POST_TRIPLETS - len(keys), dtype=np.int32)])
        h = np.concatenate([np.array(hashes[:POST_TRUE_PAIRS], np.uint32),
                            rng.integers(0, 1 << 21, POST_PAIRS - POST_TRUE_PAIRS, dtype=np.uint32)])
        ht = np.concatenate([np.array(frames[:POST_TRUE_PAIRS], np.int32) - off,
                             rng.integers(0, 1300, POST_PAIRS - POST_TRUE_PAIRS, dtype=np.int32)])
        out.append((pl.DataFrame({"qid": np.full(k.size, qid, np.int32), "variant": np.zeros(k.size, np.int16),
                                  "key": k, "t": kt}),
                    pl.DataFrame({"qid": np.full(h.size, qid, np.int32), "variant": np.zeros(h.size, np.int16),
                                  "hash": h, "t": ht})))
    return out


SPEED_PRESETS = 27  # 9 factors x 3 modes
SPEED_TRIPLETS, SPEED_PAIRS = 5000, 3400  # per preset, first 12 s (measured on the demo world: ~2.6-7.3k, ~3.4k)


def speed_posts(posts: list[tuple[pl.DataFrame, pl.DataFrame]], rng: np.random.Generator) -> list[tuple]:
    """The same posts as unexplained queries at every speed preset: each preset's keys random, except that
    the posts' own true keys stand at preset 5 (the one that undoes their speed change)."""
    out = []
    for trip, marks in posts:
        qid = int(trip["qid"][0])
        tk = [trip.with_columns(pl.lit(5, pl.Int16).alias("variant")).head(POST_TRUE)]
        mk = [marks.with_columns(pl.lit(5, pl.Int16).alias("variant")).head(POST_TRUE_PAIRS)]
        for v in range(1, SPEED_PRESETS + 1):
            tk.append(pl.DataFrame({"qid": np.full(SPEED_TRIPLETS, qid, np.int32),
                                    "variant": np.full(SPEED_TRIPLETS, v, np.int16),
                                    "key": rng.integers(0, 1 << 34, SPEED_TRIPLETS, dtype=np.uint64),
                                    "t": rng.integers(0, 600, SPEED_TRIPLETS, dtype=np.int32)}))
            mk.append(pl.DataFrame({"qid": np.full(SPEED_PAIRS, qid, np.int32),
                                    "variant": np.full(SPEED_PAIRS, v, np.int16),
                                    "hash": rng.integers(0, 1 << 21, SPEED_PAIRS, dtype=np.uint32),
                                    "t": rng.integers(0, 600, SPEED_PAIRS, dtype=np.int32)}))
        out.append((pl.concat(tk), pl.concat(mk)))
    return out


def speed_runs(con, posts: list[tuple], with_all_pairs: bool) -> dict[str, object]:
    """The speed presets' voting for N_QUERIES unexplained posts as one chunk: through the triplet lookup, and
    (`with_all_pairs`) over every indexed pair as before. Fails unless every post finds its sound."""
    from pipelines.matching.vote import TRIPLET_TOL_SPEED
    q_triplets = pl.concat([t for t, _ in posts])
    q_marks = pl.concat([m for _, m in posts])

    def vote(lm_index) -> pl.DataFrame:
        return store.landmark_candidates(con, q_marks, lm_index, speed=True, chunk_refs=False)

    def through() -> pl.DataFrame:
        return vote(store.candidate_pairs(con, q_triplets, TRIPLET_TOL_SPEED))

    if through()["qid"].n_unique() != len(posts):
        raise SystemExit("a synthetic speed-changed post did not find its sound through the triplet lookup")
    runs = {"speed_lookup": through}
    if with_all_pairs:
        runs["speed_all"] = lambda: vote(con.sql(warehouse.sql_text("match_sounds/landmark_index_all")))
    return runs


def landmark_candidate_runs(con, posts: list[tuple[pl.DataFrame, pl.DataFrame]]) -> dict[str, object]:
    """The as-posted landmark path of match_sounds on synthetic posts: triplet lookup, the named audios' pairs
    (sql/match_sounds/ref_landmarks.sql), the pair-hash voting on them; one post at a time (the ART path) and the
    N_QUERIES posts as one chunk (scanned, as production chunks are). Fails unless every post finds its sound."""

    def run(chunk: list[tuple[pl.DataFrame, pl.DataFrame]]) -> pl.DataFrame:
        q_triplets = pl.concat([t for t, _ in chunk])
        q_marks = pl.concat([m for _, m in chunk])
        return store.landmark_candidates(con, q_marks, store.candidate_pairs(con, q_triplets), chunk_refs=False)

    found = run(posts)
    if found["qid"].n_unique() != len(posts):
        raise SystemExit("a synthetic post did not find its sound through the triplet lookup")
    return {"lm_post": lambda: [run([p]) for p in posts], "lm_chunk": lambda: run(posts)}


def time_day_add_and_reset(con, n: int, rng: np.random.Generator) -> tuple[float, float]:
    """One day's DAY_SOUNDS new sounds through the real add (match_index_add.sql, ART maintained) and the
    real rerun reset (match_reset_day.sql), each in its own transaction; the index is left as it was."""
    day = date(2030, 1, 1)
    fps = rng.integers(0, 1 << 32, (DAY_SOUNDS, ITEMS), dtype=np.uint32)
    shas = [f"bench-{n}-{i}" for i in range(DAY_SOUNDS)]
    fingerprints = pl.DataFrame(
        {"audio_sha256": shas, "duration_s": [30.0] * DAY_SOUNDS, "fingerprint": [list(f) for f in fps],
         "algorithm": ["bench"] * DAY_SOUNDS, "created_at": [datetime(2030, 1, 1)] * DAY_SOUNDS},
        schema={"audio_sha256": pl.String, "duration_s": pl.Float64, "fingerprint": pl.List(pl.UInt32),
                "algorithm": pl.String, "created_at": pl.Datetime("us")})
    con.register("bench_fps", fingerprints)
    con.execute("INSERT INTO audio_fingerprints BY NAME SELECT * FROM bench_fps")
    con.unregister("bench_fps")
    new_index_audio = pl.DataFrame(
        {"audio_id": np.arange(n + 1000, n + 1000 + DAY_SOUNDS, dtype=np.int32), "audio_sha256": shas,
         "sound_id": shas, "n_items": [ITEMS] * DAY_SOUNDS, "n_landmarks": [0] * DAY_SOUNDS,
         "added_day": [day] * DAY_SOUNDS},
        schema={"audio_id": pl.Int32, "audio_sha256": pl.String, "sound_id": pl.String, "n_items": pl.Int32,
                "n_landmarks": pl.Int32, "added_day": pl.Date})
    empty_marks = pl.DataFrame(schema={"hash": pl.UInt32, "audio_id": pl.Int32, "t": pl.Int32})
    t = time.perf_counter()
    with warehouse.transaction(con):
        warehouse.run_sql(con, "match_sounds/index_add",
                          frames={"new_index_audio": new_index_audio, "new_landmark_postings": empty_marks})
    add = time.perf_counter() - t
    t = time.perf_counter()
    with warehouse.transaction(con):
        warehouse.run_sql(con, "match_sounds/reset_day", {"day": day})
    reset = time.perf_counter() - t
    con.execute("DELETE FROM audio_fingerprints WHERE audio_sha256 LIKE 'bench-%'")
    return add, reset


def exhaustive_seconds(n: int, rng: np.random.Generator) -> float:
    """One query against n fingerprints at every offset, numpy (timed on min(n, 1000), scaled)."""
    m = min(n, 1000)
    refs = rng.integers(0, 1 << 32, (m, ITEMS), dtype=np.uint32)
    q = rng.integers(0, 1 << 32, QUERY_ITEMS, dtype=np.uint32)
    windows = np.lib.stride_tricks.sliding_window_view(refs, QUERY_ITEMS, axis=1)  # (m, offsets, items)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        np.bitwise_count(windows ^ q).sum(axis=2).min()
        best = min(best, time.perf_counter() - t)
    return best * n / m


def scale_main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench_matching.py --scale")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--landmark-sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--triplet-sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    args = ap.parse_args(argv)
    sizes = sorted(args.sizes)
    rng = np.random.default_rng(3)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        cons, fills, runs = {}, {}, {}
        for n in sizes:  # one warehouse file per size, all open, so the timings below can be interleaved
            cons[n] = warehouse.connect(Path(tmp) / f"scale-{n}.duckdb")
            fills[n] = fill(cons[n], n, n in args.landmark_sizes, rng)
            runs[n] = chromaprint_runs(cons[n], chunk_items(cons[n], n, rng))
            if n in args.landmark_sizes:
                runs[n]["landmarks"] = landmark_run(cons[n], rng)
            if n in args.triplet_sizes:
                fills[n] += fill_triplets(cons[n], n, rng)
                posts = post_queries(cons[n], n, rng)
                runs[n].update(landmark_candidate_runs(cons[n], posts))
                runs[n].update(speed_runs(cons[n], speed_posts(posts, rng), n in args.landmark_sizes))
        # best of REPS rounds, each round timing every size once: load from other processes on the shared
        # cores then hits all sizes alike instead of whichever size happened to run during a busy spell
        best: dict[tuple[int, str], float] = {}
        for _ in range(REPS):
            for n in sizes:
                for name, run in runs[n].items():
                    best[n, name] = min(best.get((n, name), float("inf")), _timed(run))
        print(f"chunks of {N_QUERIES} queries x {QUERY_ITEMS} items; ms per query, best of {REPS} interleaved "
              f"rounds; day = {DAY_SOUNDS} new sounds added to / reset from the index")
        print(f"{'sounds':>8}{'lookup':>9}{'scan':>9}{'landmarks':>11}{'exhaustive':>12}{'vs exh.':>9}"
              f"{'day add s':>11}{'reset s':>9}{'file MB':>9}{'fill s':>8}")
        for n in sizes:
            looked = best[n, "lookup"] / N_QUERIES
            lm = best[n, "landmarks"] / N_QUERIES if (n, "landmarks") in best else float("nan")
            add, reset = time_day_add_and_reset(cons[n], n, rng)
            ex = exhaustive_seconds(n, rng)
            cons[n].execute("CHECKPOINT")
            size_mb = (Path(tmp) / f"scale-{n}.duckdb").stat().st_size / 1e6
            print(f"{n:>8}{looked * 1000:>9.2f}{best[n, 'scan'] / N_QUERIES * 1000:>9.2f}{lm * 1000:>11.1f}"
                  f"{ex * 1000:>12.1f}{ex / looked:>8.0f}x{add:>11.2f}{reset:>9.2f}{size_mb:>9.0f}{fills[n]:>8.1f}")
        for a, b in itertools.pairwise(sizes):
            print(f"lookup growth {a} -> {b} sounds: {best[b, 'lookup'] / best[a, 'lookup']:.2f}x "
                  f"for {b / a:.0f}x the index (plain scan: {best[b, 'scan'] / best[a, 'scan']:.2f}x)")
        lm_sizes = [n for n in sizes if (n, "lm_post") in best]
        if lm_sizes:
            print(f"\nlandmarks as posted (triplet lookup, the named audios' pairs, pair-hash voting), ms per post: "
                  f"one post at a time / chunk of {N_QUERIES}; old = pair-hash voting over every indexed pair")
            print(f"{'sounds':>8}{'one post':>10}{'chunk':>8}{'old':>8}")
            for n in lm_sizes:
                old_ms = best[n, "landmarks"] / N_QUERIES * 1000 if (n, "landmarks") in best else float("nan")
                print(f"{n:>8}{best[n, 'lm_post'] / N_QUERIES * 1000:>10.2f}"
                      f"{best[n, 'lm_chunk'] / N_QUERIES * 1000:>8.2f}{old_ms:>8.1f}")
            print(f"speed presets for {N_QUERIES} unexplained posts ({SPEED_PRESETS} presets each), ms per post: "
                  "through the triplet lookup / over every indexed pair (before)")
            for n in lm_sizes:
                old_ms = best[n, "speed_all"] / N_QUERIES * 1000 if (n, "speed_all") in best else float("nan")
                print(f"{n:>8}{best[n, 'speed_lookup'] / N_QUERIES * 1000:>10.1f}{old_ms:>10.1f}")
            for a, b in itertools.pairwise(lm_sizes):
                one = best[b, "lm_post"] / best[a, "lm_post"]
                print(f"landmark query growth {a} -> {b} sounds: one post {one:.2f}x,"
                      f" chunk {best[b, 'lm_chunk'] / best[a, 'lm_chunk']:.2f}x for {b / a:.0f}x the index")
        for con in cons.values():
            con.close()


def main() -> None:
    if "--scale" in sys.argv[1:]:
        scale_main([a for a in sys.argv[1:] if a != "--scale"])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--sounds", type=int, default=60)
    ap.add_argument("--unrelated", type=int, default=60)
    ap.add_argument("--music", type=Path, default=ROOT / "data" / "cache" / "sources")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--keep-queries", action="store_true",
                    help="with --work: reuse the query files an earlier run of the same seed made there")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    files = sorted(p for p in args.music.rglob("*") if p.suffix.lower() in (".ogg", ".opus", ".mp3", ".flac", ".wav"))
    long_enough = []
    for p in files:
        out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(p)],
                             capture_output=True, text=True)
        try:
            if float(out.stdout.strip()) >= 55:
                long_enough.append(p)
        except ValueError:
            pass
    rng.shuffle(long_enough)
    tracks = long_enough[: args.sounds]
    unrelated = long_enough[args.sounds : args.sounds + args.unrelated]
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-matching-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{len(tracks)} sounds, {len(unrelated)} unrelated tracks; work dir {work}")
    specs = make_queries(tracks, unrelated, work, rng, random.Random(args.seed * 1000 + 1),
                         random.Random(args.seed * 1000 + 2), keep=args.keep_queries and args.work is not None)
    wh = work / "bench.duckdb"
    wh.unlink(missing_ok=True)
    info = load_world(specs, wh, rng)
    os.environ["TRENDTRACE_WAREHOUSE"] = str(wh)
    # the landing partitions of both days are the work dir, so match_sounds can decode a post again for the
    # peak-presence test as it does in production
    landing = work / "landing"
    landing.mkdir(exist_ok=True)
    for day in (DAY1, DAY2):
        if not (landing / f"dt={day}").exists():
            (landing / f"dt={day}").symlink_to(work.resolve(), target_is_directory=True)
    os.environ["TRENDTRACE_LANDING"] = str(landing)
    from pipelines.matching.profile import Profile
    from pipelines.stages import match_sounds

    timings, profile = {}, Profile()  # day 2's steps (self times), for the cost of each signal
    for day in (DAY1, DAY2):
        t = time.perf_counter()
        r = match_sounds.run(day, "bench", **({"profile": profile} if day == DAY2 else {}))
        timings[day] = time.perf_counter() - t
        print(f"match_sounds {day}: {r.status} in {timings[day]:.1f} s: {r.message}")
    con = warehouse.connect(wh, read_only=True)
    ps = con.sql("SELECT post_id, sound_id, role, speed, method, post_start_s, post_end_s FROM post_sounds").pl()
    con.close()
    origin_sound = {s["sound"]: f"snd-{s['post_id']}" for s in specs if s["kind"] == "origin"}
    by_post: dict[str, list[tuple]] = {}
    for row in ps.iter_rows():
        by_post.setdefault(row[0], []).append(row[1:])
    base = {} if args.no_baseline else baseline(specs)
    table: dict[str, list[tuple[bool, bool | None]]] = {}
    misses: list[tuple] = []  # queries the engine got wrong, for the diagnosis
    for s in specs:
        if s["kind"] == "origin":
            continue
        rows = by_post.get(s["post_id"], [])
        own = f"snd-{s['post_id']}"
        if s["kind"] == "unrelated":
            ok = any(r[0] != own for r in rows)  # a false match
        elif s["kind"].startswith("stitch"):
            ok = any(r[0] == origin_sound[s["sound"]] and r[1] == "contained" for r in rows)
        else:
            ok = any(r[0] == origin_sound[s["sound"]] and r[1] == "primary" for r in rows)
        preset = s["kind"] in ("speed_pitch", "speed_tempo")  # one row per preset factor; the others vary freely
        kind = s["kind"] + (f"_{s['factor']:g}" if preset else "")
        if s["kind"] == "pitch_shift":  # one row per shift: pitch_up_2st, pitch_down_1st, ...
            kind = f"pitch_{'up' if s['factor'] > 0 else 'down'}_{abs(s['factor'])}st"
        family = "stitch" if kind.startswith("stitch") else s["kind"]
        for k in {kind, family}:
            table.setdefault(k, []).append((ok, base.get(s["post_id"])))
        if ok == (s["kind"] == "unrelated"):  # a miss, or a false match
            misses.append((s["kind"], s.get("factor"), s["post_id"], rows))
    print(f"\n{'transform':<22}{'n':>4}{'engine':>9}{'baseline':>10}")
    for k in sorted(table):
        v = table[k]
        e = sum(a for a, _ in v) / len(v)
        b = "" if args.no_baseline else f"{sum(bool(x) for _, x in v) / len(v):>10.2f}"
        label = "(false matches)" if k.startswith("unrelated") else ""
        print(f"{k:<22}{len(v):>4}{e:>9.2f}{b} {label}")
    print("\nqueries the engine got wrong (kind, factor, post, its post_sounds rows):")
    for kind, factor, post_id, rows in sorted(misses, key=lambda m: (m[0], str(m[1]))):
        print(f"  {kind:<18}{'' if factor is None else factor!s:>8}  {post_id}  {rows}")
    n = info["n_files"]
    print(f"\nanalysis (decode + fingerprint + peaks): {n} files in {info['analyse_s']:.1f} s")
    print(f"matching: day 1 {timings[DAY1]:.1f} s ({len(tracks)} origins), day 2 {timings[DAY2]:.1f} s "
          f"({n - len(tracks)} queries; {timings[DAY2] / info['analyse_s']:.2f}x the analysis of all files)")
    print("day 2 steps (self seconds, calls): " + ", ".join(
        f"{k} {v:.1f} ({profile.calls[k]})" for k, v in sorted(profile.self_s.items(), key=lambda kv: -kv[1])))
    if args.work is None:  # a temporary work dir (~140 MB of queries and a warehouse) goes; --work DIR stays
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
