"""Precision and recall of lineage_edges per relation against a sample world's ground truth, next to the
metadata-only baseline (duetFromId + platform music id).

Scored over the truth's `scorable` posts (observed, readable, carrying a sound, parent observed when it
has one): a predicted edge is right when relation and parent both match; a post the truth calls an origin
must have no edge. `python -m pipelines.lineage.edge_accuracy --truth DIR [--warehouse FILE]`.

Duets and stitches are also scored by the evidence the child carries besides its audio (truth column
`claim_evidence`: `id` duetFromId exported, `caption` "#duet/#stitch with @user" kept, `audio_only` neither):
recall over the truth's duets/stitches of that kind, precision over the predicted duet/stitch edges whose child
carries that kind (a post the truth calls a reuse or an origin carries no claim: `audio_only`). And the share of
unrelated posts (truth: no duet/stitch) that got a duet or stitch edge. Beside them, `R equiv`: the relation right
and the true parent either chosen or among the posts the edge's evidence names as sounding the same
(`audio_equivalent_parents`: several plain reuses of one sound open identically, and the audio cannot tell
which of them a stitch took its opening from).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import polars as pl

from pipelines import settings, warehouse

RELATIONS = ("stitch", "duet", "sound_reuse", "reupload")
DIRECT = ("stitch", "duet")
EVIDENCE_KINDS = ("id", "caption", "audio_only")


def truth_edges(truth_dir: Path) -> pl.DataFrame:
    """post_id, relation, parent_post_id (and claim_evidence when the world records it) of the scorable posts
    (relation NULL for origins)."""
    path = truth_dir / "posts.parquet"
    has_claims = "claim_evidence" in pl.read_parquet_schema(path)
    cols = ["post_id", "scorable", "relation", "parent_post_id"] + (["claim_evidence"] if has_claims else [])
    out = (
        pl.read_parquet(path, columns=cols)
        .filter(pl.col("scorable"))
        .select("post_id", pl.col("relation").alias("true_relation"), pl.col("parent_post_id").alias("true_parent"),
                *(["claim_evidence"] if has_claims else []))
    )
    return out if has_claims else out.with_columns(pl.lit(None, pl.String).alias("claim_evidence"))


def evidence_scores(predicted: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Per relation (stitch, duet, both) and evidence kind the child carries: truth, predicted, correct, P, R;
    empty when the truth does not record the evidence kinds."""
    schema = {"relation": pl.String, "evidence": pl.String, "truth": pl.Int64, "predicted": pl.Int64,
              "correct": pl.Int64, "precision": pl.Float64, "recall": pl.Float64, "recall_equivalent": pl.Float64}
    if truth["claim_evidence"].null_count() == truth.height:
        return pl.DataFrame(schema=schema)
    if "equivalents" not in predicted.columns:
        predicted = predicted.with_columns(pl.lit(None, pl.List(pl.String)).alias("equivalents"))
    joined = truth.join(
        predicted.select(pl.col("child_post_id").alias("post_id"), "relation",
                         pl.col("parent_post_id").alias("parent"), "equivalents"),
        on="post_id", how="left",
    ).with_columns(
        ((pl.col("relation") == pl.col("true_relation")) & (pl.col("parent") == pl.col("true_parent")))
        .fill_null(False).alias("ok"),
        pl.col("claim_evidence").fill_null("audio_only").alias("kind"),
    ).with_columns(
        (pl.col("ok") | ((pl.col("relation") == pl.col("true_relation"))
                         & pl.col("equivalents").list.contains(pl.col("true_parent")))).fill_null(False)
        .alias("ok_equivalent"),
    )
    rows = []
    for rels, name in [((r,), r) for r in DIRECT] + [(DIRECT, "stitch+duet")]:
        for kind in (*EVIDENCE_KINDS, "all"):
            k = joined if kind == "all" else joined.filter(pl.col("kind") == kind)
            n_true = k.filter(pl.col("true_relation").is_in(rels)).height
            pred = k.filter(pl.col("relation").is_in(rels))
            ok = pred.filter(pl.col("ok")).height
            ok_eq = pred.filter(pl.col("ok_equivalent")).height
            if kind == "id" and name == "stitch":
                continue  # stitches carry no id
            rows.append({"relation": name, "evidence": kind, "truth": n_true, "predicted": pred.height,
                         "correct": ok, "precision": ok / pred.height if pred.height else None,
                         "recall": ok / n_true if n_true else None,
                         "recall_equivalent": ok_eq / n_true if n_true else None})
    return pl.DataFrame(rows, schema=schema)


def false_link_rate(predicted: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Scorable posts the truth calls neither duet nor stitch, and how many of them got a duet/stitch edge."""
    unrelated = truth.filter(~pl.col("true_relation").is_in(DIRECT) | pl.col("true_relation").is_null())
    linked = unrelated.join(predicted.filter(pl.col("relation").is_in(DIRECT)).select(
        pl.col("child_post_id").alias("post_id")), on="post_id", how="semi").height
    return {"unrelated_posts": unrelated.height, "falsely_linked": linked,
            "rate": linked / unrelated.height if unrelated.height else None}


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
    ours = relation_scores(predicted_edges(con), truth)
    base = relation_scores(con.sql(warehouse.sql_text("link_lineage/baseline")).pl(), truth)
    baseline = base.select(
        "relation", *[pl.col(c).alias(f"baseline_{c}") for c in ("predicted", "precision", "recall", "f1")]
    )
    return ours.join(baseline, on="relation", how="left", maintain_order="left")


def predicted_edges(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """lineage_edges' child, parent, relation, and the posts its evidence names as sounding like the parent."""
    return con.sql(warehouse.sql_text("link_lineage/evaluated_edges")).pl()


def evaluate_evidence(con: duckdb.DuckDBPyConnection, truth_dir: Path) -> dict:
    """Duets/stitches by the evidence their child carries (ours and the caption + metadata baseline), and the
    unrelated posts falsely linked as duet/stitch."""
    truth = truth_edges(truth_dir)
    ours = predicted_edges(con)
    base = con.sql(warehouse.sql_text("link_lineage/baseline_captions")).pl()
    return {"ours": evidence_scores(ours, truth).to_dicts(),
            "baseline_captions_metadata": evidence_scores(base, truth).to_dicts(),
            "false_links": false_link_rate(ours, truth),
            "baseline_false_links": false_link_rate(base, truth)}


def format_evidence(report: dict) -> str:
    def f(v):
        return "  –  " if v is None else f"{v:.3f}"

    base = {(r["relation"], r["evidence"]): r for r in report["baseline_captions_metadata"]}
    header = (f"{'relation':<13}{'evidence':<12}{'truth':>6}{'pred':>6}{'P':>7}{'R':>7}{'R equiv':>9}  |"
              f"{'base P':>8}{'base R':>8}")
    lines = [header]
    for r in report["ours"]:
        b = base.get((r["relation"], r["evidence"]), {})
        lines.append(f"{r['relation']:<13}{r['evidence']:<12}{r['truth']:>6}{r['predicted']:>6}"
                     f"{f(r['precision']):>7}{f(r['recall']):>7}{f(r.get('recall_equivalent')):>9}  |"
                     f"{f(b.get('precision')):>8}{f(b.get('recall')):>8}")
    fl, bfl = report["false_links"], report["baseline_false_links"]
    lines.append(f"unrelated posts linked as duet/stitch: {fl['falsely_linked']}/{fl['unrelated_posts']} "
                 f"(rate {f(fl['rate'])}; baseline {bfl['falsely_linked']}, rate {f(bfl['rate'])})")
    return "\n".join(lines)


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
        print(format_evidence(evaluate_evidence(con, truth)))
    finally:
        con.close()


if __name__ == "__main__":
    main()
