"""match_sounds on a real two-day landing zone: re-uploads, clips, a stitch, a 0 dB voice-over, a sped-up
copy, a late arrival, two trims merged by a later full copy, and generic audio that must not glue.

Runs the real stages (ingest → validate → fingerprint → match_sounds) on real encoded media and a real
DuckDB file. Expected outcomes are decided here, when the media is made.
"""

from __future__ import annotations

import math
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.stages import fingerprint, ingest, match_sounds, validate
from tests.support import media
from tests.support.db import query as _q

DAY1 = date(2024, 4, 1)
DAY2 = date(2024, 4, 2)


def _ff(args: list[str], dst: Path) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args, str(dst)], check=True)
    return dst


def trim(src: Path, dst: Path, start: float, seconds: float) -> Path:
    return _ff(["-ss", f"{start}", "-t", f"{seconds}", "-i", str(src), "-c:a", "aac", "-b:a", "64k"], dst)


def sped_up(src: Path, dst: Path, factor: float) -> Path:
    """The 'sped up' edit: resampled, so pitch rises with tempo."""
    return _ff(["-i", str(src), "-af", f"asetrate={44100 * factor:.0f},aresample=44100", "-c:a", "aac",
                "-b:a", "64k"], dst)


def tone_then(src: Path, dst: Path, work: Path) -> Path:
    """8 s of a steady 440 Hz tone (generic, low-diversity audio), then `src`."""
    tone = _ff(["-f", "lavfi", "-i", "sine=frequency=440:duration=8:sample_rate=44100"], work / f"tone_{dst.stem}.wav")
    return media.concat([tone, src], dst)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("match")
    landing, work = root / "landing", root / "work"
    work.mkdir()
    posts: dict[date, list[tuple[str, datetime, Path]]] = {DAY1: [], DAY2: []}

    def add(day: date, pid: str, at: datetime, make) -> None:
        folder = landing / f"dt={day}" / "media"
        folder.mkdir(parents=True, exist_ok=True)
        posts[day].append((pid, at, make(folder / f"{pid}.m4a")))

    t1 = datetime(2024, 4, 1, 9)
    song_a = media.tone_music(work / "a.wav", 20.0, seed=11)
    song_b = media.tone_music(work / "b.wav", 15.0, seed=12)
    song_c = media.tone_music(work / "c.wav", 12.0, seed=13)
    song_d = media.tone_music(work / "d.wav", 12.0, seed=14)
    song_g = media.tone_music(work / "g.wav", 24.0, seed=15)
    voice = media.speech(work / "voice.wav", "okay so this is my version of the sound, everyone has been asking "
                         "me to do this one, let me know what you think in the comments below, thank you so much")
    reply = media.speech(work / "reply.wav", "wait, what did she just say, I cannot believe this, no way")
    reply2 = media.speech(work / "reply2.wav", "this is exactly what happened to me last summer at the beach",
                          voice="en-us")
    add(DAY1, "p01", t1, lambda d: media.encode(song_a, d, bitrate="96k"))
    add(DAY1, "p02", t1 + timedelta(hours=1), lambda d: media.encode(song_a, d.with_suffix(".mp3")))
    add(DAY1, "p03", t1 + timedelta(hours=2), lambda d: trim(song_a, d, 8.0, 5.0))
    add(DAY1, "p04", t1 + timedelta(hours=3),
        lambda d: media.concat([trim(song_a, work / "a_first3.m4a", 0.0, 3.0), reply], d))
    add(DAY1, "p05", t1 + timedelta(hours=4), lambda d: media.mix(song_a, voice, d, b_gain_db=0.0))
    add(DAY1, "p06", t1 + timedelta(hours=5), lambda d: sped_up(song_a, d, 1.25))
    add(DAY1, "p07", t1 + timedelta(hours=6), lambda d: media.encode(song_b, d))
    add(DAY1, "p08", t1 + timedelta(hours=7), lambda d: tone_then(song_c, d, work))
    add(DAY1, "p09", t1 + timedelta(hours=8), lambda d: tone_then(song_d, d, work))
    add(DAY1, "p12", t1 + timedelta(hours=9), lambda d: trim(song_g, d, 0.0, 11.0))
    add(DAY1, "p13", t1 + timedelta(hours=10), lambda d: trim(song_g, d, 12.0, 12.0))
    t2 = datetime(2024, 4, 2, 9)
    add(DAY2, "p10", t2, lambda d: media.encode(song_a, d.with_suffix(".ogg")))
    add(DAY2, "p11", t1 - timedelta(hours=1), lambda d: media.encode(song_b, d.with_suffix(".mp3")))  # late
    add(DAY2, "p14", t2 + timedelta(hours=1), lambda d: media.encode(song_g, d))
    add(DAY2, "p15", t2 + timedelta(hours=2), lambda d: trim(song_b, d, 3.0, 1.5))  # 1.5 s clip of B
    add(DAY2, "p16", t2 + timedelta(hours=3),  # a stitch keeping only B's first second
        lambda d: media.concat([trim(song_b, work / "b_first1.m4a", 0.0, 1.0), reply2], d))
    add(DAY2, "p17", t2 + timedelta(hours=4), lambda d: media.speech(d, "hi"))  # under a second of speech
    for day, items in posts.items():
        lines = ["post_id,created_at,author,caption,music_id,music_title,media_path"]
        for pid, at, path in items:
            lines.append(f"{pid},{at.isoformat()}Z,user_{pid},caption,m_{pid},original sound - {pid},media/{path.name}")
        (landing / f"dt={day}" / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return landing


@pytest.fixture(scope="module")
def built(world, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("wh") / "wh.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setenv("TRENDTRACE_LANDING", str(world))
    mp.setenv("TRENDTRACE_WAREHOUSE", str(warehouse))
    results = [
        stage.run(day, f"t-{day}") for day in (DAY1, DAY2) for stage in (ingest, validate, fingerprint, match_sounds)
    ]
    yield warehouse, results, mp
    mp.undo()


def _rows(warehouse: Path) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for row in _q(warehouse, "SELECT post_id, sound_id, role, post_start_s, post_end_s, sound_start_s, sound_end_s, "
                             "speed, method FROM post_sounds ORDER BY post_id, role DESC, sound_id"):
        out.setdefault(row[0], []).append(row[1:])
    return out


def test_every_post_gets_its_sound(built):
    warehouse, results, _ = built
    assert all(r.status == "success" for r in results), [(r.task, r.status, r.message) for r in results]
    rows = _rows(warehouse)
    primary = {pid: [r for r in rs if r[1] == "primary"] for pid, rs in rows.items()}
    assert all(len(v) == 1 for v in primary.values()), primary
    sound = {pid: v[0][0] for pid, v in primary.items()}
    a, b, g = "snd-p01", "snd-p07", "snd-p12"
    # exact reuse, re-encode, a 5 s clip, a 0 dB voice-over, a sped-up copy, another day's re-upload
    for pid in ("p01", "p02", "p03", "p05", "p06", "p10"):
        assert sound[pid] == a, (pid, rows[pid])
    assert primary["p01"][0][-1] == "origin"
    # the clip came from 8 s into the sound
    _, _, ps, pe, ss, _se, speed, method = primary["p03"][0]
    assert abs(ss - 8.0) < 0.6 and speed == 1.0 and method == "chromaprint", primary["p03"]
    # the voice-over is heard through the landmarks, the sped-up copy at its speed
    assert primary["p05"][0][-1] == "landmarks"
    assert primary["p06"][0][-2] == pytest.approx(1.25) and primary["p06"][0][-1].startswith("landmarks_speed")
    # the stitch is a new sound that contains the first ~3 s of A at its start
    assert sound["p04"] == "snd-p04"
    contained = [r for r in rows["p04"] if r[1] == "contained"]
    assert [r[0] for r in contained] == [a]
    _, _, ps, pe, ss, _se, _, _ = contained[0]
    assert ps < 0.5 and 1.5 < pe < 4.0 and ss < 0.5, contained
    # the late arrival is matched to B and becomes B's origin
    assert sound["p11"] == b and sound["p07"] == b
    # a shared generic tone does not make two different songs one sound, nor one contain the other
    assert sound["p08"] == "snd-p08" and sound["p09"] == "snd-p09"
    assert [r[0] for r in rows["p09"]] == ["snd-p09"]
    # a 1.5 s clip is still heard (landmarks); a stitch keeping only 1 s of B contains it at its start
    assert sound["p15"] == b and primary["p15"][0][-1] == "landmarks"
    assert sound["p16"] == "snd-p16"
    assert [(r[0], r[1]) for r in rows["p16"]] == [(b, "contained"), ("snd-p16", "primary")] or \
        [(r[0], r[1]) for r in rows["p16"]] == [("snd-p16", "primary"), (b, "contained")]
    stitched = next(r for r in rows["p16"] if r[1] == "contained")
    assert stitched[2] < 0.3 and stitched[3] < 2.0 and stitched[4] < 0.3, stitched
    # under a second of speech: too little signal, no sound, but a recorded outcome
    assert "p17" not in rows
    # two trims of G were separate sounds until the full version showed they are one: merged into the earlier
    assert sound["p12"] == g and sound["p13"] == g and sound["p14"] == g


def test_sounds_merges_and_origins(built):
    warehouse, _, _ = built
    sounds = {r[0]: r[1:] for r in _q(warehouse, "SELECT sound_id, origin_post_id, n_posts, merged_into FROM sounds")}
    # origin = earliest post, even when it arrived a day later
    assert sounds["snd-p07"][:2] == ("p11", 3)  # p07, p11, p15
    assert sounds["snd-p01"][:3] == ("p01", 6, None)  # p01 p02 p03 p05 p06 p10
    assert sounds["snd-p13"][2] == "snd-p12" and sounds["snd-p13"][1] == 0
    assert sounds["snd-p12"] == ("p12", 3, None)
    merges = _q(warehouse, "SELECT sound_id, into_sound_id, via_post_id, day FROM sound_merges")
    assert merges == [("snd-p13", "snd-p12", "p14", DAY2)]
    # the index holds each distinct sound's audio once, not every copy...
    indexed = _q(warehouse, "SELECT sound_id FROM match_audio WHERE via_speed IS NULL ORDER BY 1")
    assert [r[0] for r in indexed] == sorted(["snd-p01", "snd-p04", "snd-p07", "snd-p08", "snd-p09", "snd-p12",
                                              "snd-p13", "snd-p16"])
    # ...plus the copies heard as their sound only at another speed (the sped-up post), at that speed
    copies = _q(warehouse, "SELECT p.post_id, a.sound_id, round(a.via_speed, 2) FROM match_audio a "
                           "JOIN posts p USING (audio_sha256) WHERE a.via_speed IS NOT NULL ORDER BY 1")
    sped = _q(warehouse, "SELECT post_id, matched_sound_id, round(speed, 2) FROM post_sounds "
                         "WHERE role = 'primary' AND method LIKE 'landmarks_speed%' ORDER BY 1")
    assert copies and copies == sped, (copies, sped)
    outcomes = dict(_q(warehouse, "SELECT outcome, count(*) FROM post_match_outcomes GROUP BY 1"))
    assert outcomes == {"matched": 8, "new_sound": 8, "too_short": 1}
    assert _q(warehouse, "SELECT detail FROM post_match_outcomes WHERE post_id = 'p17'")[0][0].endswith("index")


def test_each_row_says_which_edit_was_heard(built):
    """post_sounds.pitch_semitones and edit as the stage wrote them: the origin is the original, re-encodes,
    a clip and a 0 dB voice-over heard through the landmarks are the sound as posted, the resampled x1.25 copy
    is sped up with its pitch (+3.86 st), and the index keeps that copy's pitch factor for later matches."""
    warehouse, _, _ = built
    heard = {pid: (edit, semis) for pid, edit, semis in _q(
        warehouse, "SELECT post_id, edit, pitch_semitones FROM post_sounds WHERE role = 'primary'")}
    assert heard["p01"] == ("original", 0.0) and heard["p07"] == ("original", 0.0)
    for pid in ("p02", "p03", "p05", "p10", "p11"):
        assert heard[pid] == ("as_posted", 0.0), (pid, heard[pid])
    assert heard["p06"][0] == "sped_up" and abs(heard["p06"][1] - 12 * math.log2(1.25)) < 0.3, heard["p06"]
    assert _q(warehouse, "SELECT round(via_speed, 2), round(via_pitch, 2) FROM match_audio "
                         "WHERE via_speed IS NOT NULL") == [(1.25, 1.25)]
    # every row has an edit; nothing in this landing is key-shifted or time-stretched
    edits = dict(_q(warehouse, "SELECT edit, count(*) FROM post_sounds GROUP BY 1"))
    assert None not in edits and set(edits) <= {"original", "as_posted", "under_voice", "sped_up"}, edits


def test_rerun_replaces_and_restores(built):
    warehouse, _, _mp = built
    tables = ("sounds", "post_sounds", "sound_merges", "match_audio", "match_postings", "match_landmark_postings",
              "match_triplet_postings", "match_audio_landmarks", "post_match_outcomes")

    def snap():  # postings by sound, not by the index's internal audio ids (a rerun may renumber them)
        return {t: sorted(_q(warehouse, f"SELECT * EXCLUDE (audio_id), (SELECT sound_id FROM match_audio a "
                                        f"WHERE a.audio_id = x.audio_id) AS sound FROM {t} x"
                             if t.startswith("match_") else f"SELECT * FROM {t}")) for t in tables}

    before = snap()
    for day in (DAY1, DAY2):
        match_sounds.run(day, "again")
    assert snap() == before
