"""Build a sample world: sources -> diffusion -> posts -> observation -> media -> exports -> truth."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from rich.console import Console

from . import catalog as catalog_mod
from .config import default_cache_dir, get_scale
from .diffusion import DUET, RELATIONS, STITCH, make_creators, simulate
from .exports import export_rows, write_exports
from .observe import Exposure, observe
from .posts import Posts, assemble, tiktok_ids
from .recipes import recipes, transforms
from .render import cached_path, recipe_hash, render_all
from .stages import STAGE_THRESHOLDS
from .text import caption_frame, trend_tags, usernames
from .truth import build_truth

MEDIA_CPU_S_PER_FILE = 0.22  # measured: 376 CPU s for the demo world's 1,789 files, 96 s for quick's 443

CAPTION_DROP_SHARE = 1 / 3  # duets and stitches whose platform caption the user removed
REGIONS = ("US", "GB", "DE", "FR", "BR", "ES", "IT", "CA", "AU", "MX", "NL", "IN")


def _tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unavailable"


def _metadata(P: Posts, E: Exposure, cat, names: list[str], followers: np.ndarray, seed: int,
              no_media: bool) -> pl.DataFrame:
    """Everything the exports show about each post, one row per post (time order), built column-wise."""
    rng = np.random.default_rng([seed, 51])
    n = P.n
    cr = P.creator
    name_arr = np.array(names, dtype=object)
    pid = P.post_id.astype(str)
    rel_names = np.array(RELATIONS, dtype=object)[P.relation]
    direct = (P.parent >= 0) & np.isin(P.relation, [DUET, STITCH])
    # users edit the platform's "#duet/#stitch with @user" away: about a third of duets and stitches carry no
    # such caption (own stream, so no other draw of the world moves; truth: caption_exported)
    caption_kept = direct & (np.random.default_rng([seed, 52]).random(n) >= CAPTION_DROP_SHARE)
    parent_user = np.where(caption_kept, name_arr[cr[np.maximum(P.parent, 0)]], None)
    tags = np.array([*trend_tags(len(cat.sounds), rng), None], dtype=object)
    trend = tags[P.sound]
    cap = caption_frame(rng, rel_names.astype(str), pl.Series(parent_user.tolist(), dtype=pl.String),
                        pl.Series(trend.tolist(), dtype=pl.String))
    owner = P.music
    official = P.music_kind[owner] == "official"
    snd_title = np.array([s.title for s in cat.sounds] + [""], dtype=object)[P.sound]
    snd_artist = np.array([s.artist for s in cat.sounds] + [""], dtype=object)[P.sound]
    owner_name = name_arr[cr[owner]]
    nick = np.array([u.replace(".", " ").replace("_", " ").title() for u in names], dtype=object)
    music_title = np.where(official, snd_title, "original sound - " + owner_name.astype(str))
    music_author = np.where(official, snd_artist, nick[cr[owner]])
    duet_real = (P.relation == DUET) & (rng.random(n) < 0.5)
    duet_from = np.where(duet_real, pid[np.maximum(P.parent, 0)], "0")
    f = followers[cr].astype(np.float64)
    plays = np.floor(f * rng.lognormal(-0.7, 1.3, n) + rng.lognormal(5.0, 1.5, n)).astype(np.int64)
    likes = np.floor(plays * rng.beta(2, 18, n)).astype(np.int64)
    shares = np.floor(likes * rng.beta(1, 30, n)).astype(np.int64)
    comments = np.floor(likes * rng.beta(1, 20, n)).astype(np.int64)
    n_cr = followers.size
    author_ids = tiktok_ids(np.full(n_cr, 1_500_000_000) + rng.integers(0, 200_000_000, n_cr), rng).astype(str)
    verified = (followers > 1_000_000) & (rng.random(n_cr) < 0.7)
    ext = np.array(P.ext, dtype=object)
    media = None if no_media else ("media/" + pid.astype(object) + "." + ext).tolist()
    base = pl.DataFrame({
        "idx": np.arange(n), "file": E.file, "post_id": pid, "created_at": P.created_at,
        "author": name_arr[cr].tolist(), "author_id": author_ids[cr], "nickname": nick[cr].tolist(),
        "verified": verified[cr], "followers": followers[cr], "following": (followers[cr] % 997) + 12,
        "music_id": P.music_id[owner].astype(str), "music_title": music_title.tolist(),
        "music_author": music_author.tolist(), "music_original": ~official,
        "music_duration": np.maximum(np.round(P.music_dur[owner]), 1).astype(np.int64),
        "duet_from_id": duet_from, "plays": plays, "likes": likes, "shares": shares, "comments": comments,
        "video_duration": np.maximum(np.round(P.duration), 1).astype(np.int64),
        "region_code": np.array(REGIONS)[rng.integers(0, len(REGIONS), n)], "media_path": media,
        "duet_real": duet_real, "caption_kept": caption_kept,
    }, schema_overrides={"media_path": pl.String})
    return pl.concat([base, cap], how="horizontal")


def _place_media(P: Posts, E: Exposure, tasks: list, cache_dir: Path, landing: Path, start: date) -> list:
    """Hard-link (or copy) cached renders into each partition's media folder; corrupt the chosen few."""
    files: list[str | None] = [None] * P.n
    for i in np.flatnonzero(E.exported).tolist():
        task = tasks[i]
        src = cached_path(cache_dir, task)
        rel = f"landing/dt={start + timedelta(days=int(E.partition[i]))}/media/{P.post_id[i]}.{task['enc']['ext']}"
        dst = landing.parent / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if E.bad_kind[i] == "corrupt_media":  # a download cut short: the MP4 index (moov) never arrives
            data = src.read_bytes()
            dst.write_bytes(data[: max(64, int(len(data) * 0.4))])
        else:
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
        files[i] = rel
    return files


def build_world(out: Path, days: int = 14, seed: int = 7, scale: str = "demo", no_media: bool = False,
                start: date = date(2024, 3, 1), cache_dir: Path | None = None, workers: int | None = None,
                progress: bool = True, posts: int | None = None) -> dict:
    """Build the landing zone (`<out>/landing/dt=*/`) and the hidden truth (`<out>/truth/`); returns counts.

    Deterministic for (seed, scale, days, start, posts): same exports and truth; media are content-addressed
    by their recipe in `<cache>/renders`, so a rebuild only links files. `posts` overrides the scale's size.
    """
    t_begin = time.perf_counter()
    progress = progress and os.environ.get("TRENDTRACE_PROGRESS", "1") != "0"
    sc = get_scale(scale, posts)
    if sc.name == "xl" and not no_media:
        raise ValueError("scale 'xl' is metadata-only: pass no_media=True")
    if days < 1:
        raise ValueError("days must be >= 1")
    out = Path(out)
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    landing, truth_dir = out / "landing", out / "truth"
    for d in (landing, truth_dir):
        if d.exists():
            shutil.rmtree(d)
    console = Console(stderr=True, quiet=not progress)
    timings: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        timings[name] = round(time.perf_counter() - t0, 2)
        return time.perf_counter()

    t = time.perf_counter()
    console.log(f"sample world: scale={sc.name} days={days} seed={seed} media={'no' if no_media else 'yes'}")
    cat = catalog_mod.build_catalog(sc, seed, cache_dir, no_media, workers, progress)
    t = lap("sources", t)
    timings.update({f"sources_{k}": v for k, v in cat.timings.items()})
    if cat.timings:
        console.log("sources ready in {} s: Debian packs {packs} s, music21 sounds {music21_sounds} s, "
                    "duet partners {music21_partners} s".format(timings["sources"], **cat.timings))

    crng = np.random.default_rng([seed, 1])
    creators = make_creators(sc.n_creators, crng)
    names = usernames(sc.n_creators, crng)
    is_speech = np.array([s.kind == "speech" for s in cat.sounds])
    diff = simulate(sc, days, seed, creators, is_speech)
    P = assemble(diff, cat, days, start, seed, sc.n_creators, 0 if no_media else sc.bad_inputs_each, sc.edit_share)
    E = observe(P, days, start, seed, sc.bad_inputs_each, no_media)
    chains = transforms(P)
    meta = _metadata(P, E, cat, names, creators.followers, seed, no_media)
    t = lap("diffusion", t)

    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    media_files: list = [None] * P.n
    hashes: list = [None] * P.n
    n_rendered = 0
    if not no_media:
        tasks = recipes(P, cat, seed, E.exported)
        todo = [x for x in tasks if x is not None]
        missing = len({recipe_hash(x) for x in todo if not cached_path(cache_dir, x).exists()})
        n_cores = workers or os.cpu_count() or 1
        console.log(f"media: {len(todo)} files, {missing} to render (speech, mixing, ffmpeg encoding) on {n_cores} "
                    f"processes, ~{max(1, round(missing * MEDIA_CPU_S_PER_FILE / n_cores))} s on an idle machine")
        n_rendered = render_all(todo, cache_dir, workers, progress, "rendering media")
        media_files = _place_media(P, E, tasks, cache_dir, landing, start)
        hashes = [recipe_hash(x) if x is not None else None for x in tasks]
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    timings["media_cpu_s"] = round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1)
    t = lap("media", t)

    landing.mkdir(parents=True, exist_ok=True)
    malformed = {str(P.post_id[i]) for i, k in enumerate(E.bad_kind) if k == "malformed_json"}
    rows = export_rows(meta, E)
    fmt_counts = write_exports(rows, E, landing, start, malformed, seed)
    t = lap("exports", t)

    file_is_web = np.array([f.fmt == "web" for f in E.files] + [False])[E.file]
    duet_exported = meta["duet_real"].to_numpy() & file_is_web
    truth = build_truth(P, E, cat, start, days, meta["author"].to_list(), chains, media_files, hashes,
                        duet_exported, meta["music_title"].to_list(), meta["caption_kept"].to_numpy())
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name, df in truth.items():
        df.write_parquet(truth_dir / f"{name}.parquet")
    t = lap("truth", t)

    tp = truth["posts"]
    summary = {
        "posts_generated": int(P.n),
        "posts_exported": int(E.exported.sum()),
        "posts_observed": int(E.observed.sum()),
        "posts_scorable": int(tp["scorable"].sum()),
        "export_records": fmt_counts,
        "export_files": len(E.files),
        "partitions": days,
        "sounds": len(cat.sounds),
        "creators_posting": int(np.unique(P.creator).size),
        "true_relations": {r: int(v) for r, v in tp.group_by("true_relation").len().iter_rows() if r},
        "convention_relations": {r: int(v) for r, v in tp.filter(pl.col("scorable")).group_by("relation").len()
                                 .iter_rows() if r},
        "bad_inputs": {k: int(v) for k, v in tp.group_by("bad_input_kind").len().iter_rows() if k},
        "peak_stages": {k: int(v) for k, v in truth["sounds"].group_by("peak_stage").len().iter_rows() if k},
        "media_files": int(sum(m is not None for m in media_files)),
        "max_generator_depth": int(P.depth.max()),
    }
    world = {
        "seed": seed, "scale": sc.name, "days": days, "start": str(start), "no_media": no_media,
        "target_posts": sc.target_posts, "counts": summary, "stage_thresholds": STAGE_THRESHOLDS,
        "sources": {
            **cat.versions,
            "espeak-ng": _tool_version(["espeak-ng", "--version"]) if not no_media else None,
            "fluidsynth": _tool_version(["fluidsynth", "--version"]) if not no_media else None,
            "ffmpeg": _tool_version(["ffmpeg", "-version"]) if not no_media else None,
        },
    }
    timings["total"] = round(time.perf_counter() - t_begin, 2)
    (truth_dir / "world.json").write_text(json.dumps(world, indent=1, sort_keys=True) + "\n")
    (out / "build_timings.json").write_text(json.dumps(timings, indent=1) + "\n")  # varies: kept out of truth
    console.log(f"sample world built in {timings['total']} s: {summary['posts_exported']} posts exported, "
                f"{summary['media_files']} media files -> {out}")
    return {**summary, "media_rendered_now": n_rendered, "timings": timings}
