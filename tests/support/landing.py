"""A two-day landing zone with real audio and every kind of bad input, plus what should become of each record.

The expected outcome of every record is decided here, when the record is written (e.g. "this CSV row points
at ../../etc/passwd, so it must be quarantined by media_file"), never read back from the pipeline.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from tests.support import media

DAY1 = date(2024, 3, 1)
DAY2 = date(2024, 3, 2)
WEIRD_NAME = "day two; $(echo pwned) & 'quoted'.json"


@dataclass
class Expected:
    """What must become of one input record: a post, or a quarantine row with this rule and stage."""

    day: date
    source_file: str
    record: int | None
    post_id: str | None
    rule: str | None = None  # None: must end up in posts (or, reobserved, in post_stats only)
    stage: str | None = None
    reobserved: bool = False  # a post another partition owns: one posts row, its counters in post_stats


@dataclass
class Landing:
    root: Path
    expected: list[Expected] = field(default_factory=list)
    distinct_good_audio: dict[date, int] = field(default_factory=dict)

    def for_day(self, day: date) -> list[Expected]:
        return [e for e in self.expected if e.day == day]


def _epoch(day: date, hour: int) -> int:
    return int(datetime.combine(day, time(hour), tzinfo=UTC).timestamp())


def _web(pid: str, author: str, created: int, desc: str = "", music_id: str = "", title: str = "",
         original: bool = False, duet_from: str = "0") -> dict:
    return {
        "id": pid, "createTime": created, "desc": desc,
        "author": {"uniqueId": author, "nickname": author.title()},
        "music": {"id": music_id, "title": title, "authorName": author, "original": original, "duration": 30},
        "duetInfo": {"duetFromId": duet_from},
        "textExtra": [], "stats": {"playCount": 1000, "diggCount": 50, "shareCount": 3, "commentCount": 7},
        "video": {"duration": 10},
    }


def build(root: Path) -> Landing:
    """Write <root>/dt=2024-03-01 and dt=2024-03-02 and return what each record must become."""
    land = Landing(root)
    exp = land.expected
    d1 = root / f"dt={DAY1}"
    m1 = d1 / "media"
    m1.mkdir(parents=True)
    work = root / "_work"
    work.mkdir()

    # --- day 1: web JSON lines ---------------------------------------------------------------------
    song_a = media.tone_music(work / "song_a.wav", 12.0, seed=1)
    voice = media.speech(work / "voice.wav", "and this is my take on the sound, hello everyone, watch this")
    media.encode(song_a, m1 / "7300000000000000001.m4a", bitrate="96k")
    media.encode(song_a, m1 / "7300000000000000002.mp3", bitrate="64k")
    media.mix(song_a, voice, m1 / "7300000000000000004.mp4", b_gain_db=-6.0)
    media.encode(song_a, m1 / "7300000000000000006.m4a")
    lines = [
        json.dumps(_web("7300000000000000001", "alice", _epoch(DAY1, 9), "new song #music", "m1", "Song A", True)),
        json.dumps(_web("7300000000000000002", "bob", _epoch(DAY1, 10), "love it #fyp", "m1", "Song A")),
        '{"id": "7300000000000000003", "createTime": ',  # malformed JSON line
        json.dumps(_web("7300000000000000004", "carol", _epoch(DAY1, 11), "#duet with @alice so good", "m1",
                        "Song A", duet_from="7300000000000000001")),
        json.dumps(_web("7300000000000000005", "dave", _epoch(DAY1, 12), "no media for me", "m1", "Song A")),
        json.dumps(
            _web("7300000000000000006", "erin", _epoch(DAY1 - timedelta(days=3), 12), "old post", "m1", "Song A")
        ),
        # a partition is its collection day: older posts of any age land, only the future beyond skew is refused
        json.dumps(_web("7300000000000000007", "fred", _epoch(DAY1 + timedelta(days=3), 12), "from the future")),
    ]
    (d1 / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    exp += [
        Expected(DAY1, "items.jsonl", 0, "7300000000000000001"),
        Expected(DAY1, "items.jsonl", 1, "7300000000000000002"),
        Expected(DAY1, "items.jsonl", 2, None, "malformed_json", "ingest"),
        Expected(DAY1, "items.jsonl", 3, "7300000000000000004"),
        Expected(DAY1, "items.jsonl", 4, "7300000000000000005", "media_file", "validate"),
        Expected(DAY1, "items.jsonl", 5, "7300000000000000006"),
        Expected(DAY1, "items.jsonl", 6, "7300000000000000007", "created_at_not_future", "validate"),
    ]

    # --- day 1: Research API response, ids as 19-digit JSON numbers -----------------------------------
    media.encode(media.speech(work / "talk.wav", "today I want to tell you a story about my cat", voice="en-us"),
                 m1 / "7300000000000000101.opus")
    media.encode(media.silence(work / "quiet.wav", 3.0), m1 / "7300000000000000102.ogg")
    t1, t2 = _epoch(DAY1, 13), _epoch(DAY1, 14)
    research = (
        '{"data": {"videos": ['
        f'{{"id": 7300000000000000101, "create_time": {t1:d}, "username": "frank",'
        ' "video_description": "storytime",'
        ' "music_id": 7300000000000009001, "hashtag_names": ["story"], "view_count": 10, "like_count": 1,'
        ' "share_count": 0, "comment_count": 0, "video_duration": 4},'
        f'{{"id": 7300000000000000102, "create_time": {t2:d}, "username": "grace", "video_description": "shh",'
        ' "music_id": 7300000000000009002, "hashtag_names": [], "view_count": 5, "like_count": 0,'
        ' "share_count": 0, "comment_count": 0, "video_duration": 3}'
        '], "cursor": 2, "has_more": false}}'
    )
    (d1 / "research.json").write_text(research, encoding="utf-8")
    exp += [
        Expected(DAY1, "research.json", 0, "7300000000000000101"),
        Expected(DAY1, "research.json", 1, "7300000000000000102", "media_not_silent", "fingerprint"),
    ]

    # --- day 1: CSV ----------------------------------------------------------------------------------
    media.encode(media.tone_music(work / "song_b.wav", 9.0, seed=2), m1 / "clip one.flac")
    media.corrupt(m1 / "7300000000000000203.mp3", seed=3)
    (d1 / "export.csv").write_text(
        "post_id,created_at,author,caption,music_id,music_title,media_path\n"
        "7300000000000000201,2024-03-01T15:00:00Z,heidi,\"guitar, again\",m2,Song B,media/clip one.flac\n"
        "7300000000000000202,2024-03-01T15:30:00Z,ivan,sneaky,m2,Song B,../../etc/passwd\n"
        "7300000000000000203,2024-03-01T16:00:00Z,judy,broken file,m2,Song B,media/7300000000000000203.mp3\n",
        encoding="utf-8",
    )
    exp += [
        Expected(DAY1, "export.csv", 0, "7300000000000000201"),
        Expected(DAY1, "export.csv", 1, "7300000000000000202", "media_file", "validate"),
        Expected(DAY1, "export.csv", 2, "7300000000000000203", "media_decodes", "fingerprint"),
    ]
    (d1 / "notes.txt").write_text("these are not posts\n", encoding="utf-8")
    exp.append(Expected(DAY1, "notes.txt", None, None, "unknown_format", "ingest"))
    # song_a in four encodings (m4a 96k, mp3, mp4 mix, erin's m4a), speech, song_b
    land.distinct_good_audio[DAY1] = 6

    # --- day 2: web JSON array under a hostile file name, and JSON lines ---------------------------------
    d2 = root / f"dt={DAY2}"
    m2 = d2 / "media"
    m2.mkdir(parents=True)
    media.encode(media.tone_music(work / "song_c.wav", 10.0, seed=3), m2 / "7300000000000000301.webm")
    media.concat([media.encode(song_a, work / "first3.wav"), voice], work / "stitch_full.wav")
    media.encode(work / "stitch_full.wav", m2 / "7300000000000000302.m4a")
    media.video_without_audio(m2 / "7300000000000000303.mp4")
    media.encode(song_a, m2 / "7300000000000000001.m4a")
    array = [
        _web("7300000000000000301", "kim", _epoch(DAY2, 8), "new dance", "m3", "original sound - kim", True),
        _web("7300000000000000001", "alice", _epoch(DAY1, 9), "new song #music", "m1", "Song A", True),
        _web("7300000000000000302", "leo", _epoch(DAY2, 9), "#stitch with @alice wait for it", "m4",
             "original sound - leo", True),
        _web("7300000000000000303", "mia", _epoch(DAY2, 10), "silent video", "m5", "original sound - mia", True),
    ]
    (d2 / WEIRD_NAME).write_text(json.dumps(array, indent=2), encoding="utf-8")
    shutil.copyfile(m2 / "7300000000000000301.webm", m2 / "7300000000000000305.webm")
    media.encode(song_a, m2 / "7300000000000000304.mp3")
    more = [
        json.dumps(
            _web("7300000000000000301", "kim", _epoch(DAY2, 8), "new dance", "m3", "original sound - kim", True)
        ),
        json.dumps(_web("7300000000000000304", "nina", _epoch(DAY1, 22), "late arrival #fyp", "m1", "Song A")),
        json.dumps(
            _web("7300000000000000305", "oscar", _epoch(DAY2, 12), "same file as kim", "m3", "original sound - kim")
        ),
    ]
    (d2 / "more.jsonl").write_text("\n".join(more) + "\n", encoding="utf-8")
    exp += [
        Expected(DAY2, WEIRD_NAME, 0, "7300000000000000301"),
        Expected(DAY2, WEIRD_NAME, 1, "7300000000000000001", reobserved=True),
        Expected(DAY2, WEIRD_NAME, 2, "7300000000000000302"),
        Expected(DAY2, WEIRD_NAME, 3, "7300000000000000303", "media_decodes", "fingerprint"),
        Expected(DAY2, "more.jsonl", 0, "7300000000000000301", "post_id_unique", "validate"),
        Expected(DAY2, "more.jsonl", 1, "7300000000000000304"),
        Expected(DAY2, "more.jsonl", 2, "7300000000000000305"),
    ]
    # song_c (301 and 305 share the same bytes), the stitch, the mp3 of song_a (new bytes)
    land.distinct_good_audio[DAY2] = 3
    shutil.rmtree(work)
    return land
