"""The landmark candidate lookup (triplet keys, docs/matching.md "Landmark candidates") must name every indexed
audio that the pair-hash voting over the whole index would accept, on real audio.

Real synthetic songs (tests/support/media.py) are encoded, decoded and indexed with the pipeline's own code into
a real DuckDB file. Queries: 10 s mp3 clips from inside indexed songs, the same under a voice as loud as the music,
2 s stitches (a song's first 2 s, then speech), a resampled x1.25 and a time-stretched x0.8 copy, and songs
never indexed. For each, the landmark voting (as posted, or at every speed preset) is run twice with the real
SQL: once against every indexed pair (what match_sounds did before the lookup existed) and once through
`engine.landmark_candidates`; the second must find every alignment the first found.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from pipelines import warehouse
from pipelines.audio.decode import SAMPLE_RATE, decode_pcm
from pipelines.audio.peaks import FRAME_S, peaks
from pipelines.matching import analyse, engine, store, vote
from pipelines.matching.analyse import SPEED_VARIANTS, SPEED_WINDOW_FRAMES
from pipelines.matching.landmarks import QUERY_TRIPLET_FAN, pair_hashes, triplet_keys
from pipelines.matching.types import Query
from tests.support import media
from tests.support.index import index_songs

DAY = date(2024, 5, 1)
TALK = ("we went down to the river every morning that summer and nobody ever asked us where we had been, "
        "which was the best part, because the answer would have been nothing at all")
SONGS = 8


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("lm_candidates")
    wav = {i: media.tone_music(d / f"song{i}.wav", 20.0, seed=60 + i) for i in range(SONGS)}
    con = warehouse.connect(d / "lm.duckdb")
    index_songs(con, {f"song{i}": decode_pcm(media.encode(wav[i], d / f"song{i}.m4a")) for i in range(SONGS)}, 0, DAY)
    talk = media.speech(d / "talk.wav", TALK, speed=170, pitch=40)
    files = {}
    for i in range(3):
        files[f"clip{i}"] = media.encode(media.trim(wav[i], d / f"c{i}.wav", 4.3, 14.3), d / f"clip{i}.mp3")
        files[f"voice{i + 3}"] = media.mix(media.trim(wav[i + 3], d / f"v{i}.wav", 2.0, 14.0),
                                           media.trim(talk, d / f"t{i}.wav", 0.0, 12.0), d / f"voice{i + 3}.m4a")
    for i in (6, 7):
        files[f"stitch{i}"] = media.concat([media.trim(wav[i], d / f"s{i}.wav", 0.0, 2.0),
                                            media.trim(talk, d / f"r{i}.wav", 0.0, 8.0)], d / f"stitch{i}.m4a")
    fast, slow = d / "fast.m4a", d / "slow.m4a"  # resampled x1.25 ("sped up"), time-stretched x0.8 ("slowed")
    media._ffmpeg(["-i", str(wav[1]), "-af", "asetrate=55125,aresample=44100", *media._audio_out_args(fast)], fast)
    media._ffmpeg(["-i", str(wav[2]), "-af", "atempo=0.8", *media._audio_out_args(slow)], slow)
    files["fast1"], files["slow2"] = fast, slow
    for i in (30, 31):
        files[f"unseen{i}"] = media.encode(media.tone_music(d / f"u{i}.wav", 12.0, seed=60 + i), d / f"u{i}.m4a")
    queries = []
    for qid, (name, path) in enumerate(files.items()):
        pcm = decode_pcm(path)
        frames, bins = peaks(pcm)
        queries.append(Query(qid, name, pcm.size / SAMPLE_RATE, np.zeros(0, np.uint32), frames, bins))
    yield con, queries
    con.close()


def _voting(con, queries: list[Query], lm_index) -> pl.DataFrame:
    """Free alignments and stitch heads of the pair-hash voting against `lm_index`, index references only."""
    q_marks = pl.DataFrame({
        "qid": np.concatenate([np.full(q.marks[0].size, q.qid, np.int32) for q in queries]),
        "variant": np.zeros(sum(q.marks[0].size for q in queries), np.int16),
        "hash": np.concatenate([q.marks[0] for q in queries]), "t": np.concatenate([q.marks[1] for q in queries])})
    free = store.landmark_candidates(con, q_marks, lm_index, chunk_refs=False)
    heads = store.stitch_candidates(con, q_marks, lm_index, chunk_refs=False)
    cols = [pl.col("qid"), pl.col("ref"), pl.col("off").cast(pl.Int64), pl.col("votes").cast(pl.Int64)]
    return pl.concat([free.select(cols), heads.select(cols)])


def test_the_lookup_finds_every_alignment_the_whole_index_gives(world):
    con, queries = world
    everything = _voting(con, queries, con.sql(warehouse.sql_text("match_sounds/landmark_index_all")))
    through = _voting(con, queries, engine.landmark_candidates(con, queries))
    audio_ids = dict(con.execute("SELECT sound_id, audio_id FROM match_audio").fetchall())
    by_name = {q.qid: q.audio_sha256 for q in queries}
    found = {(by_name[qid], ref) for qid, ref in everything.select("qid", "ref").iter_rows()}
    heard = {name for name, ref in found if ref == audio_ids.get(f"snd-song{name[-1]}")}
    # the test music repeats its bars, so the voting's runner-up test turns down some clips (their best
    # alignment is not 2x their second best); under a voice and at a stitch's head it hears each one
    assert {"voice3", "voice4", "voice5", "stitch6", "stitch7"} <= heard
    assert heard & {"clip0", "clip1", "clip2"}
    assert not any(name.startswith("unseen") for name, _ in found)
    assert _sorted(through).equals(_sorted(everything))


def test_the_speed_lookup_finds_every_alignment_the_whole_index_gives(world):
    con, queries = world
    changed = [q for q in queries if q.audio_sha256 in ("fast1", "slow2", "unseen30")]
    everything = _speed_voting(con, changed, con.sql(warehouse.sql_text("match_sounds/landmark_index_all")))
    through = _speed_voting(con, changed, engine.landmark_candidates(con, changed, SPEED_VARIANTS))
    audio_ids = dict(con.execute("SELECT sound_id, audio_id FROM match_audio").fetchall())
    by_name = {q.qid: q.audio_sha256 for q in queries}
    found = {(by_name[qid], ref) for qid, ref in everything.select("qid", "ref").iter_rows()}
    assert {("fast1", audio_ids["snd-song1"]), ("slow2", audio_ids["snd-song2"])} <= found
    assert _sorted(through).equals(_sorted(everything))


def _speed_voting(con, queries: list[Query], lm_index) -> pl.DataFrame:
    """The speed presets' voting, as match_sounds runs it for a post nothing explained as posted."""
    parts = [(q.qid, v, *pair_hashes(q.peak_frames[head], q.peak_bins[head], speed, mode))
             for q in queries for head in [q.peak_frames < SPEED_WINDOW_FRAMES]
             for v, (speed, mode) in enumerate(SPEED_VARIANTS, start=1)]
    q_marks = pl.DataFrame({
        "qid": np.concatenate([np.full(h.size, qid, np.int32) for qid, _, h, _ in parts]),
        "variant": np.concatenate([np.full(h.size, v, np.int16) for _, v, h, _ in parts]),
        "hash": np.concatenate([h for _, _, h, _ in parts]), "t": np.concatenate([t for _, _, _, t in parts])})
    return store.landmark_candidates(con, q_marks, lm_index, speed=True, chunk_refs=False).select(
        "qid", "variant", "ref", "off", "votes")


@pytest.mark.parametrize("chunk_refs", [False, True])
def test_speed_votes_in_batches_of_queries_are_the_rows_of_one_statement(world, monkeypatch, chunk_refs):
    """store.landmark_candidates votes the speed variants SPEED_BATCH_QUERIES queries at a time (memory): every
    row, list and order must be what one statement over the whole chunk gives."""
    con, queries = world
    q_marks = analyse.q_marks(queries, queries, SPEED_VARIANTS)
    lm_index = engine.landmark_candidates(con, queries, SPEED_VARIANTS)
    monkeypatch.setattr(store, "SPEED_BATCH_QUERIES", len(queries))
    whole = store.landmark_candidates(con, q_marks, lm_index, speed=True, chunk_refs=chunk_refs)
    assert whole.height and whole["qid"].n_unique() >= 3  # the changed copies, and chance alignments of others
    for batch in (1, 4):
        monkeypatch.setattr(store, "SPEED_BATCH_QUERIES", batch)
        assert store.landmark_candidates(con, q_marks, lm_index, speed=True, chunk_refs=chunk_refs).equals(whole)


def test_triplet_lookup_through_the_art_equals_the_scan(world):
    con, queries = world
    keyed = [(q.qid, *triplet_keys(q.peak_frames, q.peak_bins, QUERY_TRIPLET_FAN)) for q in queries[:1]]
    q_triplets = pl.DataFrame({"qid": np.full(keyed[0][1].size, 0, np.int32),
                               "variant": np.zeros(keyed[0][1].size, np.int16), "key": keyed[0][1], "t": keyed[0][2]})
    sql = warehouse.sql_text("match_sounds/candidates_triplets")
    params = {"min_votes": vote.TRIPLET_MIN_VOTES, "top_refs": vote.TRIPLET_TOP_REFS, "tol": vote.TRIPLET_TOL,
              "top_head_refs": vote.TRIPLET_TOP_HEAD_REFS, "head_frames": int(vote.STITCH_HEAD_S / FRAME_S),
              "max_off": vote.STITCH_MAX_OFF, "since_audio_id": 0, "as_of": date.max}
    con.register("q_triplets", q_triplets)
    try:
        scanned = con.sql(sql, params=params).fetchall()
        with store.lookup(con, "match_sounds/lookup_landmarks_begin"):
            con.execute("SET index_scan_max_count = 1000000")  # a tiny index takes the ART path too
            got = con.sql(sql, params=params).fetchall()
            plan = con.sql("EXPLAIN ANALYZE " + sql, params=params).fetchall()[0][1]
    finally:
        con.unregister("q_triplets")
    assert "Index Scan" in plan
    assert got == scanned and scanned  # clip0's song, at least


def test_audio_indexed_before_the_lookup_existed_gets_its_rows(world):
    con, _queries = world
    before = {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
              for t in ("match_audio_landmarks", "match_triplet_postings")}
    with warehouse.transaction(con):
        con.execute("DELETE FROM match_audio_landmarks WHERE audio_id >= 4")
        con.execute("DELETE FROM match_triplet_postings WHERE audio_id >= 4")
        assert store.add_missing_candidate_index(con) == SONGS - 4
        assert store.add_missing_candidate_index(con) == 0
    for table, rows in before.items():
        assert con.sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == rows, table
    # audio whose peaks were never stored (fingerprinted before they were) gets an empty row: done, not retried
    with warehouse.transaction(con):
        con.execute("DELETE FROM match_audio_landmarks WHERE audio_id = 7")
        con.execute("DELETE FROM match_triplet_postings WHERE audio_id = 7")
        con.execute("CREATE TEMP TABLE kept_peaks AS SELECT * FROM audio_peaks WHERE audio_sha256 = 'song7'")
        con.execute("DELETE FROM audio_peaks WHERE audio_sha256 = 'song7'")
        assert store.add_missing_candidate_index(con) == 1
        assert store.add_missing_candidate_index(con) == 0
        assert con.sql("SELECT len(hashes) FROM match_audio_landmarks WHERE audio_id = 7").fetchall() == [(0,)]
        con.execute("INSERT INTO audio_peaks SELECT * FROM kept_peaks")  # and back as it was, for other tests
        con.execute("DELETE FROM match_audio_landmarks WHERE audio_id = 7")
        assert store.add_missing_candidate_index(con) == 1
    for table, rows in before.items():
        assert con.sql(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == rows, table


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns)
