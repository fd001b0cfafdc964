"""Raw Chromaprint fingerprints computed in-process from already decoded PCM.

In-process (libchromaprint through pyacoustid's ctypes binding) instead of `fpcalc`: no second decode, and
Debian's fpcalc exits with code 3 on every file. The result is item-for-item identical to `fpcalc -raw`
when the PCM comes from `decode_pcm` at 11025 Hz (checked by the tests).
"""

from __future__ import annotations

import chromaprint as _cp
import numpy as np

from pipelines.audio.decode import SAMPLE_RATE

ALGORITHM = "chromaprint-2"  # Chromaprint's default algorithm (TEST2), as stored in our tables
_ALGORITHM_ID = _cp.Fingerprinter.ALGORITHM_TEST2


def raw_fingerprint(pcm: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The uncompressed fingerprint of int16 mono `pcm` as uint32 items (~8 per second after the first ~2.6 s).

    `sample_rate` is what Chromaprint is told; declaring a rate other than the decode rate replays the audio
    faster or slower (how speed-changed uploads are corrected without decoding again). Clips too short to
    produce an item give an empty array.
    """
    if pcm.dtype != np.int16 or pcm.ndim != 1:
        raise TypeError(f"pcm must be a 1-D int16 array, got {pcm.ndim}-D {pcm.dtype}")
    fingerprinter = _cp.Fingerprinter(_ALGORITHM_ID)
    fingerprinter.start(int(sample_rate), 1)
    fingerprinter.feed(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
    encoded = fingerprinter.finish()
    if not encoded:
        return np.zeros(0, dtype=np.uint32)
    items, algorithm = _cp.decode_fingerprint(encoded)
    if algorithm != _ALGORITHM_ID:
        raise RuntimeError(f"libchromaprint produced algorithm {algorithm}, expected {_ALGORITHM_ID}")
    # The binding returns Python ints read through c_uint32 (already unsigned); masking makes the dtype
    # conversion safe even if a binding version hands back signed values.
    return (np.asarray(items, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint32)
