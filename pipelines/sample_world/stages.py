"""Moment -> spark -> trend -> movement, per sound and day, from the observed lineage (issue 6's stages).

The thresholds live in STAGE_THRESHOLDS only (meant to move into a config file shared with the pipeline).
Everything is computed over observed posts and the convention parents, so a perfect pipeline reproduces
the truth exactly.
"""

from __future__ import annotations

import numpy as np
import polars as pl

STAGE_THRESHOLDS: dict[str, float] = {
    # spark: someone other than the first creator used the sound
    "spark_min_creators": 2,
    # trend: adoption accelerating - many new creators today and this week >> last week
    "trend_min_new_creators_day": 20,
    "trend_growth_ratio": 3.0,  # new creators in the last 7 days >= ratio x the 7 days before
    # movement: broad and self-sustaining - many creators, answered in depth or in many branches, still active
    "movement_min_creators": 100,
    "movement_min_depth": 3,  # lineage hops from the root (a duet of a stitch of a reuse ...)
    "movement_min_branches": 10,  # non-root posts that drew answers of their own
    "movement_min_new_creators_7d": 20,
    "window_days": 7,
}
STAGES = ("moment", "spark", "trend", "movement")


def observed_depth(parent: np.ndarray) -> np.ndarray:
    """Hops to the root along `parent` (-1 = root), by pointer jumping: O(n log depth), vectorised."""
    depth = (parent >= 0).astype(np.int64)
    anc = parent.copy()
    while (anc >= 0).any():
        has = anc >= 0
        a = np.maximum(anc, 0)
        depth = depth + np.where(has, depth[a], 0)
        anc = np.where(has, anc[a], -1)
    return depth


def compute_stages(posts: pl.DataFrame, days: list, thresholds: dict | None = None) -> pl.DataFrame:
    """One row per sound per day from its first observed day to the world's last day.

    `posts`: observed posts with columns idx (int, time order), sound (str), author, day (date),
    parent_idx (int, -1 for roots; parents are observed posts of the same sound).
    """
    th = dict(STAGE_THRESHOLDS, **(thresholds or {}))
    w = int(th["window_days"])
    posts = posts.sort("idx")
    idx = posts["idx"].to_numpy()
    pi = posts["parent_idx"].to_numpy()
    par = np.where(pi >= 0, np.searchsorted(idx, pi), -1)
    if not (idx[par[pi >= 0]] == pi[pi >= 0]).all():
        raise ValueError("every parent must be an observed post in `posts`")
    depth = observed_depth(par)
    df = posts.with_columns(pl.Series("depth", depth), pl.Series("pos", np.arange(idx.size)), pl.Series("p", par))
    # a branch: a non-root post that drew answers of its own; it counts from the day of its first answer
    hub_days = df.filter(pl.col("p") >= 0).group_by("p").agg(pl.col("day").min().alias("hub_day"))
    hubs = (
        hub_days.join(df.select("pos", "sound", pl.col("p").alias("pp")), left_on="p", right_on="pos")
        .filter(pl.col("pp") >= 0)
        .group_by(["sound", "hub_day"])
        .agg(pl.len().alias("new_hubs"))
    )
    first = df.group_by(["sound", "author"]).agg(pl.col("day").min())
    new_creators = first.group_by(["sound", "day"]).agg(pl.len().alias("new_creators"))
    daily = df.group_by(["sound", "day"]).agg(pl.len().alias("new_posts"), pl.col("depth").max().alias("dmax"))
    start = df.group_by("sound").agg(pl.col("day").min().alias("first_day"))
    grid = start.join(pl.DataFrame({"day": days}, schema={"day": pl.Date}), how="cross").filter(
        pl.col("day") >= pl.col("first_day")
    )
    g = (
        grid.join(daily, on=["sound", "day"], how="left")
        .join(new_creators, on=["sound", "day"], how="left")
        .join(hubs.rename({"hub_day": "day"}), on=["sound", "day"], how="left")
        .with_columns(pl.col("new_posts", "new_creators", "new_hubs", "dmax").fill_null(0))
        .sort(["sound", "day"])
        .with_columns(
            pl.col("new_posts").cum_sum().over("sound").alias("cum_posts"),
            pl.col("new_creators").cum_sum().over("sound").alias("cum_creators"),
            pl.col("new_hubs").cum_sum().over("sound").alias("branches"),
            pl.col("dmax").cum_max().over("sound").alias("max_depth"),
            pl.col("new_creators").rolling_sum(w, min_samples=1).over("sound").alias("creators_7d"),
        )
        .with_columns(
            (pl.col("cum_creators").shift(w).over("sound").fill_null(0)
             - pl.col("cum_creators").shift(2 * w).over("sound").fill_null(0)).alias("creators_prev_7d")
        )
    )
    movement = (
        (pl.col("cum_creators") >= th["movement_min_creators"])
        & ((pl.col("max_depth") >= th["movement_min_depth"]) | (pl.col("branches") >= th["movement_min_branches"]))
        & (pl.col("creators_7d") >= th["movement_min_new_creators_7d"])
    )
    trend = (pl.col("new_creators") >= th["trend_min_new_creators_day"]) & (
        pl.col("creators_7d") >= th["trend_growth_ratio"] * pl.col("creators_prev_7d")
    )
    spark = pl.col("cum_creators") >= th["spark_min_creators"]
    return g.with_columns(
        pl.when(movement).then(pl.lit("movement")).when(trend).then(pl.lit("trend"))
        .when(spark).then(pl.lit("spark")).otherwise(pl.lit("moment")).alias("stage")
    ).select(
        pl.col("sound").alias("canonical_sound_id"), "day", "new_posts", "new_creators", "cum_posts",
        "cum_creators", "creators_7d", "creators_prev_7d", "max_depth", "branches", "stage",
    )
