"""Verification of a candidate alignment: bit error rate (BER) along it, and the spans where it holds.

Offset voting only says "these two fingerprints share a few exact keys at this shift"; this module decides
whether they really carry the same audio there, item by item, and where (which part of the query matches
which part of the reference). Numbers come from /work/shared/notes/stack.md: the same audio re-encoded has
BER <= ~0.07, unrelated music 0.27-0.32 with a minimum of ~0.16 over 16-item windows.
"""

from __future__ import annotations

import numpy as np

from pipelines.matching.types import Span

ITEM_S = 1365 / 11025  # one Chromaprint item per 1365 samples at 11025 Hz (~0.124 s)
ITEM_CONTEXT_S = 2.76  # audio one item summarises (why clips under ~2.8 s give no items)
WINDOW = 16  # items per BER window (~2 s)
WINDOW_BER = 0.15  # a window below this is "same audio" (unrelated music stays above ~0.16)
SPAN_BER = 0.12  # the whole span must be clearly better than chance, not just its best window
MIN_SPAN_ITEMS = 16  # shortest span accepted (~2 s of items, ~4.7 s of audio)
MIN_DIVERSITY = 0.35  # distinct items / items in a span; silence or a constant tone is ~0


def item_ber(query: np.ndarray, ref: np.ndarray, offset: int) -> tuple[int, np.ndarray]:
    """(first query index of the overlap, BER of every overlapping item pair) at `offset`."""
    q0 = max(0, -offset)
    q1 = min(query.size, ref.size - offset)
    if q1 <= q0:
        return q0, np.zeros(0, dtype=np.float32)
    x = np.bitwise_xor(query[q0:q1], ref[q0 + offset : q1 + offset])
    return q0, np.bitwise_count(x).astype(np.float32) / 32.0


def diversity(items: np.ndarray) -> float:
    """Share of distinct values: ~1 for music, ~0 for silence, a drone or a short loop repeated."""
    return float(np.unique(items).size) / items.size if items.size else 0.0


def spans(query: np.ndarray, ref: np.ndarray, offset: int, *, window: int = WINDOW,
          window_ber: float = WINDOW_BER, span_ber: float = SPAN_BER, min_items: int = MIN_SPAN_ITEMS,
          min_diversity: float = MIN_DIVERSITY) -> list[Span]:
    """Maximal runs of query items covered by a window whose mean BER is below `window_ber`.

    A run is kept when it is long enough, its own mean BER is below `span_ber`, and both sides are diverse
    (a low-diversity fingerprint such as silence matches any other silence and must not glue sounds).
    """
    q0, ber = item_ber(query, ref, offset)
    n = ber.size
    if n < min(window, min_items):
        return []
    w = min(window, n)
    csum = np.concatenate(([0.0], np.cumsum(ber, dtype=np.float64)))
    win_mean = (csum[w:] - csum[:-w]) / w  # window starting at each item
    good = win_mean < window_ber
    # item covered by any good window: difference array over [s, s + w)
    cover = np.zeros(n + 1, dtype=np.int32)
    starts = np.flatnonzero(good)
    np.add.at(cover, starts, 1)
    np.add.at(cover, starts + w, -1)
    covered = np.cumsum(cover[:-1]) > 0
    if not covered.any():
        return []
    edges = np.diff(np.concatenate(([0], covered.astype(np.int8), [0])))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    out: list[Span] = []
    for s, e in zip(run_starts.tolist(), run_ends.tolist(), strict=False):
        if e - s < min_items:
            continue
        mean = float((csum[e] - csum[s]) / (e - s))
        if mean >= span_ber:
            continue
        qs, qe = q0 + s, q0 + e
        if diversity(query[qs:qe]) < min_diversity or diversity(ref[qs + offset : qe + offset]) < min_diversity:
            continue
        out.append(Span(qs, qe, offset, mean))
    return out


def item_span_seconds(start: int, end: int) -> tuple[float, float]:
    """Audio time covered by items [start, end): from the first item's start to the last item's end."""
    return start * ITEM_S, (end - 1) * ITEM_S + ITEM_CONTEXT_S
