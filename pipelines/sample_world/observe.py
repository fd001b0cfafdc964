"""What the analyst actually receives: a partial sample, late arrivals, mixed export formats per day, and a
few deliberately broken inputs so the contracts have work to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .diffusion import ORIGIN
from .posts import Posts, epoch

# export files per day: (format, variant); the first five days cover every variant, later days are drawn
FORMAT_PLANS: list[tuple[tuple[str, str], ...]] = [
    (("web", "jsonl"),),
    (("research", "wrapper"),),
    (("csv", "csv"),),
    (("web", "json"), ("research", "array")),
    (("web", "jsonl"), ("csv", "csv")),
    (("web", "jsonl"), ("web", "jsonl")),
    (("web", "jsonl"), ("research", "wrapper")),
]
PLAN_WEIGHTS = np.array([0.35, 0.08, 0.07, 0.10, 0.10, 0.15, 0.15])
FILE_STEMS = {"web": "tiktok_items", "research": "research_videos", "csv": "posts_export"}
FILE_EXT = {"jsonl": "jsonl", "json": "json", "wrapper": "json", "array": "json", "csv": "csv"}

HIDDEN_ORIGIN_RATE = 0.12  # sounds whose first post never reaches the sample
DROP_RATE = 0.05  # other posts missing from the sample
LATE_P = (0.86, 0.10, 0.04)  # exported 0, 1, 2 days after createTime
BAD_KINDS = ("malformed_json", "corrupt_media", "duplicate_id", "very_late", "silent_media", "short_clip")


@dataclass(slots=True)
class ExportFile:
    day: int  # day index from the world's start
    fmt: str  # web | research | csv
    variant: str  # jsonl | json | wrapper | array | csv
    name: str


@dataclass(slots=True)
class Exposure:
    exported: np.ndarray  # bool
    not_exported: list  # None | 'not_in_sample' | 'after_window'
    created_day: np.ndarray
    partition: np.ndarray  # day index, -1 if never exported
    file: np.ndarray  # index into files, -1 if never exported
    files: list[ExportFile]
    bad_kind: list  # None or one of BAD_KINDS
    dup_file: dict[int, int] = field(default_factory=dict)  # post -> file holding its duplicate record

    @property
    def observed(self) -> np.ndarray:
        """Exported and readable: what a perfect pipeline can use."""
        broken = np.array([k in ("malformed_json", "corrupt_media") for k in self.bad_kind])
        return self.exported & ~broken


def observe(P: Posts, days: int, start, seed: int, bad_each: int, no_media: bool) -> Exposure:
    """Sample, delay and file every post; pick bad-input victims among childless posts."""
    rng = np.random.default_rng([seed, 41])
    n = P.n
    extra = np.array([k is not None for k in P.extra_kind])
    n_sounds = int(P.sound.max()) + 1 if n else 0
    hidden = rng.random(max(n_sounds, 1)) < HIDDEN_ORIGIN_RATE
    origin = (P.relation == ORIGIN) & ~extra
    sampled = ~((origin & hidden[np.maximum(P.sound, 0)]) | (~origin & (rng.random(n) < DROP_RATE)))
    sampled |= extra
    created_day = (P.created_at - epoch(start)) // 86400
    late = rng.choice(3, size=n, p=LATE_P)
    late[extra] = 0
    partition = created_day + late
    in_window = partition < days
    exported = sampled & in_window
    not_exported = np.select([exported, ~sampled], [None, "not_in_sample"], "after_window").tolist()
    bad: list = list(P.extra_kind)
    leaves = exported & (P.n_children == 0) & ~origin & ~extra

    def take(cands: np.ndarray, k: int) -> np.ndarray:
        cands = cands[rng.permutation(cands.size)[: 50 * k + 10]] if cands.size else cands  # bounded work
        cands = np.sort(cands)
        cands = cands[[bad[i] is None for i in cands.tolist()]] if cands.size else cands
        return cands[rng.permutation(cands.size)[:k]] if cands.size else cands

    if days >= 4:
        for i in take(np.flatnonzero(leaves & (created_day <= days - 4)), 1).tolist():
            partition[i] = created_day[i] + 3
            bad[i] = "very_late"
    partition = np.where(exported, partition, -1)

    files: list[ExportFile] = []
    day_files: list[list[int]] = []
    counters = dict.fromkeys(FILE_STEMS, 0)
    for d in range(days):
        plan = FORMAT_PLANS[d] if d < 5 else FORMAT_PLANS[int(rng.choice(len(FORMAT_PLANS), p=PLAN_WEIGHTS))]
        ids = []
        for fmt, variant in plan:
            name = f"{FILE_STEMS[fmt]}_{counters[fmt]:03d}.{FILE_EXT[variant]}"
            counters[fmt] += 1
            ids.append(len(files))
            files.append(ExportFile(d, fmt, variant, name))
        day_files.append(ids)
    u = rng.random(n)
    first = np.array([ids[0] for ids in day_files] + [-1])
    second = np.array([ids[-1] for ids in day_files] + [-1])
    file = np.where(u < 0.6, first[partition], second[partition])  # partition -1 -> file -1

    in_jsonl = np.array([f.variant == "jsonl" for f in files] + [False])[file]
    for i in take(np.flatnonzero(leaves & in_jsonl), bad_each).tolist():
        bad[i] = "malformed_json"
    if not no_media:
        for i in take(np.flatnonzero(leaves), bad_each).tolist():
            bad[i] = "corrupt_media"
            P.ext[i], P.codec[i] = "mp4", "aac"  # a truncated MP4 loses its moov atom: undecodable
            P.kbps[i] = 64 if P.kbps[i] == 0 else P.kbps[i]
    dup_file: dict[int, int] = {}
    for i in take(np.flatnonzero(leaves), bad_each).tolist():
        d = int(partition[i])
        others = [f for f in day_files[d] if f != file[i]]
        if not others:
            near = [x for x in (d + 1, d - 1) if 0 <= x < days]
            others = day_files[near[0]] if near else []
        if others:
            dup_file[i] = others[0]
            bad[i] = "duplicate_id"
    return Exposure(exported, not_exported, created_day, partition, file, files, bad, dup_file)
