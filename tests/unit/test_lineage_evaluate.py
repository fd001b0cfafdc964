"""evaluate: precision/recall per relation, and the metadata-only baseline, on a hand-made truth."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest

from pipelines import warehouse
from pipelines.lineage.edge_accuracy import evaluate, relation_scores


def test_scores_count_relation_and_parent_together():
    truth = pl.DataFrame({
        "post_id": ["a", "b", "c", "d", "e"],
        "true_relation": [None, "sound_reuse", "duet", "duet", "stitch"],
        "true_parent": [None, "a", "b", "b", "c"],
    })
    predicted = pl.DataFrame({
        "child_post_id": ["b", "c", "d", "e", "zz"],  # zz: not scorable, ignored
        "parent_post_id": ["a", "b", "a", "c", "a"],  # d: right relation, wrong parent
        "relation": ["sound_reuse", "duet", "duet", "duet", "duet"],  # e: right parent, wrong relation
    })
    s = {r["relation"]: r for r in relation_scores(predicted, truth).iter_rows(named=True)}
    assert (s["duet"]["predicted"], s["duet"]["correct"]) == (3, 1)
    assert s["duet"]["precision"] == pytest.approx(1 / 3) and s["duet"]["recall"] == pytest.approx(1 / 2)
    assert s["sound_reuse"]["f1"] == 1.0
    assert s["stitch"]["recall"] == 0.0 and s["stitch"]["precision"] is None
    assert s["origin (no edge)"]["recall"] == 1.0


def test_baseline_uses_duet_ids_and_music_ids_only(tmp_path):
    con = warehouse.connect(tmp_path / "wh.duckdb")
    t0 = datetime(2024, 3, 1, 8)
    rows = [("o", "m1", None, None), ("r", "m1", None, None), ("d", "m1", "r", None),
            ("s", "m2", None, "#stitch with @o_author"), ("fut", "m3", "later", None), ("later", "m3", None, None)]
    for k, (pid, music, duet_from, caption) in enumerate(rows):
        con.execute(
            "INSERT INTO validated_posts (post_id, author, created_at, created_day, caption, platform_music_id,"
            " duet_from_post_id,"
            " source_format, source_file, source_record, ingest_day)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'csv_export', 'x', 0, ?)",
            [pid, f"{pid}_author", t0 + timedelta(minutes=k), date(2024, 3, 1), caption, music, duet_from,
             date(2024, 3, 1)])
    got = {r[0]: r[1:] for r in con.sql(warehouse.sql_text("link_lineage/baseline")).fetchall()}
    # r reuses m1's first post; d duets r by id; s (a stitch only its caption tells) is a first post: nothing;
    # fut claims a younger post: ignored, and it is m3's first post
    assert got == {"r": ("o", "sound_reuse"), "d": ("r", "duet"), "later": ("fut", "sound_reuse")}
    truth_dir = tmp_path / "truth"
    truth_dir.mkdir()
    pl.DataFrame({"post_id": ["o", "r", "d", "s"], "scorable": [True] * 4,
                  "relation": [None, "sound_reuse", "duet", "stitch"], "parent_post_id": [None, "o", "r", "o"]},
                 schema_overrides={"relation": pl.String, "parent_post_id": pl.String}
                 ).write_parquet(truth_dir / "posts.parquet")
    scores = {r["relation"]: r for r in evaluate(con, truth_dir).iter_rows(named=True)}
    con.close()
    assert scores["duet"]["baseline_recall"] == 1.0 and scores["stitch"]["baseline_recall"] == 0.0
    assert scores["duet"]["predicted"] == 0  # lineage_edges is empty: link_lineage never ran here
