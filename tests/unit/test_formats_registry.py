"""The format registry: each tool's file is read by exactly its adapter, others refuse and say why; ids stay
exact as the tool wrote them; fields a tool lacks load as NULL; media files are never exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.ingest import list_export_files, read_export, read_partition_with_media
from pipelines.ingest.detect import detect
from pipelines.ingest.registry import FORMATS
from pipelines.records import SOURCE_FORMATS
from tests.fixtures import tool_exports as tools

EPOCH = tools.epoch(9)


@pytest.fixture
def part(tmp_path: Path) -> Path:
    folder = tmp_path / f"dt={tools.DAY}"
    (folder / "media").mkdir(parents=True)
    return folder


def read(part: Path, name: str, text: str):
    (part / name).write_text(text, encoding="utf-8")
    return read_export(part, name)


def ytdlp_info(**overrides) -> dict:
    info = {"id": "7380000000000000301", "title": "t", "description": "hi #fyp", "timestamp": EPOCH,
            "uploader": "hana", "channel": "Hana", "track": "Sound A", "duration": 9, "view_count": 5,
            "like_count": 1, "repost_count": 0, "comment_count": 0, "ext": "mp4",
            "webpage_url": "https://www.tiktok.com/@hana/video/7380000000000000301", "extractor": "TikTok",
            "extractor_key": "TikTok", "_type": "video", "epoch": EPOCH}
    info.update(overrides)
    return info


def test_every_format_is_a_source_format_with_a_signature() -> None:
    assert sorted(f.name for f in FORMATS) == sorted(SOURCE_FORMATS)
    assert all(f.signature and f.required and f.tool for f in FORMATS)


def test_ytdlp_info_is_not_misread_as_research_api_and_finds_its_media(part: Path) -> None:
    """view_count/like_count/comment_count are shared with the Research API: they decide nothing."""
    stem = "t [7380000000000000301]"
    (part / f"{stem}.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    result = read(part, f"{stem}.info.json", json.dumps(ytdlp_info(), indent=4))
    assert result.source_format == "ytdlp_info_json" and result.problems == []
    (post,) = result.posts
    assert (post.post_id, post.author, post.music_title, post.platform_music_id) == (
        "7380000000000000301", "hana", "Sound A", None)
    assert (post.plays, post.shares, post.duration_s, post.media_path) == (5, 0, 9.0, f"{stem}.mp4")
    verdicts = detect((part / f"{stem}.info.json").read_text(), "x.info.json").refusals
    assert verdicts["ytdlp_info_json"] == ""
    assert "needs 2 of the Research API video keys" in verdicts["research_api"]


def test_a_media_file_beside_the_exports_is_never_read_as_one(part: Path) -> None:
    (part / "clip [1].mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
    (part / "no_extension").write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 64)
    (part / "song.mp3").write_bytes(b"ID3\x04" + b"\x00" * 64)
    (part / "items.jsonl").write_text(json.dumps(tools.web_item("1", "a", EPOCH, "", "2", "t")) + "\n")
    assert list_export_files(part) == ["items.jsonl"]
    read = read_partition_with_media(part)
    assert [e.source_file for e in read.exports] == ["items.jsonl"]
    assert read.orphan_media == ["clip [1].mp4", "no_extension", "song.mp3"]


def test_media_claimed_by_id_or_path_is_not_orphan(part: Path) -> None:
    (part / "media" / "1.m4a").write_bytes(b"\x00\x00\x00\x18ftypM4A ")
    (part / "media" / "2.m4a").write_bytes(b"\x00\x00\x00\x18ftypM4A ")
    (part / "items.jsonl").write_text(json.dumps(tools.web_item("1", "a", EPOCH, "", "9", "t")) + "\n")
    assert read_partition_with_media(part).orphan_media == ["media/2.m4a"]


@pytest.mark.parametrize(
    ("record", "refusal"),
    [
        (ytdlp_info(extractor_key="Youtube", extractor="youtube"), "extractor Youtube, not TikTok"),
        (ytdlp_info(_type="playlist", id="hana", extractor_key="TikTokUser"), "type playlist"),
        ({"data": tools.web_item("1", "a", EPOCH, "", "2", "t"), "item_id": "1", "timestamp_collected": 1,
          "source_platform": "instagram.com"}, "source_platform instagram.com, not tiktok.com"),
    ],
)
def test_a_near_miss_is_unknown_naming_why_the_close_candidate_refused(part: Path, record: dict, refusal: str) -> None:
    result = read(part, "x.ndjson", json.dumps(record) + "\n" + json.dumps(record) + "\n")
    assert result.source_format is None and result.posts == []
    assert [(p.rule, p.source_record) for p in result.problems] == [("unknown_format", 0), ("unknown_format", 1)]
    assert refusal in result.problems[0].reason


def test_two_signatures_matching_is_ambiguous_naming_both(part: Path) -> None:
    hybrid = {**tools.apify_item("1", "a", EPOCH, "x", "2"), "desc": "x", "author": {"uniqueId": "a"}}
    result = read(part, "hybrid.json", json.dumps([hybrid]))
    (problem,) = result.problems
    assert problem.rule == "ambiguous_format" and "tiktok_web, apify_json" in problem.reason


def test_zeeschuimer_lines_are_unwrapped_keeping_the_whole_line_as_raw(part: Path) -> None:
    item = tools.web_item("7380000000000000101", "carol", EPOCH, "x #Dance", "7380000000000009001", "A",
                          duet_from="7380000000000000001")
    line = json.dumps({"id": 1, "nav_index": "1:0", "item_id": item["id"], "timestamp_collected": 1718020800000,
                       "source_platform": "tiktok.com", "data": item})
    bad = json.dumps({"item_id": "x", "timestamp_collected": 1, "source_platform": "tiktok.com", "data": "gone"})
    result = read(part, "zeeschuimer-export-tiktok.com-2024-06-10T120000.ndjson", line + "\n" + bad + "\n")
    assert result.source_format == "zeeschuimer_ndjson"
    (post,) = result.posts
    assert (post.post_id, post.platform_music_id, post.duet_from_post_id) == (
        "7380000000000000101", "7380000000000009001", "7380000000000000001")
    assert post.raw == line and post.source_format == "zeeschuimer_ndjson" and "dance" in post.hashtags
    (problem,) = result.problems
    assert (problem.rule, problem.source_record) == ("not_an_object", 1)


def test_research_pages_per_line_keep_19_digit_numbers_exact_and_locations(part: Path) -> None:
    page = ('{"data": {"videos": [{"id": 7380000000000000501, "create_time": %d, "username": "r", '
            '"music_id": 7380000000000009001, "video_description": "x"}, {"id": 7380000000000000502, '
            '"create_time": %d, "username": "s", "music_id": 7380000000000009002}], "has_more": true}}')
    text = page % (EPOCH, EPOCH) + "\n" + page.replace("0501", "0503").replace("0502", "0504") % (EPOCH, EPOCH)
    result = read(part, "pages.jsonl", text)
    assert result.source_format == "research_api" and result.problems == []
    assert [(p.post_id, p.source_line, p.source_record) for p in result.posts] == [
        ("7380000000000000501", 1, 0), ("7380000000000000502", 1, 1),
        ("7380000000000000503", 2, 2), ("7380000000000000504", 2, 3)]
    assert result.posts[1].platform_music_id == "7380000000000009002"
    assert json.loads(result.posts[0].raw)["id"] == 7380000000000000501


def test_research_early_shape_reads_video_id_and_leaves_author_null(part: Path) -> None:
    text = json.dumps({"data": {"videos": [{"video_id": 7380000000000000601, "create_time": EPOCH,
                                           "video_description": "e", "region_code": "US"}]}})
    result = read(part, "early.json", text)
    assert result.source_format == "research_api_early"
    (post,) = result.posts
    assert (post.post_id, post.author, post.music_title, post.duet_from_post_id) == (
        "7380000000000000601", None, None, None)


def test_fourcat_csv_new_and_old_shapes_and_zeeschuimer_semicolons(part: Path) -> None:
    item = tools.web_item("7380000000000000201", "erin", EPOCH, "a, \"q\"; b #X", "7380000000000009001", "A",
                          duet_from="7380000000000000001")
    new = tools.fourcat_row(item)
    old = {k: v for k, v in new.items() if k != "unix_timestamp"} | {"timestamp": EPOCH, "is_duet": True}
    for name, text, fmt in (
        ("tiktok-search-a.csv", tools.csv_text([new], ","), "fourcat_csv"),
        ("tiktok-search-old.csv", tools.csv_text([old], ","), "fourcat_csv"),
        ("zeeschuimer-export-tiktok.com-2024-06-10T120500.csv", tools.csv_text([new], ";"), "zeeschuimer_csv"),
    ):
        result = read(part, name, text)
        assert result.source_format == fmt and result.problems == [], (name, result.problems)
        (post,) = result.posts
        assert (post.post_id, post.platform_music_id, post.author, post.music_title) == (
            "7380000000000000201", "7380000000000009001", "erin", "A")
        assert post.created_at is not None and int(post.created_at.timestamp()) == EPOCH
        assert post.duet_from_post_id is None  # only a yes/no flag in these files
        assert (post.plays, post.likes, post.hashtags[:1]) == (300, 7, ["x"])
        assert post.caption == "a, \"q\"; b #X"


def test_apify_json_and_flattened_csv(part: Path) -> None:
    item = tools.apify_item("7380000000000000401", "ivan", EPOCH, "take #Dance @bo", "7380000000000009001")
    (part / tools.apify_media_name(item)).write_bytes(b"\x00\x00\x00\x18ftypmp42")
    from_json = read(part, "dataset_tiktok-scraper_x.json", json.dumps([item]))
    from_csv = read(part, "dataset_tiktok-scraper_x.csv", tools.csv_text([tools.flatten(item)], ","))
    assert (from_json.source_format, from_csv.source_format) == ("apify_json", "apify_csv")
    for result in (from_json, from_csv):
        assert result.problems == []
        (post,) = result.posts
        assert (post.post_id, post.author, post.platform_music_id, post.music_original) == (
            "7380000000000000401", "ivan", "7380000000000009001", True)
        assert (post.plays, post.likes, post.shares, post.comments, post.duration_s) == (900, 11, 2, 3, 9.0)
        assert post.hashtags == ["dance", "summer"] and post.mentions == ["bo", "friend"]
        assert post.media_path == tools.apify_media_name(item)
        assert int(post.created_at.timestamp()) == EPOCH


def test_the_tool_partition_reads_every_file_with_its_own_adapter(tmp_path: Path) -> None:
    land = tools.build(tmp_path)
    read = read_partition_with_media(land.partition)
    fmt_of = {e.source_file: e.source_format for e in read.exports}
    for expect in land.expected:
        assert fmt_of[expect.source_file] == expect.fmt, expect
    assert read.orphan_media[-1] == land.orphans[0]


def test_ytdlp_dump_json_lines_find_media_by_the_id_in_brackets(part: Path) -> None:
    """`yt-dlp -j` prints one info dict per line; the videos keep the default `%(title)s [%(id)s].%(ext)s`."""
    (part / "media" / "other title [7380000000000000302].webm").write_bytes(b"\x1a\x45\xdf\xa3" + b"\x00" * 32)
    lines = [json.dumps(ytdlp_info()), json.dumps(ytdlp_info(id="7380000000000000302", ext="webm"))]
    result = read(part, "dump.jsonl", "\n".join(lines) + "\n")
    assert result.source_format == "ytdlp_info_json"
    assert [(p.post_id, p.media_path) for p in result.posts] == [
        ("7380000000000000301", None), ("7380000000000000302", "media/other title [7380000000000000302].webm")]
