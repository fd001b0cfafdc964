"""Decode any media file to mono 16-bit PCM in-process (PyAV, FFmpeg's libraries), once, so every
measurement shares it.

Chromaprint works on 11025 Hz mono; decoding (not fingerprinting) is the expensive step, so callers decode
once and reuse the samples. In-process instead of one `ffmpeg` child per file: the CLI's start-up alone cost
~60 ms per file, more than decoding a 30 s clip (docs/matching.md, `make bench`). Failures become a
`DecodeError` with a stable `rule` the data contract can act on.

Partial decodes: like the ffmpeg CLI we skip damaged packets and stop where the demuxer gives up (a
byte-truncated mp3/ogg/flac still yields the audio before the cut). Whenever samples came out we keep them and
do not raise: the decoded duration tells the contract how much survived, and it can compare that with the
platform's declared duration. Two things are errors: no samples at all, and a file whose own header states its
length exactly (FLAC, MP4/M4A/MOV: `HEADER_LENGTH_FORMATS`) but whose audio stops well short of it
(`truncated`): that file was cut short on our side, e.g. by a copy that ran out of disk, and must not pass for the
whole post. mp3, Ogg, WebM and WAV lengths are estimated or clamped to the file, so a cut there stays a partial
decode.
"""

from __future__ import annotations

import time
from pathlib import Path

import av
import av.error
import av.filter
import numpy as np

SAMPLE_RATE = 11025
DECODE_RULES = ("not_found", "no_audio_stream", "undecodable", "timeout", "empty", "truncated")
# Containers whose header states the audio's exact length (FLAC STREAMINFO, the MP4/MOV track header). FFmpeg clamps
# a WAV's declared data size to the file's, and estimates mp3/Ogg lengths, so those cannot tell a cut file.
HEADER_LENGTH_FORMATS = frozenset({"flac", "mov", "mp4", "m4a"})
# A decode ending this far before that length means the file was cut: max(TRUNCATED_MIN_S, TRUNCATED_FRACTION x it).
TRUNCATED_MIN_S = 1.0
TRUNCATED_FRACTION = 0.05

# libchromaprint's own resampler settings (filter length 16, 2^10 phases, no interpolation, cutoff 0.8,
# Kaiser beta 9), which is what fpcalc applies after decoding at the native rate. With FFmpeg's default
# resampler, fingerprints differed from fpcalc by single bits in ~1 item of 60 (speech at 22.05 kHz, stereo);
# with these, item-for-item identical on the test media; on the demo world 19 of 14,730 items differ by a bit
# (FFmpeg 8 decoders in PyAV vs fpcalc's FFmpeg 5.1).
# Downmix and resample work on s16 samples like it (FFmpeg >= 6 would pick float internally unless told).
CHROMAPRINT_RESAMPLER = (
    "filter_size=16:phase_shift=10:linear_interp=0:cutoff=0.8:filter_type=kaiser:kaiser_beta=9:internal_sample_fmt=s16p"
)
# Decoded frames are pushed through the filter graph in blocks of about this much audio: one push per
# 1024-sample codec frame made Python overhead (with the GIL held) ~25 % of the decode; a whole file at once
# would hold a 20-minute 48 kHz stereo file in memory as floats (~0.5 GB).
BLOCK_SECONDS = 10.0
_DRAINED = (av.error.BlockingIOError, av.error.EOFError)


class DecodeError(Exception):
    """A file that yielded no audio; `rule` is one of DECODE_RULES, `message` names file and cause."""

    rule: str
    message: str

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message

    def __reduce__(self) -> tuple[type[DecodeError], tuple[str, str]]:
        # Exceptions with custom __init__ args must say how to rebuild themselves across process pools.
        return (DecodeError, (self.rule, self.message))


def ffmpeg_input_arg(path: Path) -> str:
    """The URL FFmpeg opens for a local file: absolute and `file:`-prefixed, so names starting with '-' or
    containing ':' are never read as options or protocols."""
    return f"file:{Path(path).absolute()}"


class _MonoResampler:
    """Downmix to s16 mono and resample to `rate` with FFmpeg's filter graph (aformat → aresample), fed in
    blocks; a stream whose format, rate or layout changes midway gets a fresh graph for the new part."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.graph: av.filter.Graph | None = None
        self.key: tuple[str, int, str] | None = None
        self.pending: list[np.ndarray] = []
        self.pending_samples = 0
        self.pts = 0
        self.out: list[np.ndarray] = []
        self.seconds_in = 0.0

    def add(self, frame: av.AudioFrame) -> None:
        key = (frame.format.name, frame.sample_rate, frame.layout.name)
        if key != self.key:
            self._push_pending()
            self._close_graph()
            self.key = key
        self.pending.append(frame.to_ndarray())
        self.pending_samples += frame.samples
        self.seconds_in += frame.samples / frame.sample_rate
        if self.pending_samples >= BLOCK_SECONDS * frame.sample_rate:
            self._push_pending()

    def finish(self) -> np.ndarray:
        self._push_pending()
        self._close_graph()
        return np.concatenate(self.out) if self.out else np.zeros(0, dtype=np.int16)

    def _push_pending(self) -> None:
        if not self.pending or self.key is None:
            return
        fmt, rate, layout = self.key
        block = av.AudioFrame.from_ndarray(np.concatenate(self.pending, axis=1), format=fmt, layout=layout)
        block.sample_rate, block.pts = rate, self.pts
        self.pts += self.pending_samples
        self.pending, self.pending_samples = [], 0
        if self.graph is None:
            self.graph = av.filter.Graph()
            nodes = (
                self.graph.add_abuffer(format=fmt, sample_rate=rate, layout=layout),
                self.graph.add("aformat", "sample_fmts=s16:channel_layouts=mono"),
                self.graph.add("aresample", f"{self.rate}:{CHROMAPRINT_RESAMPLER}"),
                self.graph.add("abuffersink"),
            )
            self.graph.link_nodes(*nodes).configure()
        self.graph.push(block)
        self._drain()

    def _close_graph(self) -> None:
        if self.graph is not None:
            self.graph.push(None)
            self._drain()
        self.graph, self.pts = None, 0

    def _drain(self) -> None:
        assert self.graph is not None
        while True:
            try:
                frame = self.graph.pull()
            except _DRAINED:
                return
            self.out.append(frame.to_ndarray().reshape(-1))


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def decode_pcm(
    path: Path,
    sample_rate: int = SAMPLE_RATE,
    max_seconds: float | None = None,
    timeout_s: float = 300.0,
) -> np.ndarray:
    """Decode the first audio stream of `path` to int16 mono samples at `sample_rate`.

    `max_seconds` caps the decoded length, bounding time and memory on very long files. `timeout_s` is
    checked between packets (a single packet never takes long). Raises DecodeError, never returns an empty
    array.
    """
    path = Path(path)
    if not path.is_file():
        raise DecodeError("not_found", f"{path}: no such file")
    deadline = time.monotonic() + timeout_s
    try:
        container = av.open(ffmpeg_input_arg(path), metadata_errors="ignore")
    except av.error.FileNotFoundError as exc:
        raise DecodeError("not_found", f"{path}: {_why(exc)}") from exc
    except (av.error.FFmpegError, OSError) as exc:
        raise DecodeError("undecodable", f"{path}: cannot open as media ({_why(exc)})") from exc
    with container:
        audio = container.streams.audio
        if not audio:
            raise DecodeError("no_audio_stream", f"{path}: the file has no audio stream")
        stated = _header_length_s(container, audio[0])
        resampler = _MonoResampler(int(sample_rate))
        damaged, last_error = 0, ""
        try:
            for packet in container.demux(audio[0]):
                if time.monotonic() > deadline:
                    raise DecodeError("timeout", f"{path}: decoding did not finish within {timeout_s:g} s")
                try:
                    frames = packet.decode()
                except av.error.FFmpegError as exc:  # a damaged packet: skip it, as the ffmpeg CLI does
                    damaged, last_error = damaged + 1, _why(exc)
                    continue
                for frame in frames:
                    resampler.add(frame)
                if max_seconds is not None and resampler.seconds_in > max_seconds + 1.0:
                    break
        except av.error.FFmpegError as exc:  # the demuxer gave up (a truncated container): keep what decoded
            last_error = _why(exc)
        try:
            pcm = resampler.finish()
        except (av.error.FFmpegError, ValueError) as exc:
            raise DecodeError("undecodable", f"{path}: cannot convert the decoded audio ({_why(exc)})") from exc
    if max_seconds is not None:
        pcm = pcm[: round(max_seconds * sample_rate)]
    if pcm.size:
        got = pcm.size / sample_rate
        if stated is not None and (max_seconds is None or stated <= max_seconds) and \
                stated - got > max(TRUNCATED_MIN_S, TRUNCATED_FRACTION * stated):
            raise DecodeError("truncated", f"{path}: cut short: its audio ends at {got:.1f} s of the {stated:.1f} s "
                                           "its header states (an unfinished copy? complete it and rerun the day)")
        return pcm  # possibly partial (see module docstring)
    if damaged or last_error:
        said = f"{damaged} damaged packets; " if damaged else ""
        raise DecodeError("undecodable", f"{path}: no audio decoded ({said}{last_error or 'no message'})")
    raise DecodeError("empty", f"{path}: the audio stream decoded to zero samples")


def _header_length_s(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    """The audio length the header of a HEADER_LENGTH_FORMATS container states, None for other containers."""
    if not HEADER_LENGTH_FORMATS & set(container.format.name.split(",")):
        return None
    if stream.duration is None or stream.time_base is None or stream.duration <= 0:
        return None
    return float(stream.duration * stream.time_base)


def declared_duration_s(path: Path) -> float | None:
    """The duration the container declares for the first audio stream (else for the whole file), in
    seconds, without decoding; None when it declares none or cannot be opened.

    Used when decoding stopped at its cap: the decoded length is then only a lower bound."""
    try:
        with av.open(ffmpeg_input_arg(Path(path)), metadata_errors="ignore") as container:
            audio = container.streams.audio
            if audio and audio[0].duration is not None and audio[0].time_base is not None:
                return float(audio[0].duration * audio[0].time_base)
            if container.duration is not None:
                return container.duration / 1_000_000  # AV_TIME_BASE
    except (av.error.FFmpegError, OSError):
        return None
    return None
