"""A cheap per-step timer for the match engine (issue 17): `engine.match_day(..., profile=Profile())` adds the
wall time of each step (candidate lookups, voting, verification, speed passes, presence test, merge pass, index
adds) under a name; the default `NO_PROFILE` does nothing and changes no behaviour.

Steps nest (the merge pass contains its own lookups): `totals` holds every step's own time plus that of the
steps inside it, `self_s` only its own, so the self times add up to the profiled wall time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext


class Profile:
    """Seconds and calls per step name, each step also under its enclosing step's prefix (`merge/lm_lookup`)."""

    enabled = True

    def __init__(self) -> None:
        self.self_s: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list] = []  # [name, start, child seconds]

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        full = f"{self._stack[-1][0]}/{name}" if self._stack and self._stack[-1][0] in NESTING else name
        frame = [full, time.perf_counter(), 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            took = time.perf_counter() - frame[1]
            self.self_s[full] = self.self_s.get(full, 0.0) + took - frame[2]
            self.calls[full] = self.calls.get(full, 0) + 1
            if self._stack:
                self._stack[-1][2] += took

    def add(self, name: str, seconds: float) -> None:
        """Record `seconds` measured elsewhere (e.g. a worker thread) under `name`."""
        self.self_s[name] = self.self_s.get(name, 0.0) + seconds
        self.calls[name] = self.calls.get(name, 0) + 1


NESTING = {"merge"}  # steps whose inner steps are reported apart (merge/…); others fold inner steps into their own


class _NoProfile:
    enabled = False
    _null = nullcontext()

    def step(self, name: str):
        return self._null

    def add(self, name: str, seconds: float) -> None:
        pass


NO_PROFILE = _NoProfile()
