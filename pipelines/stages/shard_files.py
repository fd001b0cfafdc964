"""The files of mapped shards (fingerprint and match), written on one machine and read on another.

Both stages plan a day as shards with the same descriptor shape (day, index, shards, files, name, digest),
publish manifests and outputs through atomic renames, and name each mapped task instance the same way.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from pathlib import Path
from typing import Any


def split_evenly(n: int, files_per_shard: int, max_shards: int) -> list[tuple[int, int]]:
    """[start, stop) slices of n items: ceil(n / files_per_shard) shards (≤ max_shards), sizes differ by ≤ 1."""
    if n <= 0:
        return []
    k = min(max_shards, math.ceil(n / files_per_shard))
    base, extra = divmod(n, k)
    bounds, start = [], 0
    for i in range(k):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a unique temporary name, then rename: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def label(shard: dict[str, Any]) -> str:
    """How a mapped task instance is named in the Airflow UI (map_index_template)."""
    n = shard["files"]
    return f"dt={shard['day']} shard {shard['index'] + 1}/{shard['shards']} ({n} file{'' if n == 1 else 's'})"
