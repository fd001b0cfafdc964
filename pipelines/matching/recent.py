"""The sounds heard most in the last days, named by pair-hash votes: the weak step's second way to a candidate.

A voice 6 dB over the music hides most of the music's spectral peaks. The few left still pair into hashes that
align at the true offset (8-19 votes there against 2-5 at any other, on the real-music bench), but seldom into two
aligned triplet keys, so the triplet lookup (store.named_candidates) does not name the sound. Voting pair hashes
over the whole index would cost in proportion to it (a 21-bit hash has ~20 postings per 10k sounds). So the vote
runs against the RECENT_SOUNDS sounds heard in the most posts over the last RECENT_DAYS ingest days
(sql/match_sounds/recent_audio.sql): a post whose music is drowned by a voice most likely plays a sound that is
trending now, and the cost is bounded by that list, not by the index. What this names only becomes a seed for the
weak step's own voting and the peak-presence test (engine.weak_presence_matches), which decide as before.

Where even fewer pairs survive (8-14 on the bench), the recent audios with the most pair votes are aligned by
single peaks instead (presence.peak_alignment: a peak survives alone, a pair needs two), and an alignment that
stands out from its own runner-up becomes a seed spanning the whole overlap, which the peak-presence test cuts to
where it hears the sound (`RecentSounds.candidates`, presence.present_part).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.audio.peaks import FRAME_S
from pipelines.matching.pair_table import PairTable
from pipelines.matching.presence import peak_alignment
from pipelines.matching.types import Match, Query
from pipelines.matching.vote import MIN_LM_VOTES_WEAK, TRIPLET_TOL

RECENT_DAYS = 14
RECENT_SOUNDS = 500
TOP_REFS = 4  # audios named per query, best votes first
PEAK_TOP_REFS = 4  # audios per query aligned by single peaks: the most pair votes first, however few
PEAK_MIN_VOTES = 20  # single peaks aligned at the best offset (+-1 frame): 28-200 for a sound under a loud voice
PEAK_MIN_RATIO = 1.6  # and that many times the same two audios' best other offset: chance <= 1.4, true >= 1.5


class RecentSounds:
    """The landmark pairs and spectral peaks of the recent sounds' indexed audio."""

    def __init__(self, pairs: dict[int, tuple[np.ndarray, np.ndarray]],
                 peaks: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        """`pairs`: audio id -> (pair hashes, anchor frames); `peaks`: audio id -> (frames, bins): seeds."""
        self.audio_ids = sorted(pairs)
        self.pairs = pairs
        self.peaks = peaks or {}
        self.table = PairTable.of([pairs[a] for a in self.audio_ids])

    def _votes(self, q: Query) -> tuple[np.ndarray, np.ndarray]:
        """(audio ids, best pair votes) of the recent audios aligning with the query as posted, most votes first
        (then audio id)."""
        qh, qt = q.marks
        refs, votes = self.table.sparse_best_votes(qh, qt, TRIPLET_TOL)
        ids = np.asarray(self.audio_ids, np.int64)[refs]
        order = np.lexsort((ids, -votes))
        return ids[order], votes[order]

    def named(self, queries: list[Query]) -> dict[int, list[int]]:
        """Per query: the recent audios whose pairs align with its pairs as posted at one offset (+-TRIPLET_TOL
        frames) MIN_LM_VOTES_WEAK times or more, at most TOP_REFS, most votes first (then audio id)."""
        return self.candidates(queries)[0]

    def candidates(self, queries: list[Query],
                   since_audio_id: int = 0) -> tuple[dict[int, list[int]], dict[int, list[Match]]]:
        """(`named` of the queries, their peak seeds), from one pair vote per query. The seeds: as-posted
        alignments with the PEAK_TOP_REFS recent audios (from id `since_audio_id` on) of most pair votes, by single
        peaks (presence.peak_alignment), where PEAK_MIN_VOTES peaks align and PEAK_MIN_RATIO times the runner-up;
        each spans the whole overlap of the two audios (the peak-presence test then cuts it to where the sound
        plays: presence.present_part)."""
        named: dict[int, list[int]] = {}
        seeds: dict[int, list[Match]] = {}
        if not self.audio_ids:
            return named, seeds
        for q in queries:
            ids, votes = self._votes(q)
            keep = ids[votes >= MIN_LM_VOTES_WEAK][:TOP_REFS]
            if keep.size:
                named[q.qid] = [int(a) for a in keep]
            if q.peak_frames.size == 0:
                continue
            for audio_id in [int(a) for a in ids if a >= since_audio_id and int(a) in self.peaks][:PEAK_TOP_REFS]:
                seed = self._peak_seed(q, audio_id)
                if seed is not None:
                    seeds.setdefault(q.qid, []).append(seed)
        return named, seeds

    def _peak_seed(self, q: Query, audio_id: int) -> Match | None:
        """The single-peak alignment of `q` with one recent audio as a seed over their whole overlap, or None."""
        r_frames, r_bins = self.peaks[audio_id]
        votes, runner_up, off = peak_alignment(q.peak_frames, q.peak_bins, r_frames, r_bins)
        if votes < PEAK_MIN_VOTES or votes < PEAK_MIN_RATIO * runner_up:
            return None
        start = max(0, -off)  # post frames where both play
        end = min(q.duration_s / FRAME_S, float(r_frames.max()) + 1 - off)
        if end <= start:
            return None
        inside = int(np.count_nonzero((q.peak_frames >= start) & (q.peak_frames < end))) or 1
        ps, pe = start * FRAME_S, end * FRAME_S
        return Match(q.qid, audio_id, ps, pe, ps + off * FRAME_S, pe + off * FRAME_S, 1.0, 1.0,
                     min(1.0, votes / inside), "landmarks")

    def rows(self, audio_ids: list[int]) -> pl.DataFrame:
        """`lm_index(hash, audio_id, t)` rows of these audios, as store.named_candidates returns them."""
        return pl.DataFrame(
            {"hash": np.concatenate([self.pairs[a][0] for a in audio_ids]).astype(np.uint32),
             "audio_id": np.repeat(np.asarray(audio_ids, np.int32), [self.pairs[a][0].size for a in audio_ids]),
             "t": np.concatenate([self.pairs[a][1] for a in audio_ids]).astype(np.int32)},
            schema={"hash": pl.UInt32, "audio_id": pl.Int32, "t": pl.Int32})
