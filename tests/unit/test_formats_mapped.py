"""Declarative formats (config/formats/*.yaml): loaded into the registry, detected by their signature, mapped
onto canonical fields, schema drift and bad values reported like the built-in formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.ingest import read_export
from pipelines.ingest.mapped import FORMATS_DIR, MappingError, load
from pipelines.ingest.registry import all_formats

BIG = "7380000000000000901"


@pytest.fixture
def part(tmp_path: Path) -> Path:
    folder = tmp_path / "dt=2024-06-10"
    folder.mkdir()
    return folder


@pytest.fixture
def formats_dir(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "formats"
    folder.mkdir()
    monkeypatch.setenv("TRENDTRACE_FORMATS_DIR", str(folder))
    return folder


def test_the_shipped_example_reads_a_semicolon_vendor_sheet(part: Path, monkeypatch) -> None:
    monkeypatch.setenv("TRENDTRACE_FORMATS_DIR", str(FORMATS_DIR))
    text = ("clip_ref;posted_utc;creator;caption;sound_ref;sound_title;views;likes;file;tags\n"
            f"{BIG};2024-06-10T08:00:00Z;@mia;hi @zoe;7380000000000009001;Sound A;120;4;media/x.m4a;#Dance, fyp\n")
    (part / "clips_june.csv").write_text(text)
    result = read_export(part, "clips_june.csv")
    assert result.source_format == "vendor_clipsheet" and result.problems == []
    (post,) = result.posts
    assert (post.post_id, post.author, post.platform_music_id, post.music_title) == (
        BIG, "mia", "7380000000000009001", "Sound A")
    assert (post.plays, post.likes, post.media_path, post.mentions) == (120, 4, "media/x.m4a", ["zoe"])
    assert post.hashtags == ["dance", "fyp"] and post.created_at.isoformat() == "2024-06-10T08:00:00+00:00"


def test_json_mapping_with_nested_paths_drift_and_bad_values(part: Path, formats_dir: Path) -> None:
    (formats_dir / "inhouse.yaml").write_text(
        "name: inhouse_scraper\ncontainer: json\nsignature: [clip, owner]\nrequired: [clip, ts]\n"
        "fields: {post_id: clip, created_at: ts, author: owner/handle, plays: metrics/views}\n")
    good = [{"clip": BIG, "ts": 1718006400, "owner": {"handle": "ann"}, "metrics": {"views": 9}},
            {"clip": "2", "ts": 1718006400, "owner": {"handle": "bo"}, "metrics": {"views": "many"}}]
    result = read_export(part, _write(part, "a.json", json.dumps(good)))
    assert result.source_format == "inhouse_scraper"
    assert [(p.post_id, p.author, p.plays) for p in result.posts] == [(BIG, "ann", 9)]
    (bad,) = result.problems
    assert (bad.rule, bad.field, bad.source_record) == ("bad_type", "metrics/views", 1)
    drifted = read_export(part, _write(part, "b.jsonl", "\n".join(
        json.dumps({"clip": str(i), "owner": {}}) for i in range(3))))
    assert [(p.rule, p.field) for p in drifted.problems] == [("schema_drift", "ts")] * 3
    assert "inhouse_scraper" in drifted.problems[0].reason


def test_formats_lists_the_mapping_and_broken_configs_name_their_file(formats_dir: Path) -> None:
    from pipelines.cli import app

    (formats_dir / "sheet.yaml").write_text(
        "container: csv\nsignature: [Clip_ID]\nfields: {post_id: Clip_ID, created_at: Posted}\n")
    listed = CliRunner().invoke(app, ["formats"])
    assert listed.exit_code == 0 and "sheet" in listed.output and "clip_id" in listed.output
    assert [m.name for m in load()] == ["sheet"] and "sheet" in [f.name for f in all_formats()]
    (formats_dir / "zz.yaml").write_text("container: xml\nsignature: [a]\nfields: {post_id: a}\n")
    with pytest.raises(MappingError, match=r"zz\.yaml.*container"):
        all_formats()
    assert CliRunner().invoke(app, ["formats"]).exit_code == 1
    (formats_dir / "zz.yaml").write_text("name: tiktok_web\ncontainer: json\nsignature: [a]\nfields: {post_id: a}\n")
    with pytest.raises(MappingError, match="already taken"):
        all_formats()


def _write(part: Path, name: str, text: str) -> str:
    (part / name).write_text(text)
    return name
