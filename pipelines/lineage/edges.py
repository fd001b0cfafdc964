"""lineage_edges: the evidence for each post's parent, weighed in SQL (sql/link_lineage/edges_link.sql).

Order of strength (docs/lineage.md): explicit duetFromId > caption "#duet/#stitch with @user" (the audio
picks which of that user's earlier posts) > the audio alone (`audio_stitch`, `audio_duet`: the child's own
peaks compared with a candidate parent post's, pipelines/lineage/audio_evidence.py) > platform music id >
canonical sound from post_sounds; audio alignment grades each candidate and a contradiction lowers its
confidence and is recorded, never hidden. Audio-only claims are off by default (settings.lineage_settings:
`lineage.audio_only`, TRENDTRACE_LINEAGE_AUDIO_ONLY=1): their measured precision is too low to ship.
Claims that point to the post itself, to the future, to a never-observed post or round a cycle are rejected
into lineage_rejections with the reason.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from pipelines import settings, warehouse
from pipelines.audio.decode import DecodeError, decode_pcm
from pipelines.lineage import audio_evidence
from pipelines.matching.presence import dense_maxima
from pipelines.media_paths import resolve_media

# A duet's audio is its parent's audio; a stitch opens with its parent's opening: both put the same sound at
# the same place in both posts. Chromaprint items are ~0.12 s; matches are located to within about a second.
ALIGN_TOLERANCE_S = 2.0
MAX_AUDIO_CANDIDATES = 16  # per child and source (sound, caption): sql/link_lineage/audio_candidates.sql
OPENING_TOL_S = 1.0  # a sound whose span in the child starts this early is one the child opens with
AUDIO_TIE_SCORE = 0.03  # audio fits closer than this tie: ordered by opening similarity, then time
MAX_EQUIVALENT_LISTED = 20  # evidence.audio_equivalent_parents lists at most this many (the count is whole)
AUDIO_FIT_SCHEMA = {"child": pl.String, "parent": pl.String, "fit": pl.String, "consistent": pl.String,
                    "score": pl.Float64, "audio": pl.String}
TEMP_TABLES = (
    "ll_audio_fit", "ll_kids", "ll_explicit", "ll_music_first", "ll_sound_first", "ll_pairs", "ll_audio", "ll_graded",
    "ll_chosen", "ll_rejected",
)


def child_maxima(landing: Path, row: dict, extensions: tuple[str, ...]) -> np.ndarray | None:
    """The child's dense spectral maxima from its media file, decoded again as match_sounds' presence test does
    (None when the file is no longer in its landing partition or does not decode: the stored peaks serve)."""
    if not row["child_media_path"]:
        return None
    partition = landing / f"dt={row['child_ingest_day']}"
    where = resolve_media(partition, None, row["child_media_path"], extensions)
    if where.status != "ok" or not where.path:
        return None
    try:
        pcm = decode_pcm(partition.resolve() / where.path, max_seconds=float(row["child_duration_s"]) + 1.0)
    except (DecodeError, OSError):
        return None
    return dense_maxima(pcm)


def audio_fits(con: duckdb.DuckDBPyConnection, align_tolerance_s: float = ALIGN_TOLERANCE_S,
               max_per_child: int = MAX_AUDIO_CANDIDATES, claims_only: bool = False) -> pl.DataFrame:
    """Per candidate pair of the scope's posts (sql/link_lineage/audio_candidates.sql): what the two posts'
    peaks say (`fit` stitch | duet | NULL, `score` for choosing among fits, `audio` the measures as JSON).
    `claims_only`: only children with an explicit duet id or a duet/stitch caption (audio-only claims off:
    nothing else reads the other children's pairs, and they cost the most)."""
    pairs = warehouse.query_frame(con, "link_lineage/audio_candidates",
                                  {"align_tol_s": align_tolerance_s, "max_per_child": max_per_child,
                                   "claims_only": claims_only, "opening_tol_s": OPENING_TOL_S})
    if pairs.is_empty():
        return pl.DataFrame(schema=AUDIO_FIT_SCHEMA)
    shas = pl.DataFrame({"audio_sha256": pl.concat([pairs["child_sha"], pairs["parent_sha"],
                                                    pairs["ref_sha"].drop_nulls()]).unique()})
    peaks = {sha: (np.asarray(f, dtype=np.int64), np.asarray(b, dtype=np.int64))
             for sha, f, b in warehouse.fetch_rows(con, "link_lineage/audio_peaks", frames={"audio_shas": shas})}
    # the child's media is decoded again only when a duet is possible (a candidate as long as it): the dense
    # maxima matter under a loud new layer; a stitch's opening is judged on the stored peaks
    pairs = pairs.with_columns(
        ((pl.col("child_duration_s") - pl.col("parent_duration_s")).abs()
         <= pl.max_horizontal(pl.lit(audio_evidence.DUR_TOL_S),
                              audio_evidence.DUR_TOL_FRAC * pl.col("parent_duration_s")))
        .any().over("child").alias("decode"))
    rows = []
    maps: dict[str, np.ndarray | None] = {}
    own: dict[tuple, np.ndarray] = {}  # the parent's own material depends on the parent and its reference only
    landing = settings.landing_dir()
    extensions = settings.contract_settings().media_extensions
    for r in pairs.iter_rows(named=True):
        c, p = peaks.get(r["child_sha"]), peaks.get(r["parent_sha"])
        if c is None or p is None:
            continue
        if r["child"] not in maps:  # pairs come ordered by child
            maps = {r["child"]: child_maxima(landing, r, extensions) if r["decode"] else None}
        ref = peaks.get(r["ref_sha"]) if r["ref_sha"] else None
        key = (r["parent_sha"], r["ref_sha"], r["ref_t0_s"])
        if ref is not None and key not in own:
            own[key] = audio_evidence.own_material(p[0], p[1], ref[0], ref[1], r["ref_t0_s"])
        pair = audio_evidence.compare(c[0], c[1], r["child_duration_s"], p[0], p[1], r["parent_duration_s"],
                                      ref=None if ref is None else (ref[0], ref[1], r["ref_t0_s"]),
                                      child_sound_end_s=r["child_sound_end_s"], child_map=maps[r["child"]],
                                      parent_own=own.get(key), parent_made_music=r["parent_made_music"])
        fit, consistent = audio_evidence.verdict(pair)
        rows.append({"child": r["child"], "parent": r["parent"], "fit": fit, "consistent": consistent,
                     "score": audio_evidence.fit_score(pair, r["child_duration_s"]),
                     "audio": json.dumps(pair.as_dict())})
    return pl.DataFrame(rows, schema=AUDIO_FIT_SCHEMA)


def link_edges(con: duckdb.DuckDBPyConnection, first_day: date, day: date,
               align_tolerance_s: float = ALIGN_TOLERANCE_S, audio: bool | None = None,
               audio_only: bool | None = None) -> dict:
    """Replace the edges and rejections of the posts in lineage_scope (pipelines.lineage.build_scope for
    partitions first_day … day, already built); returns what was linked. `audio` (default
    settings.lineage_settings: on) grades id and caption claims with the post-to-post audio evidence;
    `audio_only` (default: off) also lets the audio alone claim a duet or stitch (audio_duet, audio_stitch).
    Off, a post with neither id nor caption gets exactly the edge the other rules give it."""
    params = {"first_day": first_day, "day": day}
    chosen = settings.lineage_settings()
    use_audio = chosen.audio if audio is None else audio
    use_audio_only = use_audio and (chosen.audio_only if audio_only is None else audio_only)
    fits = (audio_fits(con, align_tolerance_s, claims_only=not use_audio_only) if use_audio
            else pl.DataFrame(schema=AUDIO_FIT_SCHEMA))
    warehouse.run_sql(con, "link_lineage/edges_link",
                      dict(params, align_tol_s=align_tolerance_s, tie_score=AUDIO_TIE_SCORE,
                           audio_only=use_audio_only, max_equivalent=MAX_EQUIVALENT_LISTED),
                      frames={"audio_fit_in": fits})
    warehouse.run_sql(con, "link_lineage/edges_replace", params)
    posts = con.execute("SELECT count(*) FROM ll_kids").fetchall()[0][0]
    by_relation = dict(con.execute("SELECT relation, count(*) FROM ll_chosen GROUP BY ALL").fetchall())
    rejected = con.execute("SELECT count(*) FROM ll_rejected").fetchall()[0][0]
    audio_linked = con.execute(
        "SELECT count(*) FROM ll_chosen WHERE evidence->>'rule' IN ('audio_stitch', 'audio_duet')").fetchall()[0][0]
    for table in TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("DROP VIEW IF EXISTS ll_sounds")
    return {"posts": posts, "edges": sum(by_relation.values()), "by_relation": by_relation, "rejected": rejected,
            "audio_pairs": fits.height, "audio_linked": audio_linked}
