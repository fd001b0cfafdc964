"""Export adapters: real files in a tmp landing partition, read through the public API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.ingest import ExportReadResult, list_export_files, read_export, read_partition
from pipelines.records import SchemaDriftError

BIG_ID = 7301234567890123456  # > 2**53: a float cannot hold it
MARCH_2 = datetime(2024, 3, 2, tzinfo=UTC)
MARCH_2_EPOCH = 1709337600  # 2024-03-02T00:00:00Z


@pytest.fixture
def part(tmp_path: Path) -> Path:
    folder = tmp_path / "dt=2024-03-02"
    (folder / "media").mkdir(parents=True)
    return folder


def write(part: Path, name: str, text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    (part / name).write_bytes(data)
    return name


def read(part: Path, name: str, text: str | bytes) -> ExportReadResult:
    return read_export(part, write(part, name, text))


def web_item(**overrides: object) -> dict[str, object]:
    item: dict[str, object] = {
        "id": "7300000000000000001",
        "createTime": MARCH_2_EPOCH,
        "desc": "hello",
        "author": {"uniqueId": "alice"},
        "music": {"id": "6900000000000000001", "title": "song", "authorName": "x", "original": False, "duration": 30},
        "stats": {"playCount": 100, "diggCount": 10, "shareCount": 2, "commentCount": 3},
        "video": {"duration": 15},
    }
    item.update(overrides)
    return item


def research_video(**overrides: object) -> dict[str, object]:
    video: dict[str, object] = {
        "id": BIG_ID,
        "create_time": MARCH_2_EPOCH,
        "username": "bob",
        "video_description": "dance #Trend",
        "music_id": 6900000000000000002,
        "hashtag_names": ["trend", "Summer"],
        "view_count": 500,
        "like_count": 50,
        "share_count": 5,
        "comment_count": 1,
        "video_duration": 12,
    }
    video.update(overrides)
    return video


# --- tiktok_web -----------------------------------------------------------------------------------------


def test_web_array_maps_every_field_and_locates_records(part: Path) -> None:
    text = (
        "[\n"
        f'  {{"id": {BIG_ID}, "createTime": "{MARCH_2_EPOCH}", "desc": "#duet with @carol nice #FYP",\n'
        '   "author": {"uniqueId": "alice"},\n'
        '   "music": {"id": 6900000000000000001, "title": "Orig", "authorName": "a",\n'
        '             "original": true, "duration": 30},\n'
        '   "duetInfo": {"duetFromId": "7200000000000000009"},\n'
        '   "textExtra": [{"hashtagName": "duet", "userUniqueId": ""}, {"hashtagName": "", "userUniqueId": "dave"}],\n'
        '   "stats": {"playCount": 1000, "diggCount": 70, "shareCount": 3, "commentCount": 4},\n'
        '   "video": {"duration": 14.5}, "media_path": "media/a.m4a"},\n'
        '  {"id": "7300000000000000002", "createTime": 1709337601, "author": "erin", "duetInfo": {"duetFromId": "0"}}\n'
        "]\n"
    )
    result = read(part, "web.json", text)
    assert result.source_format == "tiktok_web" and result.problems == []
    first, second = result.posts
    assert first.post_id == "7301234567890123456"
    assert first.platform_music_id == "6900000000000000001"
    assert first.duet_from_post_id == "7200000000000000009"
    assert (first.author, first.created_at, first.created_at_raw) == ("alice", MARCH_2, "1709337600")
    assert (first.music_title, first.music_original, first.duration_s) == ("Orig", True, 14.5)
    assert (first.plays, first.likes, first.shares, first.comments) == (1000, 70, 3, 4)
    assert first.mentions == ["carol", "dave"]
    assert first.hashtags == ["duet", "fyp"]
    assert first.media_path == "media/a.m4a"
    assert (first.source_line, first.source_record, first.source_file) == (2, 0, "web.json")
    assert json.loads(first.raw)["id"] == BIG_ID and first.raw.startswith("{") and first.raw.endswith("}")
    assert (second.source_line, second.source_record) == (10, 1)
    assert second.author == "erin" and second.duet_from_post_id is None and second.plays is None
    assert second.created_at == MARCH_2 + timedelta(seconds=1)


def test_web_json_lines_malformed_line_keeps_neighbours(part: Path) -> None:
    lines = [json.dumps(web_item(id="1")), '{"id": "2", "createTime": ', "", json.dumps(web_item(id="3")), "[1, 2]"]
    result = read(part, "items.jsonl", "\n".join(lines) + "\n")
    assert result.source_format == "tiktok_web"
    assert [p.post_id for p in result.posts] == ["1", "3"]
    assert [(p.source_line, p.source_record) for p in result.posts] == [(1, 0), (4, 2)]
    malformed, not_object = result.problems
    assert (malformed.rule, malformed.source_line, malformed.source_record) == ("malformed_json", 2, 1)
    assert "items.jsonl" in malformed.reason and "line 2" in malformed.reason and "Expecting value" in malformed.reason
    assert malformed.raw == lines[1]
    assert (not_object.rule, not_object.source_line, not_object.raw) == ("not_an_object", 5, "[1, 2]")


def test_web_wrapper_with_plain_string_author(part: Path) -> None:
    wrapper = {"statusCode": 0, "itemList": [web_item(author="zoe"), web_item(id=BIG_ID)], "hasMore": False}
    text = json.dumps(wrapper, indent=2)
    result = read(part, "dump.json", text)
    assert result.source_format == "tiktok_web"
    assert [p.author for p in result.posts] == ["zoe", "alice"]
    assert result.posts[1].post_id == str(BIG_ID)
    starts = [i + 1 for i, line in enumerate(text.split("\n")) if line == "    {"]
    assert [p.source_line for p in result.posts] == starts


def test_one_object_per_line_in_a_dot_json_file(part: Path) -> None:
    text = json.dumps(web_item(id="1")) + "\r\n" + json.dumps(web_item(id="2")) + "\r\n"
    result = read(part, "lines.json", text)
    assert [p.post_id for p in result.posts] == ["1", "2"] and result.problems == []
    assert not result.posts[0].raw.endswith("\r")


# --- research_api ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["array", "lines", "wrapper"])
def test_research_shapes_keep_19_digit_ids_exact(part: Path, shape: str) -> None:
    videos = [research_video(), research_video(id=str(BIG_ID + 1), music_id="6900000000000000003")]
    if shape == "array":
        text = json.dumps(videos)
    elif shape == "lines":
        text = "\n".join(json.dumps(v) for v in videos)
    else:
        response = {"data": {"videos": videos, "cursor": 1709337600, "has_more": False}, "error": {"code": "ok"}}
        text = json.dumps(response)
    result = read(part, f"research_{shape}.json", text)
    assert result.source_format == "research_api" and result.problems == []
    first, second = result.posts
    assert first.post_id == "7301234567890123456" and second.post_id == "7301234567890123457"
    assert (first.platform_music_id, second.platform_music_id) == ("6900000000000000002", "6900000000000000003")
    assert (first.author, first.created_at, first.plays, first.likes) == ("bob", MARCH_2, 500, 50)
    assert first.duration_s == 12.0
    assert first.hashtags == ["trend", "summer"]
    assert json.loads(first.raw)["id"] == BIG_ID


# --- bad values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (web_item(id=7.3e18), "id"),
        (web_item(id=True), "id"),
        (web_item(id={"v": 1}), "id"),
        (web_item(id="7.301234567890124e+18"), "id"),
        (web_item(music={"id": 6.9e18}), "music.id"),
        (web_item(duetInfo={"duetFromId": 7.2e18}), "duetInfo.duetFromId"),
        (web_item(stats={"playCount": "abc"}), "stats.playCount"),
        (web_item(stats={"diggCount": 1.5}), "stats.diggCount"),
        (web_item(stats={"shareCount": True}), "stats.shareCount"),
        (web_item(textExtra=[{"hashtagName": 5}]), "textExtra[0].hashtagName"),
    ],
)
def test_web_bad_types_are_problems_naming_the_field(part: Path, record: dict[str, object], field: str) -> None:
    result = read(part, "bad.json", json.dumps([web_item(id="1"), record]))
    assert [p.post_id for p in result.posts] == ["1"]
    (problem,) = result.problems
    assert (problem.rule, problem.field, problem.source_record) == ("bad_type", field, 1)
    assert "bad.json" in problem.reason and field in problem.reason
    assert json.loads(problem.raw) == json.loads(json.dumps(record))


def test_research_float_id_and_bad_count_rejected(part: Path) -> None:
    text = "\n".join(
        json.dumps(v) for v in (research_video(id=7.301234567890124e18), research_video(like_count="many"))
    )
    problems = read(part, "r.jsonl", text).problems
    assert [(p.rule, p.field, p.source_line) for p in problems] == [
        ("bad_type", "id", 1),
        ("bad_type", "like_count", 2),
    ]
    assert problems[1].post_id == str(BIG_ID)


def test_counts_negative_kept_missing_none_integral_text_accepted(part: Path) -> None:
    record = web_item(stats={"playCount": -5, "diggCount": "42"})
    (post,) = read(part, "s.json", json.dumps([record])).posts
    assert (post.plays, post.likes, post.shares, post.comments) == (-5, 42, None, None)


def test_missing_id_and_author_become_none(part: Path) -> None:
    items = [web_item(id="1"), {**web_item(), "id": ""}, {k: v for k, v in web_item().items() if k != "author"}]
    del items[2]["id"]
    posts = read(part, "m.json", json.dumps(items)).posts
    assert [(p.post_id, p.author) for p in posts] == [("1", "alice"), (None, "alice"), (None, None)]


# --- timestamps -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "raw"),
    [
        (MARCH_2_EPOCH, MARCH_2, "1709337600"),
        (str(MARCH_2_EPOCH), MARCH_2, "1709337600"),
        ("2024-03-02T00:00:00Z", MARCH_2, "2024-03-02T00:00:00Z"),
        ("2024-03-02T05:30:00+05:30", MARCH_2, "2024-03-02T05:30:00+05:30"),
        ("2024-03-01T19:00:00-05:00", MARCH_2, "2024-03-01T19:00:00-05:00"),
        ("2024-03-02 00:00:00", MARCH_2, "2024-03-02 00:00:00"),
        ("yesterday", None, "yesterday"),
        (True, None, "true"),
        (10**15, None, str(10**15)),
        (None, None, None),
    ],
)
def test_timestamp_variants(part: Path, value: object, expected: datetime | None, raw: str | None) -> None:
    (post,) = read(part, "t.json", json.dumps([web_item(id="1"), web_item(id="2", createTime=value)])).posts[1:]
    assert post.created_at == expected and post.created_at_raw == raw
    if expected is not None:
        assert post.created_at.utcoffset() == timedelta(0)


# --- csv_export -----------------------------------------------------------------------------------------

CSV_HEADER = "post_id,created_at,author,caption,music_id,music_title,media_path"


def test_csv_rows_lines_and_quoted_newlines(part: Path) -> None:
    text = (
        f"{CSV_HEADER},views\r\n"
        f"{BIG_ID},2024-03-02T01:00:00+01:00,@amy,\"first line\nsecond #Stitch with @ben\",69001,Tune,media/x.m4a,9\r\n"
        "2,not-a-date,cat\r\n"
        f"3,{MARCH_2_EPOCH},dan,,,,,\r\n"
        "\r\n"
        "4,2024-03-02T00:00:00,eve,plain,7.0e18,,,\r\n"
    )
    result = read(part, "export.csv", text)
    assert result.source_format == "csv_export"
    first, third = result.posts
    assert (first.post_id, first.author, first.created_at) == (str(BIG_ID), "amy", MARCH_2)
    assert first.caption == "first line\nsecond #Stitch with @ben"
    assert (first.mentions, first.hashtags) == (["ben"], ["stitch"])
    assert (first.platform_music_id, first.music_title, first.media_path) == ("69001", "Tune", "media/x.m4a")
    assert (first.source_line, first.source_record) == (2, 0)
    assert first.raw == text.split("\r\n", 1)[1].split("\r\n")[0]
    assert (third.post_id, third.created_at, third.caption, third.media_path) == ("3", MARCH_2, None, None)
    assert (third.source_line, third.source_record) == (5, 2)
    bad_row, float_music = result.problems
    assert (bad_row.rule, bad_row.source_line, bad_row.raw) == ("bad_csv_row", 4, "2,not-a-date,cat")
    assert (float_music.rule, float_music.field, float_music.source_line) == ("bad_type", "music_id", 7)


def test_csv_naive_and_unparsable_times(part: Path) -> None:
    text = f"{CSV_HEADER}\n1,2024-03-02T00:00:00,a,,,,\n2,02/03/2024,b,,,,\n"
    first, second = read(part, "t.csv", text).posts
    assert first.created_at == MARCH_2
    assert (second.created_at, second.created_at_raw) == (None, "02/03/2024")


# --- detection, drift, encoding, names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("notes.txt", "just some notes\nnothing else\n"),
        ("feed.xml", "<?xml version='1.0'?><items><item id='1'/></items>"),
        ("empty.json", ""),
    ],
)
def test_unknown_format_without_records_is_one_file_problem(part: Path, name: str, text: str) -> None:
    result = read(part, name, text)
    assert result.source_format is None and result.posts == []
    (problem,) = result.problems
    assert (problem.rule, problem.field, problem.source_record) == ("unknown_format", None, None)
    assert name in problem.reason and problem.raw == text


@pytest.mark.parametrize(
    ("name", "text", "raws"),
    [
        ("other.json", json.dumps([{"name": "x", "price": 3}]), ['{"name": "x", "price": 3}']),
        ("people.csv", "name,age,city\nann,3,x\nbo,4,y\n", ["ann,3,x", "bo,4,y"]),
        ("numbers.json", "[1, 2, 3]", ["1", "2", "3"]),
        ("lines.jsonl", '{"a": 1}\n{"b": 2}\n', ['{"a": 1}', '{"b": 2}']),
    ],
)
def test_unknown_format_counts_every_record(part: Path, name: str, text: str, raws: list[str]) -> None:
    """posts + quarantine = records in: an unknown file is one quarantine row per record it holds, each
    naming the candidates considered and why each refused."""
    result = read(part, name, text)
    assert result.source_format is None and result.posts == []
    assert [(p.rule, p.source_record, p.raw) for p in result.problems] == [
        ("unknown_format", i, raw) for i, raw in enumerate(raws)
    ]
    reason = result.problems[0].reason
    assert name in reason and ("tiktok_web:" in reason or "csv_export:" in reason)


def test_json_is_detected_by_content_not_extension(part: Path) -> None:
    result = read(part, "export.txt", json.dumps([research_video()]))
    assert result.source_format == "research_api" and len(result.posts) == 1


@pytest.mark.parametrize(
    "text",
    [
        '[\n  {"id": "1", "createTime": 1},\n  {"id": "2" "createTime": 2}\n]\n',
        '{"itemList": [\n  {"id": "1", "createTime": 1},\n  {"id": "2" "createTime": 2}\n]}\n',
    ],
)
def test_broken_json_document_is_one_problem_with_position(part: Path, text: str) -> None:
    result = read(part, "broken.json", text)
    (problem,) = result.problems
    assert (problem.rule, problem.source_line, problem.raw) == ("malformed_json", 3, text)
    assert "line 3" in problem.reason and "column 14" in problem.reason


@pytest.mark.parametrize(
    ("name", "text", "column"),
    [
        ("web.json", json.dumps([{k: v for k, v in web_item().items() if k != "createTime"}] * 2), "createTime"),
        ("r.jsonl", json.dumps({k: v for k, v in research_video().items() if k != "username"}), "username"),
        ("c.csv", "post_id,created_at,author,caption,music_id,music_title\n1,2,3,4,5,6\n", "media_path"),
    ],
)
def test_schema_drift_quarantines_each_record_naming_file_field_and_format(
    part: Path, name: str, text: str, column: str
) -> None:
    result = read(part, name, text)
    records = text.count("\n") - 1 if name.endswith(".csv") else (2 if name == "web.json" else 1)
    assert result.posts == [] and isinstance(result.drift, SchemaDriftError)
    assert (result.drift.source_file, result.drift.column) == (name, column)
    assert len(result.problems) == records
    for i, problem in enumerate(result.problems):
        assert (problem.rule, problem.field, problem.source_record) == ("schema_drift", column, i)
        assert name in problem.reason and repr(column) in problem.reason
        assert f"format {result.source_format}" in problem.reason and problem.source_format == result.source_format
        assert problem.raw  # the record's own text is kept
    if name.endswith(".csv"):
        assert result.problems[0].raw == "1,2,3,4,5,6"


def test_column_missing_from_some_records_is_not_drift(part: Path) -> None:
    partial = {k: v for k, v in web_item(id="2").items() if k != "createTime"}
    posts = read(part, "w.json", json.dumps([web_item(id="1"), partial])).posts
    assert [(p.post_id, p.created_at) for p in posts] == [("1", MARCH_2), ("2", None)]


def test_bom_is_accepted_and_invalid_utf8_reported(part: Path) -> None:
    bom = b"\xef\xbb\xbf"
    assert read(part, "b.csv", bom + f"{CSV_HEADER}\n1,{MARCH_2_EPOCH},a,é,,,\n".encode()).posts[0].caption == "é"
    assert read(part, "b.json", bom + json.dumps([web_item()]).encode()).source_format == "tiktok_web"
    bad = read(part, "latin.csv", f"{CSV_HEADER}\n1,2,caf\xe9,,,,\n".encode("latin-1"))
    (problem,) = bad.problems
    assert (bad.source_format, problem.rule, problem.source_line) == ("csv_export", "bad_encoding", 2)


# --- issue 15.3: the container is decided by the whole file; problems stay per line / record -------------


@pytest.mark.parametrize("name", ["items.jsonl", "items.json", "items.txt"])
def test_json_lines_whose_first_line_is_an_array_lose_only_that_line(part: Path, name: str) -> None:
    lines = ["[1,2]", json.dumps(web_item(id="11")), json.dumps(web_item(id="12"))]
    result = read(part, name, "\n".join(lines) + "\n")
    assert result.source_format == "tiktok_web"
    assert [(p.post_id, p.source_line, p.source_record) for p in result.posts] == [("11", 2, 1), ("12", 3, 2)]
    (problem,) = result.problems
    assert (problem.rule, problem.source_line, problem.source_record, problem.raw) == ("not_an_object", 1, 0, "[1,2]")


def test_invalid_utf8_quarantines_only_the_json_line_that_holds_it(part: Path) -> None:
    good = [json.dumps(web_item(id=str(i))) for i in (1, 3)]
    bad = json.dumps(web_item(id="2", desc="caf@")).encode().replace(b"caf@", b"caf\xff")
    data = good[0].encode() + b"\n" + bad + b"\n" + good[1].encode() + b"\n"
    result = read(part, "items.jsonl", data)
    assert [p.post_id for p in result.posts] == ["1", "3"]
    (problem,) = result.problems
    assert (problem.rule, problem.source_line, problem.source_record) == ("bad_encoding", 2, 1)
    assert "byte 0xff at line 2" in problem.reason
    assert problem.raw == bad.decode("utf-8", errors="backslashreplace") and "caf\\xff" in problem.raw
    problem.raw.encode("utf-8")  # storable: no lone surrogates left


def test_invalid_utf8_inside_a_json_array_record_quarantines_that_record_only(part: Path) -> None:
    text = json.dumps([web_item(id="1"), web_item(id="2", desc="caf@"), web_item(id="3")], indent=2)
    result = read(part, "items.json", text.encode().replace(b"caf@", b"caf\xe9"))
    assert [p.post_id for p in result.posts] == ["1", "3"]
    (problem,) = result.problems
    assert (problem.rule, problem.source_record, problem.source_format) == ("bad_encoding", 1, "tiktok_web")
    assert problem.source_line is not None and "byte 0xe9" in problem.reason


def test_invalid_utf8_in_one_csv_row_keeps_the_other_rows(part: Path) -> None:
    data = f"{CSV_HEADER}\n1,{MARCH_2_EPOCH},a,ok,,,\n2,{MARCH_2_EPOCH},b,caf\xe9,,,\n3,{MARCH_2_EPOCH},c,fine,,,\n"
    result = read(part, "posts.csv", data.encode("latin-1"))
    assert [p.post_id for p in result.posts] == ["1", "3"]
    (problem,) = result.problems
    assert (problem.rule, problem.source_line, problem.source_record) == ("bad_encoding", 3, 1)
    assert "caf\\xe9" in problem.raw


def test_utf16_and_unreadable_binary_files_stay_one_file_level_problem(part: Path) -> None:
    utf16 = read(part, "wide.json", json.dumps([web_item()]).encode("utf-16"))
    assert [(p.rule, p.source_record) for p in utf16.problems] == [("bad_encoding", None)] and not utf16.posts
    assert "UTF-16" in utf16.problems[0].reason
    binary = read(part, "blob.bin", b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    (problem,) = binary.problems
    assert (problem.rule, problem.source_record) == ("bad_encoding", None)
    problem.raw.encode("utf-8")


def test_weird_names_and_partition_listing(part: Path) -> None:
    weird = "a b;$(touch pwned)`x`.json"
    write(part, weird, json.dumps([web_item()]))
    write(part, "b.csv", f"{CSV_HEADER}\n1,{MARCH_2_EPOCH},a,,,,\n")
    write(part, ".hidden.json", "[]")
    (part / "sub").mkdir()
    write(part, "sub/c.json", "[]")
    write(part, "media/1.json", "[]")
    assert list_export_files(part) == [weird, "b.csv"]
    results = read_partition(part)
    assert [(r.source_file, r.source_format, len(r.posts)) for r in results] == [
        (weird, "tiktok_web", 1),
        ("b.csv", "csv_export", 1),
    ]
    assert results[0].posts[0].source_file == weird
    assert not (part / "pwned").exists() and not Path("pwned").exists()


@pytest.mark.parametrize(
    ("caption", "mentions", "hashtags"),
    [
        ("#duet with @maria_x love it", ["maria_x"], ["duet"]),
        ("#stitch with @Some.User. wow #Stitch #fyp#ForYou", ["Some.User"], ["stitch", "fyp", "foryou"]),
        ("Duet with @lee", ["lee"], ["duet"]),
        ("mail me@example.com #Café", [], ["café"]),
    ],
)
def test_caption_mentions_and_hashtags(part: Path, caption: str, mentions: list[str], hashtags: list[str]) -> None:
    (post,) = read(part, "c.json", json.dumps([web_item(desc=caption)])).posts
    assert (post.mentions, post.hashtags) == (mentions, hashtags)


# --- issue 15.6: big CSV fields load or name themselves; raw is kept in full ---------------------------


def test_csv_field_over_128_kib_loads(part: Path) -> None:
    caption = "la " * 70_000  # 210 000 characters: over Python's default csv field limit
    (post,) = read(part, "big.csv", f'{CSV_HEADER}\n1,{MARCH_2_EPOCH},a,"{caption}",,,\n').posts
    assert post.caption == caption


def test_csv_field_over_the_limit_is_bad_csv_row_naming_the_field(part: Path, monkeypatch) -> None:
    from pipelines.ingest import csv_export

    monkeypatch.setattr(csv_export, "MAX_FIELD_CHARS", 1000)
    result = read(part, "big.csv", f"{CSV_HEADER}\n1,{MARCH_2_EPOCH},a,{'x' * 2000},,,\n2,{MARCH_2_EPOCH},b,ok,,,\n")
    assert [p.post_id for p in result.posts] == ["2"]
    (problem,) = result.problems
    assert (problem.rule, problem.field, problem.source_line) == ("bad_csv_row", "caption", 2)
    assert "field 'caption' (column 4) holds 2,000 characters" in problem.reason
    assert problem.raw == f"1,{MARCH_2_EPOCH},a,{'x' * 2000},,,"


def test_a_huge_bad_record_keeps_its_raw_text_in_full(part: Path) -> None:
    huge = '{"id": "1", "desc": "' + "y" * (1024 * 1024 + 10) + '"'  # unterminated object, over 1 MiB
    result = read(part, "items.jsonl", huge + "\n" + json.dumps(web_item(id="2")) + "\n")
    assert [p.post_id for p in result.posts] == ["2"]
    (problem,) = result.problems
    assert problem.rule == "malformed_json" and problem.raw == huge
