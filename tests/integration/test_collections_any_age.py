"""Collections of any age (issue 16, item 6) on a real warehouse file through the real stages.

A partition is the day its data was collected. Here a collection day holds posts from 40+ days back: they land
(no time-window rejection), the lineage/cascade/adoption tables change only for the sounds and days those posts
touch, a rerun changes nothing, a rerun without them undoes them, and the alert they cause fires once, with the
day the sound really crossed. A post seen again in a later collection keeps one posts row and gets one
post_stats row per collection.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import duckdb
import pytest
import yaml

from pipelines import digest, warehouse
from pipelines.alerts import channels
from pipelines.stages import adoption, build_cascades, ingest, link_lineage, validate
from pipelines.stages import alerts as alerts_stage
from tests.support import media

D0 = date(2024, 1, 1)
COLLECTED = D0 + timedelta(days=50)  # the collection day (partition) holding the back-dated posts
HISTORY_PARTITIONS = [D0 + timedelta(days=k) for k in (9, 19, 29, 39, 49)]  # each holds the 10 days before it
STAGES = (link_lineage, build_cascades, adoption, alerts_stage)
HISTORY_TABLES = ("lineage_edges", "lineage_rejections", "lineage_paths", "cascades", "sound_daily",
                  "sound_stage_changes")
CHANNEL_ENV = [channels.ENV_WEBHOOK_URL, channels.ENV_SMTP_HOST, "AIRFLOW_CONN_TRENDTRACE_WEBHOOK",
               "AIRFLOW_CONN_TRENDTRACE_SMTP"]


def day(k: int) -> date:
    return D0 + timedelta(days=k)


def at(k: int, hour: int = 12) -> datetime:
    return datetime.combine(day(k), time(hour))


# (post_id, author, created day index, hour, music id, sound, caption)
HISTORY = [
    # sound A: an origin on day 1 and five reuses; yves names @xavier, who has no post yet
    ("a0", "ann", 1, 9, "ma", "snd_a", None),
    ("a6", "uma", 6, 9, "ma", "snd_a", None),
    ("a12", "ugo", 12, 9, "ma", "snd_a", None),
    ("y20", "yves", 20, 9, "ma", "snd_a", "#duet with @xavier yes"),
    ("a30", "ula", 30, 9, "ma", "snd_a", None),
    ("a42", "uri", 42, 9, "ma", "snd_a", None),
    # sound B: crosses 10 creators on day 9, long before the collection; untouched by it
    *[(f"b{k}", f"bee{k}", k, 10, "mb", "snd_b", None) for k in range(21)],
    # sound C: first observed on day 30
    ("c30", "cora", 30, 11, "mc", "snd_c", None),
    ("c31", "cole", 31, 11, "mc", "snd_c", None),
    ("c33", "cruz", 33, 11, "mc", "snd_c", None),
]
PLAIN_ON_COLLECTED = [  # what the collection day holds besides the back-dated posts
    ("b50", "bee50", 50, 8, "mb", "snd_b", None),
    ("c50", "cass", 50, 9, "mc", "snd_c", None),
]
BACKDATED = [  # 40 days back: the parent yves named, five more creators of A, and C's true first post
    ("x10", "xavier", 10, 8, "ma", "snd_a", None),
    *[(f"n{i}", f"new{i}", 10 + i // 3, 14, "ma", "snd_a", None) for i in range(5)],
    ("c9", "cyd", 9, 7, "mc", "snd_c", None),
]


def add(con, rows, ingest_day: date | None = None) -> None:
    for post_id, author, k, hour, music, sound, caption in rows:
        part = ingest_day or next(p for p in HISTORY_PARTITIONS if p >= day(k))
        con.execute(
            "INSERT INTO validated_posts (post_id, author, created_at, created_day, caption, platform_music_id,"
            " music_title, music_original, source_format, source_file, source_record, ingest_day)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, TRUE, 'tiktok_web', 'x.jsonl', 0, ?)",
            [post_id, author, at(k, hour), day(k), caption, music, f"original sound - {sound}", part],
        )
        con.execute("INSERT INTO post_sounds VALUES (?, ?, 'primary', 0, 10, 0, 10, 1.0, 0.9, 'chromaprint', ?, ?, "
                    "0.0, 'as_posted')",
                    [post_id, sound, sound, part])


def drop(con, rows) -> None:
    """What validate and match_sounds do when partition COLLECTED is rerun without these records."""
    ids = [r[0] for r in rows]
    con.execute("DELETE FROM validated_posts WHERE list_contains(?, post_id)", [ids])
    con.execute("DELETE FROM post_sounds WHERE list_contains(?, post_id)", [ids])


def run(partition: date) -> list:
    return [stage.run(partition, f"test-{partition}") for stage in STAGES]


def tables(path) -> dict[str, set[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {t: {tuple(tuple(v) if isinstance(v, list) else v for v in row)
                   for row in con.execute(f"SELECT * FROM {t}").fetchall()} for t in HISTORY_TABLES}
        out["alerts"] = set(con.execute("SELECT sound_id, rule, level, day FROM alerts").fetchall())
        return out
    finally:
        con.close()


def content_digests(path) -> dict:
    """Order-independent digests of every table except the run log (a rerun adds its runs there)."""
    return {t: d for t, d in digest.table_digests(path).items() if t != "pipeline_runs"}


def true_crossing_day(rows, level: int) -> date:
    """The first day a sound's distinct creators reached `level`, from the posts themselves."""
    first: dict[str, date] = {}
    for _pid, author, k, *_ in rows:
        first[author] = min(first.get(author, day(k)), day(k))
    return sorted(first.values())[level - 1]


@pytest.fixture
def wh(pipeline_env, tmp_path, monkeypatch):
    for key in CHANNEL_ENV:
        monkeypatch.delenv(key, raising=False)
    config = tmp_path / "alerts.yaml"
    config.write_text(yaml.safe_dump({"rules": [{"name": "creators", "kind": "cumulative_creators",
                                                 "levels": [10]}]}), encoding="utf-8")
    monkeypatch.setenv("TRENDTRACE_ALERTS_CONFIG", str(config))
    _landing, path = pipeline_env
    con = warehouse.connect(path)
    add(con, HISTORY)
    add(con, PLAIN_ON_COLLECTED, COLLECTED)
    con.close()
    for partition in HISTORY_PARTITIONS:
        assert all(r.status == "success" for r in run(partition))
    return path


def test_a_collection_of_old_posts_changes_only_what_they_touch(wh):
    run(COLLECTED)
    plain = tables(wh)
    plain_digests = content_digests(wh)
    assert plain["alerts"] == {("snd_b", "creators", 10, day(9))}  # A has 6 creators, C 4: below 10

    con = warehouse.connect(wh)
    add(con, BACKDATED, COLLECTED)
    con.close()
    results = run(COLLECTED)
    assert all(r.status == "success" for r in results), [r.message for r in results]
    after = tables(wh)

    # only what the back-dated posts can change was relinked: A's and C's posts from their earliest day on
    # (and the partition's own posts), never sound B's history
    in_scope = {p for p, _a, k, _h, music, *_ in HISTORY + PLAIN_ON_COLLECTED + BACKDATED
                if (music == "ma" and k >= 10) or (music == "mc" and k >= 9)} | {"b50"}
    assert results[0].rows_in == len(in_scope)

    edges = {c: (p, rel) for c, p, rel, *_ in after["lineage_edges"]}
    assert edges["y20"] == ("x10", "duet")  # the post yves named arrived 30 days late: now his parent
    assert {c: edges[c] for c in ("c30", "c31", "c33", "c50")} == dict.fromkeys(
        ("c30", "c31", "c33", "c50"), ("c9", "sound_reuse"))  # C's true first post became the parent of all
    assert ("y20", None, "caption_duet", "no_earlier_post") in {r[:4] for r in plain["lineage_rejections"]}
    assert not any(r[0] == "y20" for r in after["lineage_rejections"])

    # history outside the touched sounds and days is the same rows, not merely the same counts
    def kept(rows, keep):
        return {r for r in rows if keep(r)}

    untouched_post = {p for p, *_rest, sound, _c in HISTORY + PLAIN_ON_COLLECTED if sound == "snd_b"} | {
        p for p, _a, k, *_ in HISTORY if p.startswith("a") and k < 10}
    assert kept(after["lineage_edges"], lambda r: r[0] in untouched_post) == kept(
        plain["lineage_edges"], lambda r: r[0] in untouched_post)
    assert kept(after["lineage_paths"], lambda r: r[0] in untouched_post and r[2] == "snd_b") == kept(
        plain["lineage_paths"], lambda r: r[0] in untouched_post and r[2] == "snd_b")
    assert kept(after["cascades"], lambda r: r[1] == "snd_b") == kept(plain["cascades"], lambda r: r[1] == "snd_b")
    for t in ("sound_daily", "sound_stage_changes"):
        assert kept(after[t], lambda r: r[0] == "snd_b") == kept(plain[t], lambda r: r[0] == "snd_b")
        assert kept(after[t], lambda r: r[0] == "snd_a" and r[1] < day(10)) == kept(
            plain[t], lambda r: r[0] == "snd_a" and r[1] < day(10))
    # A's days from the back-dated posts on did change (the assertions above are not vacuous)
    assert kept(after["sound_daily"], lambda r: r[0] == "snd_a" and r[1] >= day(10)) != kept(
        plain["sound_daily"], lambda r: r[0] == "snd_a" and r[1] >= day(10))
    con = duckdb.connect(str(wh), read_only=True)
    c_days = con.execute("SELECT min(day), max(day) FROM sound_daily WHERE sound_id = 'snd_c'").fetchall()[0]
    a_cum = con.execute("SELECT cum_creators FROM sound_daily WHERE sound_id = 'snd_a' AND day = ?",
                        [COLLECTED]).fetchall()[0][0]
    con.close()
    assert c_days == (day(9), COLLECTED)  # C's series now starts on its true first day
    assert a_cum == 12

    # the alert the back-dated posts cause fires once, with the day the sound really crossed 10 creators
    a_rows = [r for r in HISTORY + BACKDATED if r[5] == "snd_a"]
    assert after["alerts"] == {("snd_b", "creators", 10, day(9)),
                               ("snd_a", "creators", 10, true_crossing_day(a_rows, 10))}
    assert true_crossing_day(a_rows, 10) == day(20)  # yves, the 10th creator once the old posts count

    # a rerun of the collection day changes nothing at all
    settled = content_digests(wh)
    run(COLLECTED)
    assert digest.differences(settled, content_digests(wh)) == []

    # the same collection rerun without the back-dated files undoes their effect on every history table (the
    # alert already recorded stays: alerts are an outbox, delivered once, never recalled)
    con = warehouse.connect(wh)
    drop(con, BACKDATED)
    con.close()
    run(COLLECTED)
    undone = content_digests(wh)
    diff = digest.differences(plain_digests, undone)
    # (v_sound_timeline lists each day's alerts beside the counts)
    assert [line.split(":")[0] for line in diff] == ["alerts", "v_sound_timeline"], diff
    assert {t: v for t, v in tables(wh).items() if t != "alerts"} == {
        t: v for t, v in plain.items() if t != "alerts"}


def _web(pid: str, author: str, created: datetime, plays: int, music: str = "m1") -> dict:
    return {
        "id": pid, "createTime": int(created.replace(tzinfo=UTC).timestamp()), "desc": "from the sound's page",
        "author": {"uniqueId": author}, "music": {"id": music, "title": "Song", "original": False},
        "stats": {"playCount": plays, "diggCount": plays // 10, "shareCount": 1, "commentCount": 2},
        "video": {"duration": 6},
    }


@pytest.fixture
def landing(pipeline_env, tmp_path):
    """dt=COLLECTED: a sound's page (posts from 40 to 90 days back, real audio); dt=COLLECTED+1: the page
    collected again, one post re-seen with higher counters (no media this time) and one new post."""
    root, _wh = pipeline_env
    song = media.tone_music(tmp_path / "song.wav", 6.0, seed=4)
    first, second = root / f"dt={COLLECTED}", root / f"dt={COLLECTED + timedelta(days=1)}"
    for part in (first, second):
        (part / "media").mkdir(parents=True)
    media.encode(song, first / "media" / "7400000000000000001.m4a")
    old = [("7400000000000000001", "ann", 40, 1000)]
    for i, back in enumerate((45, 60, 75, 90), start=2):
        pid = f"74000000000000000{i:02d}"
        shutil.copyfile(first / "media" / "7400000000000000001.m4a", first / "media" / f"{pid}.m4a")
        old.append((pid, f"user{i}", back, 100 * i))
    lines = [json.dumps(_web(pid, a, datetime.combine(COLLECTED - timedelta(days=b), time(12)), plays))
             for pid, a, b, plays in old]
    (first / "page.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copyfile(first / "media" / "7400000000000000001.m4a", second / "media" / "7400000000000000099.m4a")
    again = [json.dumps(_web("7400000000000000001", "ann", datetime.combine(COLLECTED - timedelta(days=40),
                                                                          time(12)), 5000)),
             json.dumps(_web("7400000000000000099", "zoe", datetime.combine(COLLECTED, time(9)), 7))]
    (second / "page.jsonl").write_text("\n".join(again) + "\n", encoding="utf-8")
    return SimpleNamespace(root=root, old=old)


def test_old_posts_land_and_a_re_seen_post_keeps_one_row(landing, pipeline_env):
    _root, wh = pipeline_env
    second = COLLECTED + timedelta(days=1)

    def snap():
        con = duckdb.connect(str(wh), read_only=True)
        try:
            return (
                con.execute("SELECT post_id, ingest_day, created_day, stats.plays FROM posts ORDER BY ALL").fetchall(),
                con.execute("SELECT post_id, collected_day, plays, likes FROM post_stats ORDER BY ALL").fetchall(),
                con.execute("SELECT rule, count(*) FROM quarantine GROUP BY ALL ORDER BY ALL").fetchall(),
            )
        finally:
            con.close()

    for part in (COLLECTED, second):
        for stage in (ingest, validate):
            assert stage.run(part, "t").status == "success"
    posts, stats, quarantine = snap()
    # every old post landed: no time-window rejection, 40 to 90 days before the collection
    assert quarantine == []
    assert [(p, i, c) for p, i, c, _ in posts if i == COLLECTED] == sorted(
        (pid, COLLECTED, COLLECTED - timedelta(days=b)) for pid, _a, b, _p in landing.old)
    # the re-seen post: one row in posts (owned by its first collection, with that collection's counters) ...
    assert [r for r in posts if r[0] == "7400000000000000001"] == [
        ("7400000000000000001", COLLECTED, COLLECTED - timedelta(days=40), 1000)]
    assert ("7400000000000000099", second, second - timedelta(days=1), 7) in posts
    # ... and one post_stats row per collection day; records in = new posts + re-observations + quarantine
    assert [r for r in stats if r[0] == "7400000000000000001"] == [
        ("7400000000000000001", COLLECTED, 1000, 100), ("7400000000000000001", second, 5000, 500)]
    assert len(stats) == len(landing.old) + 2
    con = duckdb.connect(str(wh), read_only=True)
    message = con.execute("SELECT message FROM pipeline_runs WHERE task = 'validate' AND day = ? "
                          "ORDER BY started_at DESC LIMIT 1", [second]).fetchall()[0][0]
    summary = {row[0]: row[1:5] for row in con.execute(warehouse.sql_text("status/daily_summary")).fetchall()}
    con.close()
    assert message.startswith("1 posts valid, 1 re-observations")
    # `trendtrace status`: records in = posts + re_observed + quarantined, per collection day
    assert summary[second] == (2, 1, 1, 0)
    assert summary[COLLECTED] == (len(landing.old), len(landing.old), 0, 0)

    # rerunning either day, in any order, is idempotent
    before = snap()
    for part in (second, COLLECTED, second):
        for stage in (ingest, validate):
            stage.run(part, "rerun")
    assert snap() == before


def test_only_the_future_beyond_clock_skew_is_refused(pipeline_env):
    root, wh = pipeline_env
    part = root / f"dt={COLLECTED}"
    part.mkdir()
    created = datetime.combine(COLLECTED + timedelta(days=2), time(0, 0, 1))  # past the end of day + 1
    (part / "page.jsonl").write_text(json.dumps(_web("7400000000000000500", "tim", created, 1)) + "\n",
                                     encoding="utf-8")
    ingest.run(COLLECTED, "t")
    validate.run(COLLECTED, "t")
    con = duckdb.connect(str(wh), read_only=True)
    rules = con.execute("SELECT rule FROM quarantine").fetchall()
    con.close()
    assert rules == [("created_at_not_future",)]
