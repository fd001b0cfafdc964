"""Precision and recall of lineage_edges per relation against a sample world's ground truth, next to the
metadata-only baseline (duetFromId + platform music id).

Scored over the truth's `scorable` posts (observed, readable, carrying a sound, parent observed when it
has one): a predicted edge is right when relation and parent both match; a post the truth calls an origin
must have no edge. `python -m pipelines.lineage.edge_accuracy --truth DIR [--warehouse FILE]`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import polars as pl

from pipelines import settings, warehouse

RELATIONS = ("stitch", "duet", "sound_reuse", "reupload")


def truth_edges(truth_dir: Path) -> pl.DataFrame:
    """post_id, relation, parent_post_id of the scorable posts (relation NULL for origins)."""
    return (
        pl.read_parquet(truth_dir / "posts.parquet", columns=["post_id", "scorable", "relation", "parent_post_id"])
        .filter(pl.col("scorable"))
        .select("post_id", pl.col("relation").alias("true_relation"), pl.col("parent_post_id").alias("true_parent"))
    )


def relation_scores(predicted: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Per relation: truth and predicted edge counts among scorable posts, correct ones, precision, recall, F1."""
    joined = truth.join(
        predicted.select(
            pl.col("child_post_id").alias("post_id"), "relation", pl.col("parent_post_id").alias("parent")
        ),
        on="post_id", how="left",
    ).with_columns(
        ((pl.col("relation") == pl.col("true_relation")) & (pl.col("parent") == pl.col("true_parent")))
        .fill_null(False)
        .alias("ok")
    )
    rows = []
    for rel in RELATIONS:
        n_true = joined.filter(pl.col("true_relation") == rel).height
        n_pred = joined.filter(pl.col("relation") == rel).height
        ok = joined.filter((pl.col("relation") == rel) & pl.col("ok")).height
        p = ok / n_pred if n_pred else None
        r = ok / n_true if n_true else None
        f1 = 2 * p * r / (p + r) if p and r else None
        rows.append({"relation": rel, "truth": n_true, "predicted": n_pred, "correct": ok,
                     "precision": p, "recall": r, "f1": f1})
    origins = joined.filter(pl.col("true_relation").is_null())
    rows.append({"relation": "origin (no edge)", "truth": origins.height,
                 "predicted": joined.filter(pl.col("relation").is_null()).height,
                 "correct": origins.filter(pl.col("relation").is_null()).height,
                 "precision": None, "recall": origins.filter(pl.col("relation").is_null()).height / origins.height
                 if origins.height else None, "f1": None})
    return pl.DataFrame(rows, schema={"relation": pl.String, "truth": pl.Int64, "predicted": pl.Int64,
                                      "correct": pl.Int64, "precision": pl.Float64, "recall": pl.Float64,
                                      "f1": pl.Float64})


def evaluate(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> pl.DataFrame:
    """lineage_edges and the metadata baseline, side by side, per relation."""
    truth = truth_edges(truth_dir)
    ours = relation_scores(con.sql("SELECT child_post_id, parent_post_id, relation FROM lineage_edges").pl(), truth)
    base = relation_scores(con.sql(warehouse.sql_text("link_lineage/baseline")).pl(), truth)
    baseline = base.select(
        "relation", *[pl.col(c).alias(f"baseline_{c}") for c in ("predicted", "precision", "recall", "f1")]
    )
    return ours.join(baseline, on="relation", how="left", maintain_order="left")


def format_table(scores: pl.DataFrame) -> str:
    def f(v):
        return "  –  " if v is None else f"{v:.3f}"

    lines = [
        (
            f"{'relation':<17}{'truth':>7}{'pred':>7}{'P':>7}{'R':>7}{'F1':>7}  |"
            f"{'base P':>8}{'base R':>8}{'base F1':>8}"
        )
    ]
    lines.extend(
        f"{r['relation']:<17}{r['truth']:>7}{r['predicted']:>7}"
        f"{f(r['precision']):>7}{f(r['recall']):>7}{f(r['f1']):>7}  |"
        f"{f(r['baseline_precision']):>8}{f(r['baseline_recall']):>8}{f(r['baseline_f1']):>8}"
        for r in scores.iter_rows(named=True)
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--truth", type=Path, required=True, help="the sample world's truth/ folder (or its parent)")
    ap.add_argument("--warehouse", type=Path, default=None)
    args = ap.parse_args(argv)
    truth = args.truth / "truth" if (args.truth / "truth" / "posts.parquet").exists() else args.truth
    con = duckdb.connect(str(args.warehouse or settings.warehouse_path()), read_only=True)
    try:
        print(format_table(evaluate(con, truth)))
    finally:
        con.close()


if __name__ == "__main__":
    main()
