"""Subtree sizes and structural virality on hand-made trees, and against all-pairs shortest paths."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from pipelines.lineage.metrics import cascade_virality, parent_indices, structural_virality, subtree_sizes, wiener_index


def depths(parent: np.ndarray) -> np.ndarray:
    out = np.zeros(parent.size, dtype=np.int64)
    for i in range(parent.size):  # parents precede children in these fixtures
        out[i] = 0 if parent[i] < 0 else out[parent[i]] + 1
    return out


def sv_one_tree(parent: list[int]) -> float:
    p = np.array(parent)
    size = subtree_sizes(p, depths(p))
    tree = np.zeros(p.size, dtype=np.int64)
    return float(structural_virality(wiener_index(tree, p, size, np.array([p.size])), np.array([p.size]))[0])


def mean_pairwise_distance(parent: np.ndarray) -> float:
    kids = np.flatnonzero(parent >= 0)
    n = parent.size
    g = coo_matrix((np.ones(kids.size), (kids, parent[kids])), shape=(n, n))
    d = shortest_path(g, directed=False, unweighted=True)
    return float(d[np.triu_indices(n, 1)].mean())


@pytest.mark.parametrize("n", [2, 3, 10, 57])
def test_star_and_chain_have_their_closed_forms(n):
    star = [-1] + [0] * (n - 1)
    chain = [-1, *list(range(n - 1))]
    assert sv_one_tree(star) == pytest.approx(2 * (n - 1) / n)
    assert sv_one_tree(chain) == pytest.approx((n + 1) / 3)


def test_single_node_has_no_virality():
    assert np.isnan(sv_one_tree([-1]))


def test_subtree_sizes_of_a_small_tree():
    #      0
    #    1   2
    #   3 4    5
    #          6
    parent = np.array([-1, 0, 0, 1, 1, 2, 5])
    assert subtree_sizes(parent, depths(parent)).tolist() == [7, 3, 3, 1, 1, 2, 1]


def test_random_forests_match_all_pairs_shortest_paths():
    rng = np.random.default_rng(3)
    frames, expected = [], {}
    for t in range(25):
        n = int(rng.integers(1, 60))
        # preferential-ish attachment: later nodes pick any earlier node, biased to recent ones
        parent = np.array([-1] + [int(rng.integers(max(0, i - 8), i)) for i in range(1, n)])
        ids = [f"t{t}_{i}" for i in range(n)]
        frames.append(pl.DataFrame({
            "root_post_id": [ids[0]] * n, "post_id": ids,
            "parent_post_id": [ids[p] if p >= 0 else None for p in parent], "depth": depths(parent),
        }, schema_overrides={"parent_post_id": pl.String}))
        expected[ids[0]] = mean_pairwise_distance(parent) if n > 1 else None
    nodes = pl.concat(frames).sample(fraction=1.0, shuffle=True, seed=1)  # order must not matter
    got = dict(cascade_virality(nodes).iter_rows())
    assert set(got) == set(expected)
    for root, want in expected.items():
        assert got[root] == (None if want is None else pytest.approx(want)), root


def test_parent_outside_the_set_counts_as_root():
    idx = parent_indices(pl.Series(["a", "b", "c"]), pl.Series(["x", "a", None], dtype=pl.String))
    assert idx.tolist() == [-1, 0, -1]
