"""`trendtrace identify FILE`: one media file matched against a real sound index, nothing written.

Real synthetic songs are encoded, decoded, fingerprinted and indexed with the pipeline's own code into a real
DuckDB file; the queries are real encoded files: a clip from inside a song under a voice as loud as the music,
a song never indexed, one second of silence and a text file.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines import warehouse
from pipelines.audio.decode import decode_pcm
from pipelines.cli import app
from pipelines.identify import IndexNotReady, identify_file
from tests.support import media
from tests.support.index import index_songs

DAY = date(2024, 5, 1)
TALK = ("so I found this sound last night and I have not been able to stop playing it, my neighbours are going to "
        "hate me by the end of the week but honestly it is worth it")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("identify")
    wav = {i: media.tone_music(d / f"song{i}.wav", 20.0, seed=80 + i) for i in range(6)}
    db = d / "wh.duckdb"
    con = warehouse.connect(db)
    index_songs(con, {f"song{i}": decode_pcm(media.encode(wav[i], d / f"song{i}.m4a")) for i in range(6)}, 0, DAY)
    con.close()
    talk = media.speech(d / "talk.wav", TALK, speed=165, pitch=45)
    files = {
        "voiced_clip": media.mix(media.trim(wav[3], d / "c3.wav", 6.0, 16.0), media.trim(talk, d / "t.wav", 0.0, 10.0),
                                 d / "voiced_clip.mp3"),
        "unseen": media.encode(media.tone_music(d / "u.wav", 12.0, seed=99), d / "unseen.m4a"),
        "silence": media.encode(media.silence(d / "s.wav", 1.0), d / "silence.m4a"),
        "text": d / "notes.txt",
    }
    files["text"].write_text("not audio")
    return db, files


def test_a_voiced_clip_is_heard_as_its_song_at_the_right_place(world):
    db, files = world
    con = warehouse.connect(db, read_only=True)
    try:
        result = identify_file(con, files["voiced_clip"])
        unseen = identify_file(con, files["unseen"])
        silence = identify_file(con, files["silence"])
    finally:
        con.close()
    assert result.outcome == "matched", result.detail
    primary = [h for h in result.sounds if h.role == "primary"]
    assert [h.sound_id for h in primary] == ["snd-song3"]
    # the file's second s plays the song's second 6 + s
    assert abs((primary[0].sound_start_s - primary[0].file_start_s) - 6.0) < 0.5, primary[0]
    assert primary[0].file_end_s - primary[0].file_start_s > 6.0
    assert unseen.outcome == "no_known_sound" and unseen.sounds == []
    assert silence.outcome in ("too_short", "no_known_sound") and silence.sounds == []


def test_cli_prints_json_and_explains_bad_input(world, monkeypatch):
    db, files = world
    runner = CliRunner()
    ok = runner.invoke(app, ["identify", str(files["voiced_clip"]), "--warehouse", str(db), "--json"])
    assert ok.exit_code == 0, ok.output
    payload = json.loads(ok.output)
    assert payload["outcome"] == "matched" and payload["sounds"][0]["sound_id"] == "snd-song3"
    bad = runner.invoke(app, ["identify", str(files["text"]), "--warehouse", str(db)])
    assert bad.exit_code == 2 and "notes.txt" in bad.output and "no decodable audio" in bad.output


def test_an_index_from_before_the_candidate_lookup_is_refused_with_the_fix(world, tmp_path: Path):
    db, files = world
    old = tmp_path / "old.duckdb"
    old.write_bytes(db.read_bytes())
    con = warehouse.connect(old)  # as a warehouse made before the candidate index (schema migration 4)
    con.execute("DELETE FROM match_audio_landmarks; DELETE FROM schema_migrations WHERE version >= 4")
    con.close()
    con = warehouse.connect(old, read_only=True)
    try:
        with pytest.raises(IndexNotReady, match="trendtrace init"):
            identify_file(con, files["voiced_clip"])
    finally:
        con.close()
    warehouse.connect(old).close()  # what `trendtrace init` does: the pending migrations run
    con = warehouse.connect(old, read_only=True)
    try:
        assert identify_file(con, files["voiced_clip"]).outcome == "matched"
    finally:
        con.close()
