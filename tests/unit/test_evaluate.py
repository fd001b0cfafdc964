"""Pairwise clustering scores against a brute-force count over every pair."""

from __future__ import annotations

import itertools
import random

import polars as pl
import pytest

from pipelines.accuracy import pairwise_scores


def brute_force(pred: list, truth: list) -> tuple[int, int, int]:
    both = p = t = 0
    for i, j in itertools.combinations(range(len(pred)), 2):
        same_p = pred[i] is not None and pred[i] == pred[j]
        same_t = truth[i] == truth[j]
        both += same_p and same_t
        p += same_p
        t += same_t
    return both, p, t


@pytest.mark.parametrize("seed", range(5))
def test_pairwise_scores_match_brute_force(seed):
    rng = random.Random(seed)
    n = 60
    truth = [f"t{rng.randrange(6)}" for _ in range(n)]
    pred = [None if rng.random() < 0.1 else f"p{rng.randrange(8)}" for _ in range(n)]
    scores = pairwise_scores(pl.DataFrame({"pred": pred, "truth": truth}), "pred", "truth")
    both, p, t = brute_force(pred, truth)
    assert (scores["pairs_correct"], scores["pairs_predicted"], scores["pairs_truth"]) == (both, p, t)
    assert scores["precision"] == pytest.approx(both / p)
    assert scores["recall"] == pytest.approx(both / t)


def test_perfect_and_all_singletons():
    truth = ["a", "a", "b", "b", "b"]
    perfect = pairwise_scores(pl.DataFrame({"pred": ["x", "x", "y", "y", "y"], "truth": truth}), "pred", "truth")
    assert perfect["f1"] == pytest.approx(1.0)
    nothing = pairwise_scores(
        pl.DataFrame({"pred": [None] * 5, "truth": truth}, schema={"pred": pl.String, "truth": pl.String}),
        "pred", "truth",
    )
    assert nothing["pairs_predicted"] == 0 and nothing["recall"] == 0.0 and nothing["f1"] is None
