"""Put real decoded audio into a real sound index, the way match_sounds does: fingerprint rows, spectral
peaks and the real match_index_add SQL, in one transaction."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import polars as pl

from pipelines import warehouse
from pipelines.audio.chromaprint import raw_fingerprint
from pipelines.audio.decode import SAMPLE_RATE
from pipelines.audio.peaks import PEAKS_ALGORITHM, peaks
from pipelines.matching import store
from pipelines.matching.types import NewIndexAudio, Via


def index_songs(con: duckdb.DuckDBPyConnection, songs: dict[str, np.ndarray], first_id: int, day: date,
                copies: dict[str, tuple[str, Via]] | None = None) -> None:
    """Index each PCM in `songs` (name -> int16 mono at SAMPLE_RATE) as the sound 'snd-<name>', or, for a name
    in `copies`, as a copy of the sound given there, playing it as its Via says."""
    copies = copies or {}
    fps = {name: raw_fingerprint(pcm) for name, pcm in songs.items()}
    found = {name: peaks(pcm) for name, pcm in songs.items()}
    created = [datetime(day.year, day.month, day.day)] * len(songs)
    fingerprints = pl.DataFrame(
        {"audio_sha256": list(songs), "duration_s": [pcm.size / SAMPLE_RATE for pcm in songs.values()],
         "fingerprint": [fp.tolist() for fp in fps.values()], "algorithm": ["chromaprint-2"] * len(songs),
         "created_at": created},
        schema={"audio_sha256": pl.String, "duration_s": pl.Float64, "fingerprint": pl.List(pl.UInt32),
                "algorithm": pl.String, "created_at": pl.Datetime("us")},
    )
    new_peaks = pl.DataFrame(
        {"audio_sha256": list(songs), "frames": [t.tolist() for t, _ in found.values()],
         "bins": [f.tolist() for _, f in found.values()], "algorithm": [PEAKS_ALGORITHM] * len(songs),
         "created_at": created},
        schema={"audio_sha256": pl.String, "frames": pl.List(pl.Int32), "bins": pl.List(pl.UInt16),
                "algorithm": pl.String, "created_at": pl.Datetime("us")},
    )
    audios = []
    for i, name in enumerate(songs):
        sound_id, via = copies.get(name, (f"snd-{name}", None))
        audios.append(NewIndexAudio(first_id + i, name, sound_id, int(fps[name].size), *found[name], via))
    with warehouse.transaction(con):
        warehouse.run_sql(con, "fingerprint/insert_peaks", frames={"new_peaks": new_peaks})
        con.register("new_fps", fingerprints)
        con.execute("INSERT INTO audio_fingerprints BY NAME SELECT * FROM new_fps")
        con.unregister("new_fps")
        store.add_to_index(con, audios, day)
