"""sound_daily, adoption stages and their changes on a real DuckDB file; the sample world's truth as the oracle."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from pipelines import warehouse
from pipelines.lineage import build_scope, drop_scope
from pipelines.lineage.paths import refresh_paths as _refresh_paths
from pipelines.sample_world.stages import STAGE_THRESHOLDS, compute_stages
from pipelines.settings import ADOPTION_FILE, AdoptionThresholds, adoption_thresholds
from pipelines.sound_daily import refresh_sound_daily as _refresh_sound_daily

START = date(2024, 3, 1)


def refresh_paths(con, first: date, last: date) -> None:
    """Paths of the posts of partitions first … last and of what they relink."""
    build_scope(con, last, first)
    _refresh_paths(con)
    drop_scope(con)


def refresh_sound_daily(con, first: date, last: date, thresholds=None) -> None:
    """sound_daily up to `last` for what partitions first … last changed (and every sound's new days)."""
    build_scope(con, last, first)
    _refresh_sound_daily(con, last, thresholds)
    drop_scope(con)


@pytest.fixture
def con(tmp_path):
    c = warehouse.connect(tmp_path / "wh.duckdb")
    yield c
    c.close()


def load(con, posts: pl.DataFrame) -> None:
    """posts: idx, sound, author, day, minute, parent_idx → posts, lineage_edges, post_sounds of the roots."""
    rows = posts.with_columns(
        pl.format("p{}", "idx").alias("post_id"),
        (pl.col("day").cast(pl.Datetime("us")) + pl.duration(minutes=pl.col("minute"))).alias("created_at"),
    )
    con.register("src", rows)
    con.execute("""
        INSERT INTO validated_posts (post_id, author, created_at, created_day, source_format, source_file, source_record, ingest_day)
        SELECT post_id, author, created_at, day, 'csv_export', 'x.csv', idx, day FROM src;
        INSERT INTO lineage_edges SELECT post_id, 'p' || parent_idx, 'sound_reuse', 0.9, '{}', day FROM src WHERE parent_idx >= 0;
        INSERT INTO post_sounds (post_id, sound_id, role, speed, score, method, matched_sound_id, ingest_day)
        SELECT post_id, sound, 'primary', 1, 1, 'origin', sound, day FROM src WHERE parent_idx < 0;
    """)  # noqa: E501
    con.unregister("src")


def random_world(seed: int, days: int) -> pl.DataFrame:
    """A viral sound (fast growth, deep answers, then fading), a few small ones, a one-post moment."""
    rng = np.random.default_rng(seed)
    rows = []
    per_day = [1, 3, 8, 20, 45, 90, 120, 90, 50, 20, 8, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0][:days]
    for sound, scale, pool in (("viral", 1.0, 5000), ("small", 0.04, 6), ("tiny", 0.02, 3)):
        first = None
        for d, k in enumerate(per_day):
            k = max(0, round(k * scale)) if sound != "viral" else k
            for _ in range(k if first is not None else max(k, 1)):
                rows.append((sound, f"{sound}_user{rng.integers(0, pool)}", d, int(rng.integers(0, 1440))))
                first = first or d
    rows.append(("moment", "loner", 4, 100))
    df = pl.DataFrame(rows, schema=["sound", "author", "d", "minute"], orient="row").sort(["d", "minute"])
    df = df.with_row_index("idx").with_columns(pl.col("idx").cast(pl.Int64))
    parent = []
    seen: dict[str, list[int]] = {}
    for idx, sound in zip(df["idx"].to_list(), df["sound"].to_list(), strict=False):
        earlier = seen.setdefault(sound, [])
        parent.append(-1 if not earlier else earlier[int(rng.integers(max(0, len(earlier) - 30), len(earlier)))])
        earlier.append(idx)
    return df.with_columns(
        pl.Series("parent_idx", parent, dtype=pl.Int64),
        (pl.lit(START) + pl.duration(days=pl.col("d"))).cast(pl.Date).alias("day"),
    )


def test_stages_reproduce_the_sample_world_truth(con):
    days = 22
    world = random_world(5, days)
    load(con, world)
    last = START + timedelta(days=days - 1)
    refresh_paths(con, START, last)
    refresh_sound_daily(con, START, last, adoption_thresholds())
    got = con.sql("""SELECT sound_id AS canonical_sound_id, day, new_posts, new_creators, cum_posts, cum_creators,
                            creators_7d, creators_prev_7d, max_depth, branches, stage
                     FROM sound_daily ORDER BY ALL""").pl()
    truth = compute_stages(world.select("idx", "sound", "author", "day", "parent_idx"),
                           [START + timedelta(days=k) for k in range(days)]).sort(["canonical_sound_id", "day"])
    cols = truth.columns
    assert got.select(cols).cast(truth.schema).to_dicts() == truth.to_dicts()
    stages = set(got["stage"].to_list())
    assert {"moment", "spark", "trend", "movement"} <= stages  # the fixture exercises every stage


def test_days_without_posts_fall_back_and_changes_are_recorded(con):
    world = random_world(11, 22)
    load(con, world)
    last = START + timedelta(days=21)
    refresh_paths(con, START, last)
    refresh_sound_daily(con, START, last)
    viral = con.execute(
        "SELECT day, new_posts, stage, growth_7d FROM sound_daily WHERE sound_id = 'viral' ORDER BY day"
    ).fetchall()
    assert [r[0] for r in viral] == [START + timedelta(days=k) for k in range(22)]  # every day, zeros included
    assert viral[-1][1] == 0 and viral[-1][2] == "spark"  # it faded
    changes = con.execute(
        "SELECT day, from_stage, to_stage FROM sound_stage_changes WHERE sound_id = 'viral' ORDER BY day"
    ).fetchall()
    assert changes[0][1] is None
    assert any(f in ("trend", "movement") and t == "spark" for _, f, t in changes)  # the fall is a change
    # every change is exactly a day whose stage differs from the day before
    by_day = {d: s for d, _, s, _ in viral}
    for d, f, t in changes[1:]:
        assert by_day[d - timedelta(days=1)] == f and by_day[d] == t
    moment = con.execute("SELECT stage, growth_7d, robust_z FROM sound_daily WHERE sound_id = 'moment' AND day = ?",
                         [START + timedelta(days=4)]).fetchone()
    assert moment == ("moment", None, None)


def test_incremental_days_equal_one_full_run(con):
    world = random_world(2, 16)
    load(con, world)
    for k in range(16):
        d = START + timedelta(days=k)
        refresh_paths(con, d, d)
        refresh_sound_daily(con, d - timedelta(days=2), d)
    daily = con.execute("SELECT * FROM sound_daily ORDER BY ALL").fetchall()
    changes = con.execute("SELECT * FROM sound_stage_changes ORDER BY ALL").fetchall()
    con.execute("DELETE FROM sound_daily; DELETE FROM sound_stage_changes")
    refresh_sound_daily(con, START, START + timedelta(days=15))
    assert con.execute("SELECT * FROM sound_daily ORDER BY ALL").fetchall() == daily
    assert con.execute("SELECT * FROM sound_stage_changes ORDER BY ALL").fetchall() == changes


def test_robust_z_flags_a_burst(con):
    rows = [("s", f"u{k}", k, 60) for k in range(10)]  # one new creator a day for 10 days
    rows += [("s", f"burst{j}", 10, 61 + j) for j in range(12)]
    df = pl.DataFrame(rows, schema=["sound", "author", "d", "minute"], orient="row").with_row_index("idx").with_columns(
        pl.col("idx").cast(pl.Int64),
        pl.when(pl.col("idx") == 0).then(-1).otherwise(0).cast(pl.Int64).alias("parent_idx"),
        (pl.lit(START) + pl.duration(days=pl.col("d"))).cast(pl.Date).alias("day"))
    load(con, df)
    last = START + timedelta(days=10)
    refresh_paths(con, START, last)
    refresh_sound_daily(con, START, last)
    z = dict(con.execute("SELECT day, robust_z FROM sound_daily").fetchall())
    assert z[START + timedelta(days=3)] is None  # fewer than 7 trailing days
    # a flat history has no spread (MAD 0): the scale floors at one creator, so 12 after 1/day is z = 11
    assert z[last] == pytest.approx(11.0)
    assert z[START + timedelta(days=8)] == pytest.approx(0.0)


def test_config_file_matches_the_truth_defaults():
    """config/adoption.yaml is the pipeline's only definition; the sample world's truth must agree with it."""
    th = adoption_thresholds()
    for key, value in STAGE_THRESHOLDS.items():
        if key != "window_days":
            assert getattr(th, key) == value, key


def test_adoption_thresholds_errors_name_the_file_and_key(tmp_path):
    """No default numbers in Python: a typo, a missing key or a missing file is an error, never a fallback."""
    good = ADOPTION_FILE.read_text(encoding="utf-8")
    typo = tmp_path / "typo.yaml"
    typo.write_text(good.replace("trend_growth_ratio:", "trend_growth_ration:"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"typo\.yaml: unknown adoption thresholds trend_growth_ration"):
        adoption_thresholds(typo)
    missing = tmp_path / "missing.yaml"
    missing.write_text("\n".join(line for line in good.splitlines() if not line.startswith("movement_min_depth:")),
                       encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing\.yaml: missing adoption threshold movement_min_depth"):
        adoption_thresholds(missing)
    text = tmp_path / "text.yaml"
    text.write_text(good.replace("spark_min_creators: 2", "spark_min_creators: two"), encoding="utf-8")
    with pytest.raises(ValueError, match="spark_min_creators must be a number"):
        adoption_thresholds(text)
    with pytest.raises(FileNotFoundError, match=r"nowhere\.yaml"):
        adoption_thresholds(tmp_path / "nowhere.yaml")
    assert isinstance(adoption_thresholds(), AdoptionThresholds)
    assert isinstance(adoption_thresholds().trend_growth_ratio, float)
