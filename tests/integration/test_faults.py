"""Issue 19, item 5: faults survived, each on the first two days of the small sample world (real audio, a real DuckDB
file, real receivers on 127.0.0.1, real processes killed with SIGKILL, a real full disk).

Every test ends with the rerun converging to the tables of a clean run (pipelines.digest: order-independent row hashes,
only wall-clock and run-id columns left out): nothing lost, nothing doubled, alerts delivered once per delivery id,
quarantine intact. The clean run is made once per test session, stage by stage, keeping a copy of the warehouse folder
after every stage, so each fault starts from the exact state its stage saw and is compared with the state its stage
left (every stage is a pure function of the warehouse before it and the landing zone).

The Celery faults (a worker killed in the middle of a fingerprint shard, PostgreSQL restarted mid-run) are in
tests/cluster/test_cluster_faults.py. docs/scaling.md, "Faults", says what each fault does and what the user does.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines import digest
from pipelines.alerts import channels
from pipelines.faults import ENV_FAULT
from pipelines.stages import TASKS
from tests.conftest import ROOT
from tests.support import faults_world, tmpfs
from tests.support.faults_world import CLEARED, DAYS, WAREHOUSE_NAME, environ, run_stage
from tests.support.receivers import WebhookReceiver, free_port

clean_run = faults_world.clean_run  # the session fixture (shared with tests/cluster/test_cluster_faults.py)


def restore(state: Path, tmp_path: Path) -> Path:
    """A private copy of one of the clean run's warehouse folders; returns the folder."""
    target = tmp_path / "warehouse"
    shutil.copytree(state, target)
    return target


def digests(warehouse_dir: Path) -> dict[str, digest.TableDigest]:
    return digest.table_digests(warehouse_dir / WAREHOUSE_NAME)


def published_digests(warehouse_dir: Path) -> dict[str, digest.TableDigest]:
    return digest.table_digests(warehouse_dir / "published" / WAREHOUSE_NAME)


def without(tables: dict[str, digest.TableDigest], *names: str) -> dict[str, digest.TableDigest]:
    return {t: d for t, d in tables.items() if t not in names}


# Stages whose pipeline_runs.rows_out counts what that run itself did, not what the day holds: adoption's the rows it
# rewrote (it recomputes only what changed since the rows already there), alerts' the alerts it newly recorded. Any
# rerun, faulted or not, reports fewer; the tables those counts are about are compared in full.
RUN_DEPENDENT_ROWS_OUT = ("adoption", "alerts")


def runs(warehouse_dir: Path) -> list[tuple]:
    """pipeline_runs as the comparison sees it: which stage ran for which day, how it ended, what it counted."""
    con = duckdb.connect(str(warehouse_dir / WAREHOUSE_NAME), read_only=True)
    try:
        return con.execute("SELECT day, task, status, rows_in, CASE WHEN list_contains($run_dependent, task) THEN NULL "
                           "ELSE rows_out END FROM pipeline_runs ORDER BY ALL",
                           {"run_dependent": list(RUN_DEPENDENT_ROWS_OUT)}).fetchall()
    finally:
        con.close()


def same_tables(clean_dir: Path, warehouse_dir: Path) -> list[str]:
    """What differs between two warehouses (nothing, if equal): every table's digest, pipeline_runs as in `runs`."""
    lines = digest.differences(without(digests(clean_dir), "pipeline_runs"),
                               without(digests(warehouse_dir), "pipeline_runs"))
    if runs(clean_dir) != runs(warehouse_dir):
        lines.append(f"pipeline_runs: {runs(clean_dir)} vs {runs(warehouse_dir)}")
    return lines


RUN_STAGE = """
import sys
from datetime import date
import importlib
result = importlib.import_module("pipelines.stages." + sys.argv[1]).run(date.fromisoformat(sys.argv[2]), sys.argv[3])
print("stage ended", result.status, flush=True)
"""


def run_killed(stage: str, day: date, fault: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run one stage in its own process with TRENDTRACE_FAULT set: it must die by SIGKILL where the fault says."""
    child_env = {k: v for k, v in os.environ.items() if k not in CLEARED} | env | {ENV_FAULT: fault}
    proc = subprocess.run([sys.executable, "-c", RUN_STAGE, stage, day.isoformat(), "run-killed"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env=child_env)
    assert proc.returncode == -9, f"{fault}: exit {proc.returncode}, not SIGKILL\n{proc.stdout}\n{proc.stderr[-3000:]}"
    assert "trendtrace fault: SIGKILL" in proc.stderr and "stage ended" not in proc.stdout
    return proc


def killed_runs(warehouse_dir: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse_dir / WAREHOUSE_NAME), read_only=True)
    try:
        return con.execute("SELECT task, status FROM pipeline_runs WHERE run_id = 'run-killed'").fetchall()
    finally:
        con.close()


# --- 1. the writer SIGKILLed at its DuckDB commit --------------------------------------------------------------

# (stage, point, day index): the second day's stages build on the first day's rows (the match index, cumulative counts);
# fingerprint and match_sounds run on the first day, whose 5 media files decode in a few seconds (the second's 17 take
# ~30 s here under load), as the kill and the retry are the same code either way.
KILLS = [
    ("ingest", "kill_before_commit", 1),
    ("ingest", "kill_during_commit", 1),
    ("ingest", "kill_after_commit", 1),
    ("fingerprint", "kill_during_commit", 0),
    ("match_sounds", "kill_during_commit", 0),
    ("adoption", "kill_after_commit", 1),
    ("publish", "kill_during_commit", 1),  # the published copy's own commit, before it replaces the old copy
]


@pytest.mark.parametrize(("stage", "point", "day_index"), KILLS, ids=[f"{s}-{p}" for s, p, _ in KILLS])
def test_a_writer_killed_at_its_commit_is_rerun_to_the_clean_tables(clean_run, tmp_path, stage, point, day_index):
    day = DAYS[day_index]
    wh_dir = restore(clean_run.before(day, stage), tmp_path)
    env = clean_run.env(wh_dir, f"http://127.0.0.1:{free_port()}/hooks/trendtrace")
    proc = run_killed(stage, day, f"{point}:{stage}", env)

    before, after = digests(clean_run.before(day, stage)), digests(clean_run.after(day, stage))
    killed = digests(wh_dir)
    assert killed_runs(wh_dir) == []  # a SIGKILLed stage cannot record its run
    if point == "kill_after_commit":
        # durable: every row of the commit is there, only the stage's own pipeline_runs row is missing
        assert digest.differences(without(after, "pipeline_runs"), without(killed, "pipeline_runs")) == []
        assert killed["pipeline_runs"].rows == after["pipeline_runs"].rows - 1
    else:
        # atomic: nothing of the transaction is kept (a torn log included), the warehouse is as the stage found it
        assert digest.differences(before, killed) == [], proc.stderr[-2000:]
        assert before != after  # the stage does change tables, so the comparison above could fail
    if stage == "publish":  # the analysts' copy is still the previous day's, whole
        assert published_digests(wh_dir) == published_digests(clean_run.before(day, stage))

    with environ(env):  # the retry (Airflow's, or `trendtrace run --date D`)
        run_stage(stage, day, "run-retry")
    assert same_tables(clean_run.after(day, stage), wh_dir) == []
    if stage == "publish":
        assert digest.differences(published_digests(clean_run.after(day, stage)), published_digests(wh_dir)) == []
        assert sorted(p.name for p in (wh_dir / "published").iterdir()) == ["reports", WAREHOUSE_NAME]  # no .tmp
    assert not list((wh_dir / "pending_runs").glob("*.json"))


# --- 2. the alerts stage killed between its outbox's steps: each alert reaches the receiver once per delivery id ----

# The second day's alerts stage commits its crossings (commit 1), then per alert the webhook's delivery record
# (2, 4, ...) and the alert's mark (3, 5, ...).
ALERT_KILLS = [
    ("kill_after_commit", 1, "recorded, nothing sent yet"),
    ("kill_before_commit", 2, "the first alert was received but its delivery not recorded"),
    ("kill_during_commit", 3, "the first alert's delivery recorded, its mark torn"),
]


@pytest.mark.parametrize(("point", "nth", "what"), ALERT_KILLS, ids=[f"{p}-{n}" for p, n, _ in ALERT_KILLS])
def test_alerts_killed_between_outbox_steps_reach_the_receiver_once_per_delivery_id(
    clean_run, tmp_path, point, nth, what
):
    day = DAYS[1]
    expected = clean_run.summary["deliveries"][day.isoformat()]
    assert len(expected) >= 2  # the day delivers several alerts: "the first" is not the only one
    wh_dir = restore(clean_run.before(day, "alerts"), tmp_path)
    with WebhookReceiver() as hook:  # up the whole time: what it receives is what the kill let out
        env = clean_run.env(wh_dir, hook.url)
        run_killed("alerts", day, f"{point}:alerts:{nth}", env)
        sent_before_kill = [r.headers[channels.DELIVERY_HEADER] for r in hook.delivered]
        with environ(env):
            run_stage("alerts", day, "run-retry")
        received = [r.headers[channels.DELIVERY_HEADER] for r in hook.delivered]
    assert sent_before_kill == ([] if nth == 1 else expected[:1]), what
    if (point, nth) == ("kill_before_commit", 2):
        # the receiver answered 2xx, the process died before recording it: sent again under the same id (at least
        # once on the wire), which a receiver deduplicating on X-Trendtrace-Delivery drops
        assert received == expected[:1] + expected
    else:
        assert received == expected  # the retry sent only what was not confirmed
    assert same_tables(clean_run.after(day, "alerts"), wh_dir) == []


# --- 3. the webhook receiver down for a whole run ---------------------------------------------------------------


def alert_states(db: Path, day: date) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT alert_id, status, last_error FROM alerts WHERE day = ? ORDER BY alert_id",
                           [day]).fetchall()
    finally:
        con.close()


def test_a_webhook_down_for_a_whole_run_leaves_every_alert_to_the_rerun_which_sends_each_once(clean_run, tmp_path):
    day = DAYS[1]
    expected = clean_run.summary["deliveries"][day.isoformat()]
    wh_dir = restore(clean_run.before(day, "alerts"), tmp_path)
    port = free_port()  # nothing listens there during the run; the receiver comes back on it afterwards
    env = clean_run.env(wh_dir, f"http://127.0.0.1:{port}{WebhookReceiver.PATH}")
    with environ(env):
        for stage in ("alerts", "publish"):  # the rest of the day's run, green although nothing can be delivered
            run_stage(stage, day, "run-down")
    for db in (wh_dir / WAREHOUSE_NAME, wh_dir / "published" / WAREHOUSE_NAME):  # the analysts' copy says so too
        states = alert_states(db, day)
        assert len(states) == len(expected) and {s for _, s, _ in states} == {"pending"}
        first, *rest = states
        assert f"127.0.0.1:{port}" in first[2] and "unreachable" in first[2]  # tried, retried, left pending
        assert all("not tried, down earlier in this run" in e for _, _, e in rest)  # no timeout paid per alert

    with WebhookReceiver(port=port) as hook, environ(env):  # back; the day is run again (`trendtrace run --date D`)
        for stage in ("alerts", "publish"):
            run_stage(stage, day, "run-again")
        again = len(hook.delivered)
        run_stage("alerts", day, "run-once-more")  # and once more: nothing left to send
    received = [r.headers[channels.DELIVERY_HEADER] for r in hook.delivered]
    assert received == expected and again == len(expected)  # each alert once, the backlog in its order
    assert {s for _, s, e in alert_states(wh_dir / WAREHOUSE_NAME, day)} == {"sent"}

    # the clean run's tables, except the attempts the down run spent (3 on the first alert, counted, not hidden)
    clean, now = digests(clean_run.after(day, "publish")), digests(wh_dir)
    spent = {"alerts", "alert_deliveries"}
    assert digest.differences(without(clean, "pipeline_runs", *spent), without(now, "pipeline_runs", *spent)) == []
    for table in spent:
        assert clean[table].rows == now[table].rows
        differs = {c for c in clean[table].columns if clean[table].columns[c] != now[table].columns[c]}
        assert differs == {"attempts"}, (table, differs)
    assert sum(1 for r in runs(wh_dir) if r[1] == "alerts") == sum(1 for r in runs(clean_run.after(day, "publish"))
                                                                    if r[1] == "alerts") + 2


# --- 4. a reader holding the published copy while the next day's run publishes ---------------------------------

READER = """
import json, os, sys, duckdb
path, mode, stop = sys.argv[1:4]
SIGNATURE = ("SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM post_sounds), (SELECT count(*) FROM alerts), "
             "(SELECT count(*) FROM quarantine), (SELECT max(day) FROM pipeline_runs)::VARCHAR")
held = duckdb.connect(path, read_only=True) if mode == "held" else None
while not os.path.exists(stop):
    try:
        if held is not None:
            row = held.execute(SIGNATURE).fetchall()[0]
        else:
            con = duckdb.connect(path, read_only=True)
            row = con.execute(SIGNATURE).fetchall()[0]
            con.close()
        print(json.dumps(list(row)), flush=True)
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
"""


def signature(db: Path) -> list:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return list(con.execute(
            "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM post_sounds), (SELECT count(*) FROM alerts), "
            "(SELECT count(*) FROM quarantine), (SELECT max(day) FROM pipeline_runs)::VARCHAR").fetchall()[0])
    finally:
        con.close()


def answers(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_readers_of_the_published_copy_keep_consistent_answers_while_the_next_run_publishes(clean_run, tmp_path):
    import time

    day = DAYS[1]
    wh_dir = restore(clean_run.before(day, "publish"), tmp_path)
    copy = wh_dir / "published" / WAREHOUSE_NAME
    old, new = signature(copy), signature(clean_run.after(day, "publish") / "published" / WAREHOUSE_NAME)
    assert old != new  # the second day's publish changes what readers see
    stop = tmp_path / "stop"
    outs = {mode: tmp_path / f"{mode}.jsonl" for mode in ("held", "reopened")}
    readers = {}
    for mode, out in outs.items():  # one keeps its connection for the whole run, one reconnects for every query
        with out.open("w") as fh:
            readers[mode] = subprocess.Popen([sys.executable, "-c", READER, str(copy), mode, str(stop)], stdout=fh,
                                             stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        # a failure guard, not a speed check: generous, and it names what never happened
        deadline = time.monotonic() + 600
        while not all(answers(out) for out in outs.values()):  # both are reading before the run publishes
            if time.monotonic() > deadline or any(p.poll() is not None for p in readers.values()):
                pytest.fail("the readers of the published copy never answered (or exited) before the run")
            time.sleep(0.05)
        with environ(clean_run.env(wh_dir, "http://127.0.0.1:9/unused")):
            run_stage("publish", day, "run-publish")
        during = {mode: len(answers(out)) for mode, out in outs.items()}
        while any(len(answers(out)) <= during[mode] + 2 for mode, out in outs.items()):  # still reading after
            if time.monotonic() > deadline + 600:
                pytest.fail("the readers of the published copy stopped answering after the run published")
            time.sleep(0.05)
    finally:
        stop.touch()
        for proc in readers.values():
            proc.wait(timeout=60)
    for proc in readers.values():
        assert proc.returncode == 0, proc.stderr.read()
    held, reopened = answers(outs["held"]), answers(outs["reopened"])
    assert [a for a in held + reopened if isinstance(a, dict)] == []  # not one error or torn read
    assert {json.dumps(a) for a in held} == {json.dumps(old)}  # a held connection keeps reading the copy it opened
    switch = reopened.index(new)  # a new connection sees the new copy, and from then on only that one
    assert set(map(json.dumps, reopened[:switch])) <= {json.dumps(old)} and reopened[0] == old
    assert set(map(json.dumps, reopened[switch:])) == {json.dumps(new)}
    assert signature(copy) == new  # a reader that starts now
    assert digest.differences(published_digests(clean_run.after(day, "publish")), published_digests(wh_dir)) == []
    assert sorted(p.name for p in copy.parent.iterdir()) == ["reports", WAREHOUSE_NAME]


# --- 5. the landing disk full while the collection tool copies the day ------------------------------------------


@pytest.fixture
def landing_disk(tmp_path):
    """A real 8 MiB file system (tmpfs) as the landing zone; skipped where mounting is not allowed."""
    with tmpfs.mounted(tmp_path / "landing") as mount_point:
        yield mount_point


PAGE = 4096  # tmpfs hands out whole pages


def pages(size: int) -> int:
    return -(-size // PAGE) * PAGE


def leave_free(disk: Path, free: int) -> Path:
    """Fill `disk` with one file until exactly `free` bytes (whole pages) are left."""
    filler = disk / ".filler"
    stat = os.statvfs(disk)
    with filler.open("wb") as fh:
        fh.truncate(0)
    size = stat.f_bavail * stat.f_frsize - free
    assert size > 0, "the disk is too small for the day"
    with filler.open("wb") as fh:
        fh.write(b"\0" * size)
    return filler


def collect(source: Path, partition: Path) -> subprocess.CompletedProcess:
    """The collection tool: GNU cp, the export first, then the media files in name order. On a full disk cp says so,
    leaves the file it was writing cut short and goes on (the files after it are created empty)."""
    (partition / "media").mkdir(parents=True, exist_ok=True)
    exports = sorted(p for p in source.iterdir() if p.is_file())
    first = subprocess.run(["cp", *map(str, exports), str(partition)], capture_output=True, text=True)
    media = subprocess.run(["cp", *map(str, sorted((source / "media").iterdir())), str(partition / "media")],
                           capture_output=True, text=True)
    return subprocess.CompletedProcess(["cp"], first.returncode or media.returncode, "", first.stderr + media.stderr)


def test_a_full_landing_disk_quarantines_the_cut_files_and_the_rerun_after_the_copy_loads_them(
    clean_run, landing_disk, tmp_path, request
):
    day = DAYS[1]
    source = clean_run.landing / f"dt={day}"
    partition = landing_disk / f"dt={day}"
    media = sorted((source / "media").iterdir())
    half = len(media) // 2
    cut = media[half]
    # room for the export, the first half of the media and half of the next file: cp fills the disk inside it
    room = sum(pages(p.stat().st_size) for p in source.iterdir() if p.is_file())
    room += sum(pages(p.stat().st_size) for p in media[:half]) + pages(cut.stat().st_size) // 2 // PAGE * PAGE
    filler = leave_free(landing_disk, room)
    copied = collect(source, partition)
    assert copied.returncode == 1 and "No space left on device" in copied.stderr, copied
    landed = {p.name: p.stat().st_size for p in (partition / "media").iterdir()}
    assert 0 < landed[cut.name] < cut.stat().st_size  # cut short in the middle
    assert {n for n, size in landed.items() if size == 0} == {p.name for p in media[half + 1:]}  # created, empty
    cut_sha = hashlib.sha256((partition / "media" / cut.name).read_bytes()).hexdigest()

    wh_dir = restore(clean_run.before(day, "ingest"), tmp_path)
    with WebhookReceiver() as hook:
        env = clean_run.env(wh_dir, hook.url) | {"TRENDTRACE_LANDING": str(landing_disk)}
        with environ(env):
            for stage in TASKS:  # the day runs green
                run_stage(stage, day, "run-full-disk")
        con = duckdb.connect(str(wh_dir / WAREHOUSE_NAME), read_only=True)
        try:
            quarantined = con.execute("SELECT rule, reason FROM quarantine WHERE ingest_day = ? AND stage = "
                                      "'fingerprint'", [day]).fetchall()
        finally:
            con.close()
        bad = {p.name for p in media[half:]}
        assert {n for n in bad if any(n in reason for _, reason in quarantined)} == bad, quarantined
        assert len(quarantined) == len(bad)  # every cut or empty file quarantined, naming the file; nothing else
        assert next(reason for _, reason in quarantined if cut.name in reason).endswith(
            "(an unfinished copy? complete it and rerun the day)")

        filler.unlink()  # space freed; the tool copies the day again, whole this time
        assert collect(source, partition).returncode == 0
        with environ(env):
            for stage in TASKS:  # `trendtrace run --date D`
                run_stage(stage, day, "run-complete")
        received = [r.headers[channels.DELIVERY_HEADER] for r in hook.delivered]

    # the clean run's tables (quarantine reasons name files by their full path: both landing zones read as one) ...
    clean_dir = clean_run.after(day, "publish")
    clean = digest.table_digests(clean_dir / WAREHOUSE_NAME, (str(clean_run.landing), "<landing>"))
    now = digest.table_digests(wh_dir / WAREHOUSE_NAME, (str(landing_disk), "<landing>"))
    # ... except what is, by design, a record of the first run: alerts it recorded (their ids number them in the order
    # they were recorded, their values are the partial day's; an alert once sent is never recalled), the decoding
    # outcome of the cut and the empty file (media_checks is keyed by content: those bytes did fail), its run rows
    kept = ("alerts", "alert_deliveries", "v_sound_timeline", "media_checks", "pipeline_runs")
    assert digest.differences(without(clean, *kept), without(now, *kept)) == []
    # each alert the two runs recorded was sent once: the first run's, recorded from the cut day's data, are never
    # recalled, so their ids and values need not be the clean run's (which alerts the partial data crosses depends
    # on the matching); the webhook got one message per confirmed delivery, never one twice
    assert len(received) == len(set(received))
    sent = "SELECT count(*) FROM alert_deliveries WHERE channel = 'webhook' AND status = 'sent'"
    before = duckdb.connect(str(clean_run.before(day, "ingest") / WAREHOUSE_NAME), read_only=True)
    after = duckdb.connect(str(wh_dir / WAREHOUSE_NAME), read_only=True)
    try:
        assert len(received) == after.execute(sent).fetchone()[0] - before.execute(sent).fetchone()[0] > 0
    finally:
        before.close()
        after.close()
    con = duckdb.connect(str(wh_dir / WAREHOUSE_NAME), read_only=True)
    try:
        con.execute("ATTACH ? AS clean (READ_ONLY)", [str(clean_dir / WAREHOUSE_NAME)])
        extra = con.execute("SELECT audio_sha256, error_rule FROM media_checks EXCEPT "
                            "SELECT audio_sha256, error_rule FROM clean.media_checks ORDER BY 2").fetchall()
        missing = con.execute("SELECT audio_sha256 FROM clean.media_checks EXCEPT SELECT audio_sha256 "
                              "FROM media_checks").fetchall()
        used = con.execute("SELECT count(*) FROM validated_posts WHERE audio_sha256 IN (SELECT audio_sha256 FROM "
                           "media_checks WHERE NOT decoded AND error_rule IN ('truncated', 'undecodable'))").fetchall()
        alert_keys = [con.execute(f"SELECT sound_id, rule, level, day, status FROM {db}alerts ORDER BY ALL").fetchall()
                      for db in ("", "clean.")]
        partial_alerts = con.execute("SELECT sound_id, rule, level, day, status FROM alerts "
                                     "WHERE run_id = 'run-full-disk' ORDER BY ALL").fetchall()
        last_runs = [con.execute(f"SELECT day, task, status FROM {db}pipeline_runs WHERE run_id <> 'run-full-disk' "
                                 "ORDER BY ALL").fetchall() for db in ("", "clean.")]
    finally:
        con.close()
    assert extra == [(cut_sha, "truncated"), (hashlib.sha256(b"").hexdigest(), "undecodable")]
    assert missing == [] and used == [(0,)]  # every post now plays its whole file
    # every alert of the clean run is there and sent; any other was recorded (and sent) by the run over the cut day's
    # data and is never recalled (docs/alerts.md)
    assert set(alert_keys[1]) <= set(alert_keys[0]) and {k[-1] for k in alert_keys[0]} == {"sent"}
    assert set(alert_keys[0]) - set(alert_keys[1]) <= set(partial_alerts)
    assert last_runs[0] == last_runs[1]


CUTS = [("flac", [], "truncated"), ("m4a", ["-movflags", "+faststart"], "truncated"), ("m4a", [], "undecodable"),
        ("mp3", [], None), ("ogg", [], None), ("wav", [], None)]


@pytest.mark.parametrize(("suffix", "flags", "rule"), CUTS, ids=[f"{s}{''.join(f)}" for s, f, _ in CUTS])
def test_a_media_file_cut_in_half_is_truncated_where_its_header_states_its_length(tmp_path, suffix, flags, rule):
    """The decoder's side of the full disk: FLAC and MP4 headers state the length, so a cut file is `truncated`
    (quarantined by the media contract, naming the file); an m4a whose index is at its end cannot be opened at all;
    mp3, Ogg and WAV lengths are estimated from (or clamped to) the file, so their first half decodes as a shorter
    file (pipelines/audio/decode.py)."""
    from pipelines.audio.analysis import analyse_file

    whole = tmp_path / f"whole.{suffix}"
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=22050:duration=20", "-ac", "1", *flags, f"file:{whole}"],
                   check=True)
    half = tmp_path / f"half.{suffix}"
    half.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    intact, cut = analyse_file(whole), analyse_file(half)
    assert intact.decoded and intact.duration_s == pytest.approx(20, abs=0.2)
    if rule is None:
        assert cut.decoded and 8 < cut.duration_s < 12  # kept as a partial decode
    else:
        assert (cut.decoded, cut.error_rule) == (False, rule)
        assert str(half) in cut.error
    if rule == "truncated":
        assert "cut short: its audio ends at" in cut.error and "of the 20.0 s its header states" in cut.error
