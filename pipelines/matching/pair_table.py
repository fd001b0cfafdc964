"""Several references' landmark pairs in one table, looked up by pair hash without a search (pure numpy).

A query is often voted against many references at once: the resampling-factor scan does it against the audios its
presets named, at each of ~51 factors (speed_estimate.resampled_matches); the weak step against the sounds heard
recently (recent.py). Binary-searching each reference apart cost more than the votes. Here the pairs of all of
them are sorted by hash once, with the start of each hash's run in a 2^21-entry table, so a query pair's matches
in every reference are one slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HASH_SPACE = 1 << 21  # pair hashes: bin (8 bits) | df+64 (7) | dt (6) (pipelines/matching/landmarks.py)


@dataclass(frozen=True)
class PairTable:
    """Every pair of references 0..n_refs-1, sorted by hash: `starts[h]:starts[h + 1]` are hash h's pairs,
    with their anchor `frames` and the reference they belong to (`which`)."""

    starts: np.ndarray
    frames: np.ndarray
    which: np.ndarray
    n_refs: int

    @classmethod
    def of(cls, refs: list[tuple[np.ndarray, np.ndarray]], space: int = HASH_SPACE) -> PairTable:
        """The table of references given as (hashes, anchor frames) each, hashes below `space` (any small key
        works: presence.peak_alignment keys single peaks by their bin)."""
        h = np.concatenate([rh for rh, _ in refs]) if refs else np.zeros(0, np.uint32)
        order = np.argsort(h, kind="stable")
        t = np.concatenate([np.asarray(rt, np.int64) for _, rt in refs]) if refs else np.zeros(0, np.int64)
        which = np.repeat(np.arange(len(refs), dtype=np.int64), [rh.size for rh, _ in refs])
        starts = np.zeros(space + 1, np.int64)
        np.cumsum(np.bincount(h.astype(np.int64), minlength=space), out=starts[1:])
        return cls(starts, t[order], which[order], len(refs))

    def hits(self, qh: np.ndarray, qt: np.ndarray, with_frames: bool = False) -> tuple[np.ndarray, ...]:
        """(reference, offset = reference frame - query frame) of every hash match of the query pairs, and (with
        `with_frames`) the query frame of each."""
        lo = self.starts[qh]
        k = self.starts[qh.astype(np.int64) + 1] - lo
        total = int(k.sum())
        if total == 0:
            return tuple(np.zeros(0, np.int64) for _ in range(3 if with_frames else 2))
        first = np.repeat(lo - (np.cumsum(k) - k), k) + np.arange(total)
        at = np.repeat(qt.astype(np.int64), k)
        return (self.which[first], self.frames[first] - at, at) if with_frames else \
            (self.which[first], self.frames[first] - at)

    def best_votes(self, qh: np.ndarray, qt: np.ndarray, tol: int) -> np.ndarray:
        """Per reference: the votes of its best offset, counting offsets within +-`tol` frames together."""
        which, offs = self.hits(qh, qt)
        if which.size == 0:
            return np.zeros(self.n_refs, np.int64)
        low = int(offs.min())
        width = int(offs.max()) - low + 2 * tol + 1  # tol empty cells either side: a window never leaves its row
        counts = np.bincount(which * width + (offs - low + tol), minlength=self.n_refs * width)
        sums = np.concatenate([np.zeros((self.n_refs, 1), np.int64),
                               np.cumsum(counts.reshape(self.n_refs, width), axis=1)], axis=1)
        return (sums[:, 2 * tol + 1:] - sums[:, :-(2 * tol + 1)]).max(axis=1)

    def sparse_best_votes(self, qh: np.ndarray, qt: np.ndarray, tol: int) -> tuple[np.ndarray, np.ndarray]:
        """(references with any hit, their best votes as `best_votes`), for many references: counted over the
        (reference, offset) cells that have hits, not a dense row per reference."""
        which, offs = self.hits(qh, qt)
        if which.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        low = int(offs.min())
        cell = (which << 32) | (offs - low)
        keys, counts = np.unique(cell, return_counts=True)
        csum = np.concatenate([[0], np.cumsum(counts)])
        # the votes of the window of 2 tol + 1 offsets starting at each cell with hits: the best window can be moved
        # right until it starts at its first hit cell without losing a hit, so it is one of these
        votes = csum[np.searchsorted(keys, keys + 2 * tol, "right")] - csum[np.arange(keys.size)]
        refs = keys >> 32
        starts = np.flatnonzero(np.concatenate([[True], refs[1:] != refs[:-1]]))
        return refs[starts], np.maximum.reduceat(votes, starts)
