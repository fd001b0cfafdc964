"""Which of a day's files an earlier file of the same day already plays as posted (pure numpy): the first pass's
reason to leave a file's speed steps to the second pass.

The first pass (engine.match_against_index, the mapped shards) hears the index as it was before the day only. A
reuse of a sound that first appeared earlier the same day is unexplained there, so it went through every speed
step (27 presets keyed and voted, measured factors, the factor scan, the weak step) against an index that cannot
explain it; the second pass then heard it as posted against that earlier file in a fraction of the time. On the
demo world's busiest day that was 26 of the 60 files that took the speed steps (issue 17). Here the day's files
before a shard's end are put in one PairTable, and a file whose pairs align with an earlier file's at one offset
MIN_LM_VOTES times (what a landmark match needs to verify), over windows that cover it as a primary sound must
(resolve.PRIMARY_COVERAGE of it, or all but MAX_UNCOVERED_S), is *deferred*: the second pass runs its speed
steps, against the whole index and the day, only if it is still unexplained after hearing the day as posted.
Votes alone do not tell: a stitch or a duet of an earlier post aligns with it hundreds of times over its first
seconds, and is a new sound (measured on that day: 18 of 27 files deferred by votes alone).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.matching.landmarks import FRAME_S, pair_hashes
from pipelines.matching.pair_table import PairTable
from pipelines.matching.resolve import MAX_UNCOVERED_S, PRIMARY_COVERAGE
from pipelines.matching.types import Query
from pipelines.matching.vote import MIN_LM_VOTES, TRIPLET_TOL

WINDOW_S = 1.0  # a window counts as covered when an aligned pair starts in it
TOP_REFS = 4


class EarlierFiles:
    """The as-posted landmark pairs of the day's files at positions 0..n-1 (store.day_audio order)."""

    def __init__(self, audio: pl.DataFrame) -> None:
        """`audio`: the day's audio rows (store.day_audio) from position 0, at least up to the last file asked
        about."""
        pairs = [pair_hashes(np.asarray(f or [], np.int32), np.asarray(b or [], np.int32))
                 for f, b in zip(audio["peak_frames"].to_list(), audio["peak_bins"].to_list(), strict=True)]
        self.table = PairTable.of(pairs)

    def heard(self, q: Query) -> bool:
        """Whether a file before `q` in the day (position < q.qid) aligns with it as posted MIN_LM_VOTES times at
        one offset (+-TRIPLET_TOL frames), with aligned pairs in enough of its WINDOW_S windows to cover it as
        is_primary asks (the TOP_REFS earlier files of most votes are looked at)."""
        qh, qt = q.marks
        if qh.size == 0 or q.qid == 0:
            return False
        refs, votes = self.table.sparse_best_votes(qh, qt, TRIPLET_TOL)
        keep = (refs < q.qid) & (votes >= MIN_LM_VOTES)
        if not keep.any():
            return False
        which, offs, frames = self.table.hits(qh, qt, with_frames=True)
        window = WINDOW_S / FRAME_S
        n_windows = max(1, int(np.ceil(q.duration_s / WINDOW_S)))
        need = min(PRIMARY_COVERAGE * n_windows, n_windows - MAX_UNCOVERED_S / WINDOW_S)
        for ref in refs[keep][np.argsort(-votes[keep], kind="stable")][:TOP_REFS]:
            mine = which == ref
            off, at = offs[mine], frames[mine]
            low = int(off.min())
            counts = np.bincount(off - low)
            sums = np.convolve(counts, np.ones(2 * TRIPLET_TOL + 1, np.int64), "same")
            best = int(np.argmax(sums)) + low
            aligned = at[np.abs(off - best) <= TRIPLET_TOL]
            if np.unique((aligned // window).astype(np.int64)).size >= need:
                return True
        return False
