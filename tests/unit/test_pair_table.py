"""Votes against many references at once (pipelines/matching/pair_table.py: the resampling-factor scan, the weak
step's recent sounds) must be each reference's own votes (speed_estimate._votes, one reference at a time), or the
scan would pick other factors and the weak step other sounds. Checked on the landmark pairs of a real encoded and
decoded file (tests/integration/test_match_edits.py has the copies the scan finds)."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.audio.decode import decode_pcm
from pipelines.audio.peaks import peaks
from pipelines.matching import speed_estimate
from pipelines.matching.landmarks import pair_hashes, scaled_pair_hashes
from pipelines.matching.pair_table import PairTable
from tests.support import media


@pytest.fixture(scope="module")
def peaks_of_a_song(tmp_path_factory) -> tuple[np.ndarray, np.ndarray]:
    song = media.encode(media.tone_music(tmp_path_factory.mktemp("scan") / "song.wav", 30.0, seed=9),
                        tmp_path_factory.mktemp("scan") / "song.m4a")
    return peaks(decode_pcm(song))


def _refs(frames: np.ndarray, bins: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The song itself, parts of it, and its peaks shuffled into chance audio: pairs as the index stores them."""
    rng = np.random.default_rng(5)
    parts = [(frames, bins), (frames[frames > 400] - 400, bins[frames > 400]), (frames[: frames.size // 3],
             bins[: frames.size // 3])]
    parts += [(np.sort(rng.permutation(frames)), rng.permutation(bins)) for _ in range(5)]
    return [speed_estimate._sorted_ref(*pair_hashes(f.astype(np.int32), b.astype(np.int32))) for f, b in parts]


@pytest.mark.parametrize("factor", [1.0, 0.83, 1.015, 1.31])
@pytest.mark.parametrize("tol", [1, speed_estimate.RESAMPLED_TOL])
def test_votes_against_all_named_audios_at_once_are_each_audios_own(peaks_of_a_song, factor, tol):
    frames, bins = peaks_of_a_song
    refs = _refs(frames, bins)
    qh, qt = scaled_pair_hashes(frames[frames < 300], bins[frames < 300], factor, factor)
    table = PairTable.of(refs)
    alone = [speed_estimate._votes(qh, qt, ref, tol) for ref in refs]
    assert table.best_votes(qh, qt, tol).tolist() == alone
    voted, votes = table.sparse_best_votes(qh, qt, tol)  # the references with hits only
    assert dict(zip(voted.tolist(), votes.tolist(), strict=True)) == {i: v for i, v in enumerate(alone) if v}
    assert max(alone) > 0  # the song's own pairs vote (at 1.0 all of them): the comparison is not of zeros


def test_no_pair_in_common_gives_no_votes(peaks_of_a_song):
    frames, bins = peaks_of_a_song
    refs = _refs(frames, bins)
    qh = np.zeros(0, np.uint32)
    table = PairTable.of(refs)
    assert table.best_votes(qh, np.zeros(0, np.int32), 4).tolist() == [0] * len(refs)
    assert [a.size for a in table.sparse_best_votes(qh, np.zeros(0, np.int32), 4)] == [0, 0]
