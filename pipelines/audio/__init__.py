"""Audio measurement: decode once with ffmpeg, then hash, levels and raw Chromaprint from the same PCM."""

from pipelines.audio.analysis import (
    MAX_DECODE_SECONDS,
    AudioAnalysis,
    analyse_file,
    analyse_files,
    file_sha256,
)
from pipelines.audio.chromaprint import ALGORITHM, raw_fingerprint
from pipelines.audio.decode import SAMPLE_RATE, DecodeError, decode_pcm

__all__ = [
    "ALGORITHM",
    "MAX_DECODE_SECONDS",
    "SAMPLE_RATE",
    "AudioAnalysis",
    "DecodeError",
    "analyse_file",
    "analyse_files",
    "decode_pcm",
    "file_sha256",
    "raw_fingerprint",
]
