"""The landing-marker trigger on a real folder: which markers fire, once per stamp, across restarts; the runs a
batch of marker events starts; the marker is never read as an export; fresh runs name their day."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, date, datetime

import pytest

from pipelines.ingest import list_export_files
from pipelines.landing_watch import CLASSPATH, LandingMarkerTrigger, day_runs, find_markers, run_id_for


class MemoryStateStore:
    """The two calls the trigger makes on Airflow's asset state store, kept in a dict (the triggerer's store is
    the metadata DB; tests/integration/test_standalone.py runs the trigger there)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def aget(self, key: str, default=None):
        return self.values.get(key, default)

    async def aset(self, key: str, value) -> None:
        self.values[key] = value


def _partition(root, day: str, marker: bool = False):
    folder = root / f"dt={day}"
    folder.mkdir(parents=True)
    (folder / "items.jsonl").write_text('{"id": "1"}\n')
    if marker:
        (folder / "_SUCCESS").write_text("")
    return folder


def _touch_later(path, seconds: int = 7) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + seconds * 1_000_000_000))


def _poll(trigger: LandingMarkerTrigger) -> list:
    return asyncio.run(trigger.new_markers())


def test_only_partitions_with_a_marker_are_found(tmp_path, caplog):
    _partition(tmp_path, "2024-03-01", marker=True)
    _partition(tmp_path, "2024-03-02")  # files, no marker: never fires
    bad = _partition(tmp_path, "2024-02-30", marker=True)  # no run could read it: logged, not fired
    with caplog.at_level(logging.WARNING, logger="pipelines.landing_watch"):
        found = find_markers(tmp_path)
    assert [m.day for m in found] == [date(2024, 3, 1)]
    assert found[0].partition == "dt=2024-03-01"
    assert found[0].landed_at.tzinfo is UTC
    assert any(bad.name in r.getMessage() and "invalid partition" in r.getMessage() for r in caplog.records)
    warned: set[str] = set()  # the trigger keeps this across polls: one warning per folder, not one per poll
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="pipelines.landing_watch"):
        find_markers(tmp_path, warned=warned)
        find_markers(tmp_path, warned=warned)
    assert warned == {bad.name}
    assert sum(bad.name in r.getMessage() for r in caplog.records) == 1
    assert find_markers(tmp_path / "missing") == []


def test_a_marker_fires_once_per_stamp_and_again_when_rewritten(tmp_path):
    folder = _partition(tmp_path, "2024-03-01", marker=True)
    trigger = LandingMarkerTrigger(landing=str(tmp_path), poll_interval=0.01)
    trigger.asset_state_store = MemoryStateStore()

    async def first_event():
        gen = trigger.run()
        try:
            return await asyncio.wait_for(anext(gen), timeout=30)
        finally:
            await gen.aclose()

    event = asyncio.run(first_event())
    assert event.payload["day"] == "2024-03-01"
    assert event.payload["partition"] == "dt=2024-03-01"
    stamp = event.payload["stamp"]
    assert datetime.fromisoformat(event.payload["landed_at"]) <= datetime.fromisoformat(event.payload["seen_at"])
    # the generator resumes after the yield only when asked for the next event: record the stamp as run() does
    asyncio.run(trigger._remember("dt=2024-03-01", stamp))
    assert _poll(trigger) == []  # the same marker seen again: nothing
    _touch_later(folder / "_SUCCESS")  # more files came: the tool touches the marker again
    again = _poll(trigger)
    assert [m.day for m in again] == [date(2024, 3, 1)] and again[0].stamp != stamp
    # a marker replaced by a new file (new inode, same size and time would still differ by inode)
    (folder / "_SUCCESS").unlink()
    (folder / "_SUCCESS").write_text("")
    assert [m.stamp for m in _poll(trigger)] != [stamp]


def test_stamps_survive_a_triggerer_restart_through_the_state_store(tmp_path):
    _partition(tmp_path, "2024-03-01", marker=True)
    store = MemoryStateStore()
    first = LandingMarkerTrigger(landing=str(tmp_path))
    first.asset_state_store = store
    (marker,) = _poll(first)
    asyncio.run(first._remember(marker.partition, marker.stamp))
    assert store.values == {"marker:dt=2024-03-01": marker.stamp}
    restarted = LandingMarkerTrigger(landing=str(tmp_path))  # a new process: empty memory, same store
    restarted.asset_state_store = store
    assert _poll(restarted) == []
    forgetful = LandingMarkerTrigger(landing=str(tmp_path))  # no store: it would fire again (the run id dedupes)
    assert len(_poll(forgetful)) == 1


def test_the_trigger_serializes_to_what_rebuilds_it(tmp_path):
    trigger = LandingMarkerTrigger(landing=str(tmp_path), poll_interval=3)
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH
    rebuilt = LandingMarkerTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    # the watcher is identified by this hash: the same config at every DAG parse is the same trigger
    assert LandingMarkerTrigger.hash(*rebuilt.serialize()) == LandingMarkerTrigger.hash(classpath, kwargs)


def test_a_batch_of_events_starts_one_run_per_day_for_its_newest_marker():
    def ev(day, stamp, landed):
        return {"day": day, "stamp": stamp, "partition": f"dt={day}", "landed_at": landed, "seen_at": landed}

    runs = day_runs([
        ev("2024-03-02", "s1", "2026-12-01T10:00:00+00:00"),
        ev("2024-03-01", "s2", "2026-12-01T09:00:00+00:00"),
        ev("2024-03-02", "s3", "2026-12-01T11:00:00+00:00"),  # D+1 touched again before its run started
    ])
    assert [r["trigger_run_id"] for r in runs] == [run_id_for("2024-03-01", "s2"), run_id_for("2024-03-02", "s3")]
    assert runs[1]["conf"]["day"] == "2024-03-02" and runs[1]["conf"]["marker_stamp"] == "s3"
    assert run_id_for("2024-03-01", "s2") == "fresh__2024-03-01__s2"
    assert day_runs([]) == []
    with pytest.raises(ValueError, match="not a landing-marker event payload"):
        day_runs([{"from": "elsewhere"}])
    with pytest.raises(ValueError, match="day is out of range"):
        day_runs([ev("2024-02-30", "s", "2026-12-01T10:00:00+00:00")])


def test_the_marker_is_never_read_as_an_export(tmp_path):
    folder = _partition(tmp_path, "2024-03-01", marker=True)
    (folder / "_SUCCESS").write_text("done\n")  # Spark writes an empty file; some tools write text
    assert list_export_files(folder) == ["items.jsonl"]


def test_fresh_runs_name_their_day_scheduled_runs_take_the_logical_date():
    import importlib.util

    from tests.support.fresh import ROOT

    spec = importlib.util.spec_from_file_location("m2m_for_test", ROOT / "dags" / "moment_to_movement.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    logical = datetime(2024, 3, 5, tzinfo=UTC)
    assert module.day_of(logical, {"day": None}) == date(2024, 3, 5)
    assert module.day_of(None, {"day": "2024-03-01"}) == date(2024, 3, 1)
    assert module.day_of(logical, {"day": "2024-03-01"}) == date(2024, 3, 1)
    with pytest.raises(ValueError, match="must name its day"):
        module.day_of(None, {})
