"""What one day of match_sounds costs per post, step by step, beside the cost of decoding the same files (issue 17).

    uv run python scripts/bench_match_day.py [--posts 1000] [--sounds 1000] [--work DIR] [--before CODE_DIR]

A day of N new posts is matched against an index of S sounds by the real match_sounds stage on a real DuckDB file:

- index (day 1): the real music the sample worlds are made of (the music21 renders and the Debian tracks of the
  render cache, $TRENDTRACE_CACHE), matched by the real stage as day 1, then padded to S indexed sounds with
  synthetic ones (random Chromaprint items and spectral peaks at the real files' density, so lookups and scans
  see an index of S sounds; they match nothing);
- day 2: the sample worlds' rendered posts (the render cache: reuses, clips, stitches, duets and voice-overs,
  speed variants, speech, new sounds, in every container) and, to reach N, variants of them made with ffmpeg
  (re-encode, 5-10 s clip, resampled x0.8/x1.25, tempo-only x0.9/x1.2, a 0 dB espeak-ng voice-over), and
  ~8 % re-posts of a file already posted that day (the same file, as platforms serve it).

The day's match is run in a fresh process per code tree (this one, and with --before DIR a checkout of another
commit, e.g. `git archive <commit> | tar -x -C DIR`), alternating ROUNDS times on copies of the same prepared
warehouse, so the before/after ratio is measured under the same load. Each run prints ms per post for each
step (pipelines/matching/profile.py: self times, so they add up to the match), decode ms per post measured in
the same process on the same files (pipelines.audio.decode.decode_pcm, as the fingerprint stage decodes), the
peak RSS, and the load average. Preparation is cached in --work.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
DAY1, DAY2 = date(2024, 6, 1), date(2024, 6, 2)
AAC = ["-c:a", "aac", "-b:a", "64k"]
WORDS = [
    "okay", "so", "everyone", "has", "been", "asking", "me", "about", "this", "one", "here", "is", "my", "honest",
    "reaction", "to", "the", "whole", "thing", "wait", "for", "it", "this", "part", "is", "my", "favourite", "and", "I",
    "cannot", "stop", "listening", "to", "it", "every", "morning", "let", "me", "tell", "you", "what", "happened",
    "yesterday", "at", "work", "because", "you", "will", "not", "believe", "it",
]
# the steps of the profile in pipeline order, with what each is (self times: a step's inner steps are apart)
STEPS = [
    ("reset", "reset the day, merge state without it"),
    ("day_audio", "the day's audio, fingerprints and peaks read"),
    ("cp_lookup", "Chromaprint candidate lookup (offset voting, DuckDB)"),
    ("cp_verify", "Chromaprint BER verification"),
    ("lm_keys", "landmark pair hashes and triplet keys, as posted"),
    ("lm_pairs", "landmark candidates: triplet lookup, the named audios' pairs (DuckDB)"),
    ("lm_lookup", "landmark candidates: stitch heads, pair-hash voting (DuckDB)"),
    ("lm_vote", "landmark verification: aligned stretches, stitch heads"),
    ("presence_decode", "presence test: decoding the post again (with its dense maxima once parallel)"),
    ("presence_maxima", "presence test: dense maxima of the post"),
    ("presence_test", "presence test: reference peaks, windows, growing"),
    ("speed_keys", "speed presets: every variant keyed (analyse.SPEED_VARIANTS)"),
    ("speed_pairs", "speed presets: triplet lookup, the named audios' pairs (DuckDB)"),
    ("speed_lookup", "speed presets: pair-hash voting (DuckDB)"),
    ("speed_vote", "speed presets: verification"),
    ("speed_est_lookup", "measured speed factors: cell voting against the named audios (DuckDB)"),
    ("speed_est_verify", "measured speed factors: refinement, verification"),
    ("resolve", "resolution rules"),
    ("index_add", "new sounds and speed copies indexed"),
    ("merge", "merge pass: picks and rules"),
    ("merge/cp_lookup", "merge pass: Chromaprint lookup"),
    ("merge/cp_verify", "merge pass: Chromaprint verification"),
    ("merge/lm_keys", "merge pass: landmark keys"),
    ("merge/lm_pairs", "merge pass: landmark triplet lookup"),
    ("merge/lm_lookup", "merge pass: landmark lookup"),
    ("merge/lm_vote", "merge pass: landmark verification"),
    ("merge/speed_keys", "merge pass: speed presets keyed"),
    ("merge/speed_pairs", "merge pass: speed presets triplet lookup"),
    ("merge/speed_lookup", "merge pass: speed presets lookup"),
    ("merge/speed_vote", "merge pass: speed presets verification"),
    ("writes", "rows written, sounds refreshed"),
]


def ff(args: list[str], dst: Path) -> Path | None:
    if dst.exists():
        return dst
    tmp = dst.with_name("tmp-" + dst.name)
    r = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args, str(tmp)], capture_output=True)
    if r.returncode != 0 or not tmp.exists():
        return None
    tmp.rename(dst)
    return dst


def speech(work: Path, name: str, rng: random.Random) -> Path:
    wav = work / f"{name}.wav"
    if not wav.exists():
        text = " ".join(rng.choice(WORDS) for _ in range(28))
        voice = rng.choice(["en", "en-us", "en+f3", "en-gb", "en+m3", "en-us+f2"])
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rng.randint(140, 180)), "-w", str(wav), text], check=True)
    return wav


def variant_job(src: Path, kind: str, k: int, media: Path, rng: random.Random) -> tuple[list[str], Path]:
    dst = media / f"v{k:05d}_{kind}.m4a"
    i = ["-i", str(src)]
    if kind == "reencode":
        return [*i, "-vn", *AAC], dst
    if kind == "clip":
        return ["-ss", f"{rng.uniform(0, 6):.2f}", "-t", f"{rng.uniform(5, 10):.2f}", *i, "-vn", *AAC], dst
    if kind == "pitch":
        f = rng.choice([0.8, 1.25])
        return [*i, "-vn", "-af", f"aresample=44100,asetrate={44100 * f:.0f},aresample=44100", *AAC], dst
    if kind == "tempo":
        return [*i, "-vn", "-af", f"atempo={rng.choice([0.9, 1.2])}", *AAC], dst
    wav = speech(media.parent / "speech", f"s{k:05d}", rng)
    return [*i, "-i", str(wav), "-filter_complex",
            ("[0:a]aresample=44100,aformat=channel_layouts=mono,loudnorm=I=-20:LRA=20:TP=-1[a];"
            "[1:a]aresample=44100,aformat=channel_layouts=mono,loudnorm=I=-20:LRA=20:TP=-1[b];"
            "[a][b]amix=inputs=2:duration=first:normalize=0"), *AAC], dst


def pad_index(con, pad: int, seed: int, peaks_per_s: float, items_per_s: float, day: date) -> None:
    """Add `pad` synthetic sounds to the index, indexed on `day`: random spectral peaks and Chromaprint items at
    the given densities, so that lookups and scans see an index of that size. They match nothing real."""
    from pipelines import warehouse
    from pipelines.matching import store
    from pipelines.matching.types import NewIndexAudio

    g = np.random.default_rng(seed)
    next_id = store.next_audio_id(con)
    for start in range(0, pad, 500):  # one transaction per batch: 90k sounds in one ran out of 24 GB
        audios, sounds, fps = [], [], []
        for j in range(start, min(pad, start + 500)):
            dur = float(g.uniform(20, 60))
            n_peaks = int(peaks_per_s * dur)
            frames = np.sort(g.integers(0, int(dur / 0.0232), n_peaks)).astype(np.int32)
            bins = g.integers(8, 256, n_peaks).astype(np.int32)
            sha = hashlib.sha256(f"synthetic-{seed}-{j}".encode()).hexdigest()
            n_items = int(items_per_s * dur)
            audios.append(NewIndexAudio(next_id, sha, f"snd-synthetic{j:06d}", n_items, frames, bins))
            sounds.append({"sound_id": f"snd-synthetic{j:06d}", "origin_post_id": f"synthetic{j:06d}",
                           "first_seen_at": datetime.combine(day, datetime.min.time()), "duration_s": dur,
                           "n_posts": 0, "created_post_id": f"synthetic{j:06d}", "audio_sha256": sha,
                           "created_day": day})
            # synthetic sounds need fingerprints for Chromaprint verification, should a random key vote for one
            fps.append((sha, g.integers(0, 2**32, n_items, dtype=np.uint64).astype(np.uint32)))
            next_id += 1
        with warehouse.transaction(con):
            store.add_to_index(con, audios, day)
            con.register("bench_sounds", pl.DataFrame(sounds))
            con.execute("INSERT INTO sounds BY NAME SELECT * FROM bench_sounds")
            con.unregister("bench_sounds")
            con.register("bench_fps", pl.DataFrame(
                {"audio_sha256": [sha for sha, _ in fps], "fingerprint": [fp for _, fp in fps]},
                schema={"audio_sha256": pl.String, "fingerprint": pl.List(pl.UInt32)}))
            con.execute("INSERT INTO audio_fingerprints BY NAME SELECT audio_sha256, fingerprint, "
                        "len(fingerprint) / 8.07 AS duration_s, 'synthetic' AS algorithm, "
                        "now() AS created_at FROM bench_fps")
            con.unregister("bench_fps")
        if (start + 500) % 10000 == 0:
            print(f"  padding: {min(start + 500, pad)} of {pad} synthetic sounds", flush=True)


def prepare(work: Path, n_posts: int, n_sounds: int, seed: int) -> Path:
    """The prepared warehouse (day 1 matched and padded, day 2's posts and fingerprints loaded), cached."""
    sys.path.insert(0, str(ROOT))
    from pipelines import warehouse
    from pipelines.audio.analysis import analyse_files
    from pipelines.stages.fingerprint_frames import analyses_frames, peaks_frame

    prep = work / f"prep-v2-{n_posts}-{n_sounds}-{seed}.duckdb"
    if prep.exists():
        return prep
    rng = random.Random(seed)
    cache = Path(os.environ.get("TRENDTRACE_CACHE", ROOT / "data" / "cache"))
    media = work / "media"
    (work / "speech").mkdir(parents=True, exist_ok=True)
    media.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[list[str], Path]] = []
    index_files = []
    for src in sorted((cache / "music21").glob("*.ogg")):
        index_files.append(media / f"i_{src.stem}.ogg")
        if not index_files[-1].exists():
            os.symlink(src, index_files[-1])
    for k, src in enumerate(sorted(p for p in (cache / "sources").rglob("*") if p.suffix in (".ogg", ".mp3", ".flac"))):
        dst = media / f"i_src{k:03d}.m4a"
        index_files.append(dst)
        jobs.append((["-ss", "20", "-t", "40", "-i", str(src), *AAC], dst))
    renders = sorted(p for p in (cache / "renders").rglob("*") if p.is_file())
    day_files: list[Path] = []
    for src in renders:
        day_files.append(media / f"r_{src.name}")
        if not day_files[-1].exists():
            os.symlink(src, day_files[-1])
    kinds = ["reencode", "clip", "clip", "pitch", "tempo", "voice"]
    n_distinct = int(n_posts * 0.92)
    k = 0
    while len(day_files) < n_distinct:
        args, dst = variant_job(rng.choice(renders), rng.choice(kinds), k, media, rng)
        jobs.append((args, dst))
        day_files.append(dst)
        k += 1
    day_files = day_files[:n_distinct]
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        made = list(pool.map(lambda j: ff(*j), jobs))
    print(f"prepare: {len(jobs)} files encoded in {time.perf_counter() - t:.0f} s "
          f"({sum(m is None for m in made)} failed)")
    index_files = [p for p in index_files if p.exists()]
    day_files = [p for p in day_files if p.exists()]
    t = time.perf_counter()
    analyses = analyse_files(index_files + day_files, progress=False)
    print(f"prepare: {len(analyses)} files analysed in {time.perf_counter() - t:.0f} s")
    wh = work / "building.duckdb"
    wh.unlink(missing_ok=True)
    con = warehouse.connect(wh)
    # identical files (the render cache holds a few renders twice under two names) are fingerprinted once, as the
    # fingerprint stage does: a second row per audio would make the day's audio join count its posts twice
    first = list({a.audio_sha256: a for a in reversed(analyses)}.values())[::-1]
    checks, fps = analyses_frames(first)
    for name, frame in {"new_media_checks": checks, "new_fingerprints": fps, "new_peaks": peaks_frame(first)}.items():
        con.register(name, frame)
    warehouse.run_sql(con, "fingerprint/insert_media_checks")
    warehouse.run_sql(con, "fingerprint/insert_peaks")
    ok = [(p, a) for p, a in zip(index_files + day_files, analyses, strict=False) if a.decoded and a.audio_sha256]
    index_ok = [(p, a) for p, a in ok if p.name.startswith("i_")]
    day_ok = [(p, a) for p, a in ok if not p.name.startswith("i_")]
    rng.shuffle(day_ok)
    posts = [(p, a, DAY1) for p, a in index_ok] + [(p, a, DAY2) for p, a in day_ok]
    reposts = n_posts - len(day_ok)
    posts += [(p, a, DAY2) for p, a in rng.sample(day_ok, min(max(reposts, 0), len(day_ok)))]
    rows = []
    for k, (p, a, day) in enumerate(posts):
        at = datetime.combine(day, datetime.min.time()) + timedelta(hours=6, seconds=20 * k)
        rows.append({"post_id": f"bench{k:06d}", "author": f"a{k % 97}", "created_at": at, "created_day": day,
                     "audio_sha256": a.audio_sha256, "source_format": "csv_export", "source_file": "bench.csv",
                     "source_record": k, "ingest_day": day, "media_path": p.name})
    con.register("bench_posts", pl.DataFrame(rows))
    con.execute("INSERT INTO validated_posts BY NAME SELECT * FROM bench_posts")
    con.close()
    landing(work)
    from pipelines.stages import match_sounds

    os.environ["TRENDTRACE_WAREHOUSE"] = str(wh)
    t = time.perf_counter()
    r = match_sounds.run(DAY1, "bench")
    print(f"prepare: day 1 matched in {time.perf_counter() - t:.0f} s: {r.message}")
    con = warehouse.connect(wh)
    n_real = int(con.execute("SELECT count(*) FROM match_audio").fetchone()[0])
    density = (sum(a.peak_frames.size for _, a in index_ok) / max(1.0, sum(a.duration_s for _, a in index_ok)),
               sum(a.fingerprint.size for _, a in index_ok) / max(1.0, sum(a.duration_s for _, a in index_ok)))
    pad = max(0, n_sounds - n_real)
    pad_index(con, pad, seed, density[0], density[1], date(2024, 5, 1))
    con.execute("CHECKPOINT")
    n_total = int(con.execute("SELECT count(*) FROM match_audio").fetchone()[0])
    con.close()
    print(f"prepare: index {n_real} real + {pad} synthetic = {n_total} audios; day 2 {len(day_ok)} distinct files, "
          f"{n_posts} posts")
    shutil.move(wh, prep)
    return prep


def landing(work: Path) -> Path:
    root = work / "landing"
    root.mkdir(exist_ok=True)
    for day in (DAY1, DAY2):
        part = root / f"dt={day}"
        if not part.exists():
            part.symlink_to((work / "media").resolve(), target_is_directory=True)
    os.environ["TRENDTRACE_LANDING"] = str(root)
    return root


def run_day(wh: Path) -> dict:
    """In this process: match day 2 of `wh` with the code on sys.path, profiled if the code can, then decode the
    day's files once each as the fingerprint stage does."""
    from pipelines import warehouse
    from pipelines.audio.decode import decode_pcm
    from pipelines.stages import match_sounds

    os.environ["TRENDTRACE_WAREHOUSE"] = str(wh)
    profile = None
    kwargs = {}
    if "profile" in inspect.signature(match_sounds.run).parameters:
        from pipelines.matching.profile import Profile
        profile = Profile()
        kwargs["profile"] = profile
    t = time.perf_counter()
    r = match_sounds.run(DAY2, "bench", **kwargs)
    match_s = time.perf_counter() - t
    rss_match = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    con = warehouse.connect(wh, read_only=True)
    paths = [p for (p,) in con.execute("SELECT DISTINCT media_path FROM posts WHERE ingest_day = ?", [DAY2]).fetchall()]
    n_posts = int(con.execute("SELECT count(*) FROM posts WHERE ingest_day = ?", [DAY2]).fetchone()[0])
    digest = con.execute("SELECT count(*), sum(hash(post_id || sound_id || role || method || round(post_start_s, 3) || "
                         "round(post_end_s, 3))) FROM post_sounds WHERE ingest_day = ?", [DAY2]).fetchone()
    con.close()
    media = Path(os.environ["TRENDTRACE_LANDING"]) / f"dt={DAY2}"
    t = time.perf_counter()
    for p in paths:
        decode_pcm(media / p)
    decode_s = time.perf_counter() - t
    return {"posts": n_posts, "files": len(paths), "match_s": match_s, "decode_s": decode_s, "message": r.message,
            "steps": profile.self_s if profile else {}, "calls": profile.calls if profile else {},
            "rss_mb": rss_match, "load": os.getloadavg(), "post_sounds": [int(digest[0]), str(digest[1])]}


def child(code: Path, wh: Path, work: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code), TRENDTRACE_LANDING=str(work / "landing"))
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--run-day", str(wh), "--code", str(code)],
                         env=env, capture_output=True, text=True, cwd=code)
    if out.returncode != 0:
        raise SystemExit(f"run in {code} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(label: str, runs: list[dict]) -> None:
    best = min(runs, key=lambda r: r["match_s"])
    n = best["posts"]
    times = ", ".join(f"{r['match_s']:.1f}" for r in runs)
    print(f"\n== {label}: {n} posts ({best['files']} distinct files); best of {len(runs)} runs "
          f"(match {times} s); load avg at the best run "
          f"{best['load'][0]:.1f}; peak RSS {best['rss_mb']:.0f} MB")
    print(f"   {best['message']}")
    decode = best["decode_s"] * 1000 / n
    print(f"   decode (same process, same files, once each): {decode:.1f} ms per post")
    if best["steps"]:
        print(f"   {'step':22s} {'ms/post':>8s} {'x decode':>8s} {'calls':>6s}  what")
        names = [s for s, _ in STEPS] + sorted(set(best["steps"]) - {s for s, _ in STEPS})
        what = dict(STEPS)
        for s in names:
            if s in best["steps"]:
                ms = best["steps"][s] * 1000 / n
                print(f"   {s:22s} {ms:8.2f} {ms / decode:8.2f} {best['calls'][s]:6d}  {what.get(s, '')}")
        total = sum(best["steps"].values()) * 1000 / n
        print(f"   {'profiled total':22s} {total:8.2f} {total / decode:8.2f}")
    print(f"   {'match_sounds.run':22s} {best['match_s'] * 1000 / n:8.2f} {best['match_s'] * 1000 / n / decode:8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--sounds", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bench-match-day"))
    ap.add_argument("--before", type=Path, default=None, help="another code tree to run the same day with")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--run-day", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--code", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_day:
        sys.path.insert(0, str(args.code))
        print(json.dumps(run_day(args.run_day)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    prep = prepare(args.work, args.posts, args.sounds, args.seed)
    landing(args.work)
    trees = [("after (this tree)", ROOT)] + ([("before", args.before.resolve())] if args.before else [])
    runs: dict[str, list[dict]] = {label: [] for label, _ in trees}
    for _ in range(args.rounds):
        for label, code in trees:
            wh = args.work / "run.duckdb"
            shutil.copy(prep, wh)
            runs[label].append(child(code, wh, args.work))
            wh.unlink()
    for label, _ in trees:
        report(label, runs[label])
    if args.before:
        a, b = (min(r["match_s"] for r in runs[label]) for label, _ in trees)
        same = {json.dumps(r["post_sounds"]) for label, _ in trees for r in runs[label]}
        print(f"\nbefore / after: {b / a:.2f}x (best runs, same process layout, interleaved); "
              f"post_sounds of the day {'identical' if len(same) == 1 else 'DIFFER'} across runs")


if __name__ == "__main__":
    main()
