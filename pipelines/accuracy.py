"""`trendtrace evaluate`: the warehouse scored against a sample world's hidden ground truth.

Three questions, each next to what platform metadata alone would answer:
* lineage: precision/recall/F1 of lineage_edges per relation (pipelines.lineage.edge_accuracy), and for
  duets/stitches per evidence kind the child carries (id, caption, audio only) plus the unrelated posts
  falsely linked as duet/stitch;
* sound identity: pairwise F1 of the primary-sound clustering of posts (two posts in one cluster = "same
  sound"), against clustering by platform music id; and per transform family of the truth (each edit a post's
  audio went through: speed, voice-over, reverb, the users' edits pitch / bass_boost / eq / phone / low_bitrate
  / loud_voice, ...), the share of its posts put in their canonical sound's cluster (the one most of that
  sound's posts are in);
* adoption: share of the truth's sound-days whose adoption stage the warehouse got right.
Only the truth's scorable posts count (observed, valid, parent observed when there is one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from pipelines.lineage import edge_accuracy


def truth_folder(path: Path) -> Path:
    """Accept the world folder or its truth/ folder."""
    return path / "truth" if (path / "truth" / "posts.parquet").exists() else path


def pairwise_scores(labels: pl.DataFrame, predicted: str, truth: str) -> dict[str, float | int | None]:
    """Pairwise precision/recall/F1 of clustering `predicted` against `truth` over the rows of `labels`.

    Counted from the contingency table in O(n): pairs together in both / in predicted / in truth.
    Rows whose predicted label is null are singletons (they share a cluster with no one).
    """
    def pairs(col: pl.Expr) -> pl.Expr:
        return (col * (col - 1) // 2).sum()

    with_ids = labels.with_row_index("_i").with_columns(
        pl.coalesce(pl.col(predicted).cast(pl.String), pl.lit("_single_") + pl.col("_i").cast(pl.String)).alias("_p")
    )
    both = with_ids.group_by("_p", truth).len().select(pairs(pl.col("len"))).item()
    pred = with_ids.group_by("_p").len().select(pairs(pl.col("len"))).item()
    true = with_ids.group_by(truth).len().select(pairs(pl.col("len"))).item()
    p = both / pred if pred else None
    r = both / true if true else None
    f1 = 2 * p * r / (p + r) if p and r else None
    return {"posts": labels.height, "pairs_truth": true, "pairs_predicted": pred, "pairs_correct": both,
            "precision": p, "recall": r, "f1": f1}


def recall_by_transform(labels: pl.DataFrame, predicted: str, truth: str) -> list[dict[str, Any]]:
    """Per transform family (recipes.transform_family of each tag in `transforms`): posts, and how many sit in the
    predicted cluster most posts of their true sound sit in (a null prediction is a miss)."""
    from pipelines.sample_world import transform_family

    majority = (labels.filter(pl.col(predicted).is_not_null()).group_by(truth, predicted).len()
                .sort("len", predicted, descending=[True, False]).unique(truth, keep="first")
                .select(truth, pl.col(predicted).alias("_majority")))
    hit = labels.join(majority, on=truth, how="left").with_columns(
        (pl.col(predicted) == pl.col("_majority")).fill_null(False).alias("_hit"))
    fam = hit.select("_hit", pl.col("transforms").list.eval(
        pl.element().map_elements(transform_family, return_dtype=pl.String)).list.unique().alias("_fam")
    ).explode("_fam").drop_nulls("_fam")
    rows = fam.group_by("_fam").agg(pl.len().alias("posts"), pl.col("_hit").sum().alias("correct")).sort("_fam")
    return [{"transform": r["_fam"], "posts": r["posts"], "correct": r["correct"],
             "recall": r["correct"] / r["posts"] if r["posts"] else None} for r in rows.iter_rows(named=True)]


def sound_identity(con: duckdb.DuckDBPyConnection, truth: Path) -> dict[str, Any]:
    """Primary-sound clustering of the truth's scorable 'primary' posts, ours vs by platform music id, and our
    recall per transform family."""
    posts = (
        pl.read_parquet(truth / "posts.parquet",
                        columns=["post_id", "scorable", "sound_role", "canonical_sound_id", "transforms"])
        .filter(pl.col("scorable") & (pl.col("sound_role") == "primary"))
        .select("post_id", "canonical_sound_id", "transforms")
    )
    has_post_sounds = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'post_sounds'"
    ).fetchall()[0][0]
    ours = (
        con.sql("SELECT post_id, sound_id FROM post_sounds WHERE role = 'primary'").pl()
        if has_post_sounds
        else pl.DataFrame(schema={"post_id": pl.String, "sound_id": pl.String})
    )
    music = con.sql("SELECT post_id, platform_music_id FROM posts").pl()
    labels = posts.join(ours, on="post_id", how="left").join(music, on="post_id", how="left")
    return {
        "ours": pairwise_scores(labels, "sound_id", "canonical_sound_id"),
        "baseline_music_id": pairwise_scores(labels, "platform_music_id", "canonical_sound_id"),
        "recall_by_transform": recall_by_transform(labels, "sound_id", "canonical_sound_id"),
    }


def adoption_stage_accuracy(con: duckdb.DuckDBPyConnection, truth: Path) -> dict[str, Any]:
    """Share of truth sound-days with the right adoption stage.

    Each truth sound is represented by the one of our sounds whose origin post is its earliest (a sound we
    failed to merge leaves its later copies unscored here; the clustering score counts that failure).
    """
    true_stages = pl.read_parquet(truth / "sound_stages.parquet", columns=["canonical_sound_id", "day", "stage"])
    truth_posts = pl.read_parquet(truth / "posts.parquet", columns=["post_id", "canonical_sound_id"])
    origins = (
        con.sql("SELECT sound_id, origin_post_id, first_seen_at FROM sounds WHERE merged_into IS NULL").pl()
        .join(truth_posts, left_on="origin_post_id", right_on="post_id", how="inner")
        .sort("first_seen_at", "sound_id")
        .unique("canonical_sound_id", keep="first")
    )
    mapped = con.sql("SELECT sound_id, day, stage FROM sound_daily").pl().join(
        origins.select("sound_id", "canonical_sound_id"), on="sound_id", how="inner"
    )
    joined = true_stages.join(
        mapped.select("canonical_sound_id", "day", pl.col("stage").alias("our_stage")),
        on=["canonical_sound_id", "day"], how="left",
    )
    correct = joined.filter(pl.col("stage") == pl.col("our_stage")).height
    per_stage = (
        joined.group_by("stage")
        .agg(pl.len().alias("sound_days"), (pl.col("stage") == pl.col("our_stage")).sum().alias("correct"))
        .sort("stage")
        .to_dicts()
    )
    return {"sound_days": joined.height, "correct": correct,
            "accuracy": correct / joined.height if joined.height else None, "per_stage": per_stage}


def evaluate_warehouse(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> dict[str, Any]:
    truth = truth_folder(truth_dir)
    relations = edge_accuracy.evaluate(con, truth)
    return {
        "truth": str(truth),
        "relations": relations.to_dicts(),
        "duet_stitch_by_evidence": edge_accuracy.evaluate_evidence(con, truth),
        "sound_identity": sound_identity(con, truth),
        "stages": adoption_stage_accuracy(con, truth),
    }


def format_report(report: dict[str, Any]) -> str:
    def f(v: Any) -> str:
        return "  –  " if v is None else f"{v:.3f}"

    lines = ["Lineage edges per relation (ours | metadata-only baseline: music id + duetFromId)",
             edge_accuracy.format_table(pl.DataFrame(report["relations"])), "",
             ("Duets and stitches by the evidence the child carries besides its audio (ours | caption + metadata "
              "baseline, no audio)"),
             edge_accuracy.format_evidence(report["duet_stitch_by_evidence"]), "",
             "Primary-sound clustering, pairwise (ours | by platform music id)"]
    ours, base = report["sound_identity"]["ours"], report["sound_identity"]["baseline_music_id"]
    lines.append(f"{'':<10}{'P':>7}{'R':>7}{'F1':>7}")
    lines.append(
        f"{'ours':<10}{f(ours['precision']):>7}{f(ours['recall']):>7}{f(ours['f1']):>7}   ({ours['posts']} posts)"
    )
    lines.append(f"{'music id':<10}{f(base['precision']):>7}{f(base['recall']):>7}{f(base['f1']):>7}")
    by_transform = report["sound_identity"].get("recall_by_transform") or []
    if by_transform:
        lines += ["", ("Primary sound recovered, per transform the post's audio went through (posts in their "
                       "sound's majority cluster)")]
        lines += [f"  {r['transform']:<16}{r['correct']:>5}/{r['posts']:<5}{f(r['recall']):>7}" for r in by_transform]
    st = report["stages"]
    lines += ["", f"Stage per sound-day: {st['correct']}/{st['sound_days']} correct (accuracy {f(st['accuracy'])})"]
    for row in st["per_stage"]:
        lines.append(f"  {row['stage']:<10}{row['correct']:>6}/{row['sound_days']:<6}")
    return "\n".join(lines)


def write_report(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
