"""Fresh alerts: an Airflow event trigger that fires when a landing partition's completion marker appears or changes.

`LandingMarkerTrigger` is a `BaseEventTrigger`: an `AssetWatcher` on the landing-zone asset runs it in the
triggerer (dags/moment_to_movement_fresh.py), and every event it yields becomes an asset event that schedules
the thin `moment_to_movement_fresh` DAG, which starts the day's `moment_to_movement` run. A marker is
`<landing>/dt=D/_SUCCESS` (settings.COMPLETION_MARKER), written by the collection tool after the day's files.

What fires, and only once: a marker is identified by its *stamp* (modification time in ns, size, inode). A stamp
not seen before fires one event for its day; the same stamp seen again (the next poll, a triggerer restart)
does not. Writing or touching the marker again (more files came for that day) gives a new stamp and fires once
more. The stamps seen are kept in Airflow's asset state store (metadata DB), so they survive triggerer
restarts; the event is yielded before its stamp is stored, so a crash between the two re-sends the event
rather than losing it, and the fresh DAG names each day's run after the stamp, so the repeat starts no
second run. A partition without a marker never fires (no quiet-period rule: a half-copied day is never run).

No Airflow imports beyond the trigger base class at module level: the DAG file imports this at parse time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from pipelines.settings import COMPLETION_MARKER, PARTITION_PREFIX, scan_partitions

log = logging.getLogger(__name__)

CLASSPATH = "pipelines.landing_watch.LandingMarkerTrigger"
STATE_PREFIX = "marker:"  # asset state store key per partition: "marker:dt=2024-03-01" -> last stamp that fired
RUN_ID_PREFIX = "fresh__"


@dataclass(frozen=True)
class Marker:
    """One partition's completion marker as found on disk."""

    day: date
    stamp: str  # "<mtime ns>-<size>-<inode>": changes whenever the file is written, touched or replaced
    landed_at: datetime  # the marker's modification time (UTC): when the day was declared complete

    @property
    def partition(self) -> str:
        return f"{PARTITION_PREFIX}{self.day.isoformat()}"

    def payload(self, seen_at: datetime) -> dict[str, str]:
        """The asset event's payload (JSON): what the fresh DAG needs to start and name the day's run."""
        return {"day": self.day.isoformat(), "stamp": self.stamp, "partition": self.partition,
                "landed_at": self.landed_at.isoformat(), "seen_at": seen_at.isoformat()}


def find_markers(landing: Path, marker: str = COMPLETION_MARKER, warned: set[str] | None = None) -> list[Marker]:
    """Every valid partition's completion marker, by day. Invalid `dt=` folders are reported by the DAG and
    `trendtrace days`; a marker inside one is logged here (once per folder when `warned` is kept across polls),
    since no run could read that folder."""
    days, invalid = scan_partitions(landing)
    for bad in invalid:
        if (warned is None or bad.name not in warned) and (landing / bad.name / marker).is_file():
            if warned is not None:
                warned.add(bad.name)
            log.warning("%s/%s: completion marker in an invalid partition, not run: %s", bad.name, marker, bad.reason)
    found = []
    for day in days:
        path = landing / f"{PARTITION_PREFIX}{day.isoformat()}" / marker
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        if not path.is_file():
            continue
        found.append(Marker(day, f"{st.st_mtime_ns}-{st.st_size}-{st.st_ino}",
                            datetime.fromtimestamp(st.st_mtime, UTC)))
    return found


def run_id_for(day: str, stamp: str) -> str:
    """The fresh run of a day for one marker stamp: the same event twice names the same run (started once)."""
    return f"{RUN_ID_PREFIX}{day}__{stamp}"


def day_runs(payloads: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The `moment_to_movement` runs to start for a batch of marker events (TriggerDagRunOperator kwargs).

    Several events can reach one fresh-DAG run (markers that landed together, or while a run was queued): one
    run per day, for the newest stamp of that day (the run reads the partition as it is now), oldest landing first.
    """
    newest: dict[str, Mapping[str, Any]] = {}
    for p in payloads:
        if not p or "day" not in p or "stamp" not in p:
            raise ValueError(f"not a landing-marker event payload: {p!r}")
        day = str(p["day"])
        date.fromisoformat(day)  # a malformed day fails the task, naming it, instead of starting a bad run
        if day not in newest or str(p["landed_at"]) >= str(newest[day]["landed_at"]):
            newest[day] = p
    ordered = sorted(newest.values(), key=lambda p: (str(p["landed_at"]), str(p["day"])))
    return [{"trigger_run_id": run_id_for(str(p["day"]), str(p["stamp"])),
             "conf": {"day": str(p["day"]), "marker_stamp": str(p["stamp"]), "landed_at": str(p["landed_at"]),
                      "seen_at": str(p["seen_at"])}}
            for p in ordered]


class LandingMarkerTrigger(BaseEventTrigger):
    """Polls `<landing>/dt=*/<marker>` every `poll_interval` s in the triggerer; one event per new marker stamp.

    A long-lived event trigger (it never returns): Airflow's triggerer runs it for as long as an asset watcher
    references it, and turns each yielded event into an asset event with the payload of `Marker.payload`.
    """

    def __init__(self, landing: str, marker: str = COMPLETION_MARKER, poll_interval: float = 5.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.landing = landing
        self.marker = marker
        self.poll_interval = float(poll_interval)
        self._seen: dict[str, str | None] = {}  # partition -> stamp that last fired (None: never)
        self._warned: set[str] = set()  # invalid partitions with a marker, logged once

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return CLASSPATH, {"landing": self.landing, "marker": self.marker, "poll_interval": self.poll_interval}

    async def _fired_stamp(self, partition: str) -> str | None:
        """The stamp that last fired for a partition: memory first, then the asset state store (restarts)."""
        if partition not in self._seen:
            stored = None
            if self.asset_state_store is not None:
                value = await self.asset_state_store.aget(STATE_PREFIX + partition)
                stored = str(value) if value is not None else None
            self._seen[partition] = stored
        return self._seen[partition]

    async def _remember(self, partition: str, stamp: str) -> None:
        self._seen[partition] = stamp
        if self.asset_state_store is not None:
            await self.asset_state_store.aset(STATE_PREFIX + partition, stamp)

    async def new_markers(self) -> list[Marker]:
        """Markers whose stamp has not fired yet (one poll)."""
        markers = await asyncio.to_thread(find_markers, Path(self.landing), self.marker, self._warned)
        return [m for m in markers if await self._fired_stamp(m.partition) != m.stamp]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        if self.asset_state_store is None:
            self.log.warning("no asset state store (not run by a triggerer?): markers seen are remembered in memory")
        else:
            # the first store call starts the triggerer's execution-API client (~15 s in `airflow standalone`, whose
            # triggerer serves that API in-process): pay it now, not when the first marker lands
            await self.asset_state_store.aget(STATE_PREFIX + "warm-up")
        self.log.info("watching %s/dt=*/%s every %.1f s", self.landing, self.marker, self.poll_interval)
        while True:
            for m in await self.new_markers():
                seen_at = datetime.now(UTC)
                self.log.info("%s/%s landed at %s (stamp %s): firing", m.partition, self.marker,
                              m.landed_at.isoformat(), m.stamp)
                yield TriggerEvent(m.payload(seen_at))
                await self._remember(m.partition, m.stamp)  # after the yield: a crash re-sends, never loses
            await asyncio.sleep(self.poll_interval)
