"""The sounds heard most in the last days, named by pair-hash votes: the weak step's second way to a candidate.

A voice 6 dB over the music hides most of the music's spectral peaks. The few left still pair into hashes that
align at the true offset (8-19 votes there against 2-5 at any other, on the real-music bench), but seldom into two
aligned triplet keys, so the triplet lookup (store.named_candidates) does not name the sound. Voting pair hashes
over the whole index would cost in proportion to it (a 21-bit hash has ~20 postings per 10k sounds). So the vote
runs against the RECENT_SOUNDS sounds heard in the most posts over the last RECENT_DAYS ingest days
(sql/match_sounds/recent_audio.sql): a post whose music is drowned by a voice most likely plays a sound that is
trending now, and the cost is bounded by that list, not by the index. What this names only becomes a seed for the
weak step's own voting and the peak-presence test (engine.weak_presence_matches), which decide as before.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.matching.pair_table import PairTable
from pipelines.matching.types import Query
from pipelines.matching.vote import MIN_LM_VOTES_WEAK, TRIPLET_TOL

RECENT_DAYS = 14
RECENT_SOUNDS = 500
TOP_REFS = 4  # audios named per query, best votes first


class RecentSounds:
    """The pairs of the recent sounds' indexed audio (`pairs`: audio id -> (hashes, anchor frames))."""

    def __init__(self, pairs: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        self.audio_ids = sorted(pairs)
        self.pairs = pairs
        self.table = PairTable.of([pairs[a] for a in self.audio_ids])

    def named(self, queries: list[Query]) -> dict[int, list[int]]:
        """Per query: the recent audios whose pairs align with its pairs as posted at one offset (+-TRIPLET_TOL
        frames) MIN_LM_VOTES_WEAK times or more, at most TOP_REFS, most votes first (then audio id)."""
        out: dict[int, list[int]] = {}
        if not self.audio_ids:
            return out
        for q in queries:
            qh, qt = q.marks
            refs, votes = self.table.sparse_best_votes(qh, qt, TRIPLET_TOL)
            keep = votes >= MIN_LM_VOTES_WEAK
            if keep.any():
                ids = np.asarray(self.audio_ids, np.int64)[refs[keep]]
                order = np.lexsort((ids, -votes[keep]))[:TOP_REFS]
                out[q.qid] = [int(a) for a in ids[order]]
        return out

    def rows(self, audio_ids: list[int]) -> pl.DataFrame:
        """`lm_index(hash, audio_id, t)` rows of these audios, as store.named_candidates returns them."""
        return pl.DataFrame(
            {"hash": np.concatenate([self.pairs[a][0] for a in audio_ids]).astype(np.uint32),
             "audio_id": np.repeat(np.asarray(audio_ids, np.int32), [self.pairs[a][0].size for a in audio_ids]),
             "t": np.concatenate([self.pairs[a][1] for a in audio_ids]).astype(np.int32)},
            schema={"hash": pl.UInt32, "audio_id": pl.Int32, "t": pl.Int32})
