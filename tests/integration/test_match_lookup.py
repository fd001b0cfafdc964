"""The sound index lookup (ART on match_postings.key) must find exactly what a scan of every posting finds.

A real index (real synthetic songs from tests/support/media.py, encoded, decoded and fingerprinted by the
pipeline's own code, added with the real match_index_add SQL into a real DuckDB file) is queried with
re-encoded clips of indexed songs and with songs it never saw. The lookup is forced onto the ART path and
compared with a brute-force join in polars over every posting and with DuckDB's plain scan; a rerun's
reset of a day must leave the index agreeing with the table.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from pipelines import warehouse
from pipelines.audio.chromaprint import raw_fingerprint
from pipelines.audio.decode import SAMPLE_RATE, decode_pcm
from pipelines.matching import store
from tests.support import media
from tests.support.index import index_songs

DAY1, DAY2 = date(2024, 5, 1), date(2024, 5, 2)
CANDIDATE_PARAMS = {"min_votes": 2, "offsets_per_ref": 2, "top_k": 20, "refs_per_sound": 2, "chunk_refs": True,
                    "since_audio_id": 0, "as_of": date.max}
RAW_JOIN = "SELECT q.qid, p.audio_id, p.pos - q.pos AS off FROM q_items q JOIN match_postings p ON p.key = q.key"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("lookup")
    pcm = {f"song{i}": decode_pcm(media.encode(media.tone_music(d / f"song{i}.wav", 20.0, seed=40 + i),
                                               d / f"song{i}.m4a"))
           for i in range(10)}
    clips = {}  # 6 s from 5.3 s into an mp3 re-encode of six indexed songs, and two songs never indexed
    for i in range(6):
        full = decode_pcm(media.encode(d / f"song{i}.wav", d / f"song{i}.mp3"))
        clips[f"song{i}"] = full[int(5.3 * SAMPLE_RATE): int(11.3 * SAMPLE_RATE)]
    for i in (20, 21):
        clips[f"unseen{i}"] = decode_pcm(media.encode(media.tone_music(d / f"u{i}.wav", 12.0, seed=40 + i),
                                                      d / f"u{i}.m4a"))
    con = warehouse.connect(d / "lookup.duckdb")
    index_songs(con, {k: v for k, v in pcm.items() if k < "song7"}, 0, DAY1)
    index_songs(con, {k: v for k, v in pcm.items() if k >= "song7"}, 7, DAY2)
    names = list(clips)
    fps = [raw_fingerprint(clips[n]) for n in names]
    q_items = pl.DataFrame({
        "qid": np.repeat(np.arange(len(fps), dtype=np.int32), [f.size for f in fps]),
        "key": np.concatenate([f >> 8 for f in fps]).astype(np.uint32),
        "pos": np.concatenate([np.arange(f.size, dtype=np.int32) for f in fps]),
    })
    con.register("q_items", q_items)
    yield con, names, q_items
    con.close()


def _forced_index(con, sql: str, params: dict | None = None) -> tuple[pl.DataFrame, str]:
    """`sql` under match_sounds' lookup settings with the index-size threshold lifted, so a tiny test index
    takes the ART path too; returns the result and the plan that ran."""
    with store.lookup(con):
        con.execute("SET index_scan_max_count = 1000000")
        result = con.sql(sql, params=params).pl()
        plan = con.sql("EXPLAIN ANALYZE " + sql, params=params).fetchall()[0][1]
    return result, plan


def _brute_force(con, q_items: pl.DataFrame) -> pl.DataFrame:
    postings = con.sql("SELECT key, audio_id, pos FROM match_postings").pl()
    return (q_items.join(postings, on="key", suffix="_ref")
            .select("qid", "audio_id", (pl.col("pos_ref") - pl.col("pos")).alias("off")))


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns)


def test_index_lookup_returns_every_posting_of_the_query_keys(world):
    con, _, q_items = world
    got, plan = _forced_index(con, RAW_JOIN)
    assert "Index Scan" in plan
    want = _brute_force(con, q_items)
    assert want.height > 100  # the clips' keys really hit the index
    assert _sorted(got).equals(_sorted(want.cast(got.schema)))


def test_candidates_through_the_index_equal_the_full_scan(world):
    con, names, _ = world
    sql = warehouse.sql_text("match_sounds/candidates_chromaprint")
    got, plan = _forced_index(con, sql, CANDIDATE_PARAMS)
    assert "Index Scan" in plan
    scanned = con.sql(sql, params=CANDIDATE_PARAMS).pl()  # default settings: hash join over every posting
    assert got.equals(scanned)
    with store.lookup(con):  # match_sounds' own settings (a tiny index is scanned): same answer again
        assert con.sql(sql, params=CANDIDATE_PARAMS).pl().equals(scanned)
    audio_ids = dict(con.execute("SELECT sound_id, audio_id FROM match_audio").fetchall())
    best = got.filter(pl.col("ref") >= 0).sort("votes", descending=True).group_by("qid", maintain_order=True).first()
    top = dict(best.select("qid", "ref").iter_rows())
    for qid, name in enumerate(names):
        if name.startswith("song"):  # each clip's own song wins the vote
            assert top.get(qid) == audio_ids[f"snd-{name}"], name


def test_a_rerun_reset_leaves_the_index_in_step_with_the_table(world):
    con, _, q_items = world
    with warehouse.transaction(con):
        warehouse.run_sql(con, "match_sounds/reset_day", {"day": DAY2})
    got, plan = _forced_index(con, RAW_JOIN)
    assert "Index Scan" in plan
    want = _brute_force(con, q_items)
    assert _sorted(got).equals(_sorted(want.cast(got.schema)))
    assert set(got["audio_id"].to_list()) <= set(range(7))  # the day's postings are gone from the index too
