"""A real small file system (tmpfs) for the tests that fill a disk; skipped where mounting is not allowed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def mounted(mount_point: Path, size: str = "8m") -> Iterator[Path]:
    """`mount_point` (created) as a tmpfs of `size`, unmounted on exit; pytest.skip if mounting is refused."""
    mount_point.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()[:200]})")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=False)
