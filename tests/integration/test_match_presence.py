"""match_sounds on real audio: a sound whose landmarks are heard only in its first seconds (then a second
voice drowns them) is still found as the post's primary sound by the peak-presence test, while a stitch that
keeps only those first seconds stays a new sound that contains it.

Real stages (ingest → validate → fingerprint → match_sounds), real encoded media, a real DuckDB file. The
synthetic test music keeps its landmarks under any voice the test can make (real music does not: 44 of 184
duets of the demo world lost them), so the landmark stretches are cut at the first short gap here, as they
are under a loud voice over real music.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.matching import vote
from pipelines.stages import fingerprint, ingest, match_sounds, validate
from tests.support import media
from tests.support.db import query

DAY = date(2024, 5, 1)
GAIN = 3.0
TALK = ("so this is what happened, I was walking home from school and I heard this song coming out of every single "
        "window on the street, and I thought, this cannot be a coincidence, somebody is doing this on purpose, so "
        "I knocked on the first door and asked, and the old man who opened it just smiled and turned it up")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("presence")
    work, folder = root / "work", root / "landing" / f"dt={DAY}" / "media"
    work.mkdir()
    folder.mkdir(parents=True)
    # the sound: music with a voice-over (as many trending sounds are); the duet adds a second voice from 2.5 s
    music = media.tone_music(work / "music.wav", 20.0, seed=41)
    first = media.speech(work / "first.wav", TALK, speed=165, pitch=30)
    sound = media.mix(music, media.trim(first, work / "first20.wav", 0.0, 20.0), work / "sound.wav")
    second = media.speech(work / "second.wav", TALK, speed=150, pitch=80)
    late = media.concat([media.silence(work / "pause.wav", 2.5), second], work / "late_full.wav")
    late = media.trim(late, work / "late.wav", 0.0, 20.0)
    posts = {
        "q1": media.encode(sound, folder / "q1.m4a"),
        "q2": media.mix(sound, late, folder / "q2.mp3", b_gain_db=GAIN),
        # a stitch: the sound's first 2.5 s, then the second voice alone
        "q3": media.concat([media.trim(sound, work / "intro.wav", 0.0, 2.5),
                            media.trim(late, work / "talk_only.wav", 2.5, 20.0)], folder / "q3.m4a"),
    }
    t0 = datetime(2024, 5, 1, 9)
    lines = ["post_id,created_at,author,caption,music_id,music_title,media_path"]
    for i, (pid, path) in enumerate(posts.items()):
        lines.append(f"{pid},{(t0 + timedelta(hours=i)).isoformat()}Z,user_{pid},caption,m_{pid},original sound,"
                     f"media/{path.name}")
    (folder.parent / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    warehouse = root / "wh.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setenv("TRENDTRACE_LANDING", str(root / "landing"))
    mp.setenv("TRENDTRACE_WAREHOUSE", str(warehouse))
    mp.setattr(vote, "LM_GAP_FRAMES", 4)  # ~0.1 s without an aligned landmark ends a stretch...
    mp.setattr(vote, "LM_MIN_STRETCH", 30)  # ...and only a dense stretch (the clean intro) counts
    results = [stage.run(DAY, "t") for stage in (ingest, validate, fingerprint, match_sounds)]
    yield warehouse, results
    mp.undo()


def _rows(warehouse: Path) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for row in query(warehouse, "SELECT post_id, sound_id, role, post_start_s, post_end_s, method FROM post_sounds "
                                "ORDER BY post_id, role DESC"):
        out.setdefault(row[0], []).append(row[1:])
    return out


def test_a_sound_under_a_louder_voice_is_still_the_primary_sound(built) -> None:
    warehouse, results = built
    assert all(r.status == "success" for r in results), [(r.task, r.message) for r in results]
    rows = _rows(warehouse)
    sound, role, start, end, method = rows["q2"][0]
    assert (sound, role) == ("snd-q1", "primary"), rows["q2"]
    assert method == "landmarks_presence" and start < 0.5 and end > 18.0, rows["q2"]


def test_a_stitch_of_the_intro_stays_a_new_sound(built) -> None:
    warehouse, _ = built
    rows = _rows(warehouse)
    primary = [r for r in rows["q3"] if r[1] == "primary"]
    contained = [r for r in rows["q3"] if r[1] == "contained"]
    assert primary[0][0] == "snd-q3", rows["q3"]
    assert [r[0] for r in contained] == ["snd-q1"] and contained[0][3] < 4.0, rows["q3"]
