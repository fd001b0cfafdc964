"""From the diffusion's bare events to posts with ids, platform music, durations and audio transforms.

Numeric per-post fields are filled level by level of the generator tree (a child's audio depends on its
parent's), vectorised within a level; the platform-music table grows as origins, re-uploads and stitches
create new music ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from .catalog import Catalog
from .diffusion import DUET, ORIGIN, REUPLOAD, REUSE, STITCH, Diffusion

SPEEDS_UP = np.array([1.15, 1.2, 1.25, 1.33, 1.5])
# (extension, codec, weight); AAC dominates as on the platforms
CONTAINERS = [("mp4", "aac", 0.46), ("m4a", "aac", 0.14), ("mp3", "mp3", 0.13), ("webm", "opus", 0.09),
              ("ogg", "opus", 0.04), ("opus", "opus", 0.03), ("aac", "aac", 0.04), ("ogg", "vorbis", 0.03),
              ("wav", "pcm", 0.02), ("flac", "flac", 0.02)]
KBPS = {"aac": [48, 64, 96, 128], "mp3": [64, 96, 128], "opus": [32, 48, 64], "vorbis": [0], "pcm": [0], "flac": [0]}
EXTRA_KINDS = ("silent_media", "short_clip")


@dataclass(slots=True)
class Posts:
    """Column arrays over all posts (time order). Extra (bad-input distractor) posts have sound == -1."""

    n: int
    created_at: np.ndarray  # int64 epoch seconds, strictly increasing
    post_id: np.ndarray  # uint64
    sound: np.ndarray
    parent: np.ndarray
    creator: np.ndarray
    relation: np.ndarray
    depth: np.ndarray
    n_children: np.ndarray
    music: np.ndarray  # post index of the music's creator (its owner)
    extra_kind: list  # None or one of EXTRA_KINDS
    duration: np.ndarray  # seconds of the post's audio
    sound_offset: np.ndarray  # seconds into the canonical sound where the post's sound part starts
    speed: np.ndarray  # overall speed relative to the canonical sound
    voice_snr: np.ndarray  # NaN if no voice mixed in
    ext: list
    codec: list
    kbps: np.ndarray
    sr: np.ndarray
    params: dict = field(default_factory=dict)  # sampled per-post audio parameters (arrays)
    # music table, indexed by owner post index (valid where music_kind != "")
    music_id: np.ndarray = None  # uint64
    music_kind: np.ndarray = None  # object: 'official' | 'original' | ''
    music_off: np.ndarray = None
    music_spd: np.ndarray = None
    music_dur: np.ndarray = None
    music_steps: dict = field(default_factory=dict)  # owner -> list of step dicts (re-uploads only)


def epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def tiktok_ids(ts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """19-digit ids shaped like TikTok's: creation second in the high 32 bits, random low bits."""
    low = rng.integers(0, 2**32, ts.size, dtype=np.uint64)
    ids = (ts.astype(np.uint64) << np.uint64(32)) | low
    while np.unique(ids).size != ids.size:  # astronomically rare, but never let ids collide
        _, first = np.unique(ids, return_index=True)
        dup = np.setdiff1d(np.arange(ids.size), first)
        ids[dup] ^= np.uint64(1) + rng.integers(0, 2**16, dup.size, dtype=np.uint64)
    return ids


def add_extras(d: Diffusion, n_each: int, days: int, n_creators: int, rng: np.random.Generator):
    """Append distractor posts (silent media, sub-second clips) and re-sort by time."""
    kinds = [k for k in EXTRA_KINDS for _ in range(n_each)]
    k = len(kinds)
    t = np.concatenate([d.t, rng.uniform(0.2, days - 0.2, k)])
    order = np.argsort(t, kind="stable")
    remap = np.empty_like(order)
    remap[order] = np.arange(order.size)
    n0 = d.n

    def cat(a, b):
        return np.concatenate([a, b])[order]

    parent = cat(np.where(d.parent >= 0, remap[np.maximum(d.parent, 0)], -1), np.full(k, -1))
    owner = cat(remap[d.music_owner], remap[np.arange(n0, n0 + k)])
    extra = [None] * n0 + kinds
    return {
        "t": t[order], "sound": cat(d.sound, np.full(k, -1, dtype=np.int32)), "parent": parent,
        "creator": cat(d.creator, rng.integers(0, n_creators, k).astype(np.int32)),
        "relation": cat(d.relation, np.zeros(k, dtype=np.int8)), "depth": cat(d.depth, np.zeros(k, dtype=np.int16)),
        "music": owner, "extra_kind": [extra[i] for i in order],
    }


def ensure_relations(d: Diffusion, rng: np.random.Generator) -> None:
    """Small worlds: turn a few childless reuses into any relation the dice never produced."""
    has_child = np.zeros(d.n, dtype=bool)
    has_child[d.parent[d.parent >= 0]] = True
    for rel in (DUET, STITCH, REUPLOAD):
        if (d.relation == rel).any():
            continue
        cand = np.flatnonzero((d.relation == REUSE) & ~has_child & ~d.stitch_line)
        if cand.size == 0:
            continue
        i = int(cand[rng.integers(0, cand.size)])
        d.relation[i] = rel
        d.music_owner[i] = i if rel in (STITCH, REUPLOAD) else d.music_owner[d.parent[i]]
        d.stitch_line[i] = rel == STITCH


def _choice(rng, values, n, p=None):
    values = np.asarray(values)
    return values[rng.choice(values.size, size=n, p=p)]


def sample_params(n: int, rng: np.random.Generator, n_partners: int) -> dict:
    """Every random audio decision, drawn up front for all posts (used where the relation applies)."""
    u_rs = rng.random(n)
    p = {
        "u_seg0": rng.random(n), "u_off": rng.random(n), "seg_len": np.clip(rng.gamma(2.2, 9.0, n) + 5, 5, 60),
        "own_speed": np.where(rng.random(n) < 0.06, _choice(rng, [1.15, 1.25, 1.33, 1.5, 0.8], n), 1.0),
        "own_mode": np.where(rng.random(n) < 0.6, "pitch", "tempo"),
        "voice": rng.random(n) < 0.35, "voice_snr": _choice(rng, [12.0, 9.0, 6.0, 3.0, 0.0], n),
        "voice_at": rng.random(n), "voice_frac": rng.uniform(0.5, 1.0, n),
        "noise": rng.random(n) < 0.18, "noise_color": _choice(rng, ["white", "pink", "brown"], n),
        "noise_snr": np.round(rng.uniform(8, 25, n), 1), "seed": rng.integers(0, 2**31, n),
        "reverb": rng.random(n) < 0.15, "rt60": np.round(rng.uniform(0.25, 0.9, n), 2),
        "wet": np.round(rng.uniform(0.2, 0.5, n), 2),
        "partner_instr": rng.random(n) < (0.3 if n_partners else 0.0),
        "partner_idx": rng.integers(0, max(n_partners, 1), n), "partner_u": rng.random(n),
        "partner_snr": _choice(rng, [12.0, 6.0, 3.0, 0.0], n), "partner_at": np.round(rng.uniform(0, 2, n), 2),
        "clip_s": np.round(rng.uniform(1.0, 5.0, n), 1), "reply_s": np.round(rng.uniform(5.0, 25.0, n), 1),
        "ru_u0": rng.random(n), "ru_off": rng.random(n), "ru_len": rng.uniform(15.0, 60.0, n),
        "ru_speed": np.select([u_rs < 0.5, u_rs < 0.85], [np.ones(n), _choice(rng, SPEEDS_UP, n)], 0.8),
        "ru_mode": np.where(rng.random(n) < 0.65, "pitch", "tempo"),
        "official": rng.random(n) < 0.55,
        "extra_dur": np.round(rng.uniform(0.3, 0.9, n), 2), "silent_dur": np.round(rng.uniform(6, 15, n), 1),
    }
    w = np.array([c[2] for c in CONTAINERS])
    ci = rng.choice(len(CONTAINERS), size=n, p=w / w.sum())
    p["container"] = ci
    p["kbps_u"] = rng.random(n)
    p["sr44"] = rng.random(n) < 0.2
    return p


EDIT_KINDS = ("pitch", "bass_boost", "eq", "phone", "low_bitrate", "loud_voice")
PITCH_SEMITONES = (-3, -2, -1, 1, 2, 3)


def sample_edits(p: dict, relation: np.ndarray, seed: int, share: float) -> None:
    """Give `share` of the sound reuses one of EDIT_KINDS (each kind at least once when there are enough), from
    their own random stream: the rest of the world is the same with or without them. A loud voice is the
    post's voice-over at -6 dB music-to-voice over the whole post."""
    n = relation.size
    rng = np.random.default_rng([seed, 47])
    on = (relation == REUSE) & (rng.random(n) < share)
    kind = np.array(EDIT_KINDS, dtype=object)[rng.integers(0, len(EDIT_KINDS), n)]
    edited = np.flatnonzero(on)
    if edited.size >= len(EDIT_KINDS):
        kind[edited[: len(EDIT_KINDS)]] = EDIT_KINDS
    p["edit"] = np.where(on, kind, None)
    p["edit_semitones"] = np.array(PITCH_SEMITONES)[rng.integers(0, len(PITCH_SEMITONES), n)]
    loud = np.flatnonzero(p["edit"] == "loud_voice")
    p["voice"][loud], p["voice_snr"][loud], p["voice_at"][loud], p["voice_frac"][loud] = True, -6.0, 0.0, 1.0


def force_coverage(p: dict, relation: np.ndarray, extra: list, rng: np.random.Generator, n_partners: int,
                   first_reupload: np.ndarray) -> None:
    """Make sure every transform family and container appears at least once (matters for small worlds).

    Speed variants are forced on re-uploads of an original sound so the overall speed is exactly the variant.
    """
    reuse = np.flatnonzero(relation == REUSE)
    reup = np.flatnonzero(first_reupload)
    duet = np.flatnonzero(relation == DUET)
    normal = np.flatnonzero(np.array([e is None for e in extra]))

    def pick(pool, cond):
        if pool.size and not cond[pool].any():
            cond[pool[rng.integers(0, pool.size)]] = True

    pick(reuse, p["voice"])
    pick(reuse, p["noise"])
    pick(reuse, p["reverb"])
    if reuse.size and not (p["voice"][reuse] & (p["voice_snr"][reuse] == 0.0)).any():
        i = reuse[np.flatnonzero(p["voice"][reuse])[0]]
        p["voice_snr"][i] = 0.0
    if reup.size >= 3:
        r = reup[rng.permutation(reup.size)[:3]]
        spd = p["ru_speed"][reup]
        mode = p["ru_mode"][reup]
        if not ((spd > 1) & (mode == "pitch")).any():
            p["ru_speed"][r[0]], p["ru_mode"][r[0]] = 1.25, "pitch"
        if not ((spd > 1) & (mode == "tempo")).any():
            p["ru_speed"][r[1]], p["ru_mode"][r[1]] = 1.33, "tempo"
        if not (spd < 1).any():
            p["ru_speed"][r[2]] = 0.8
    if n_partners and duet.size >= 2:
        if not p["partner_instr"][duet].any():
            p["partner_instr"][duet[0]] = True
        if p["partner_instr"][duet].all():
            p["partner_instr"][duet[1]] = False
    present = set(p["container"][normal].tolist())
    missing = [i for i in range(8) if i not in present]  # the eight common containers
    if normal.size > 3 * len(missing):
        slots = normal[rng.permutation(normal.size)[: len(missing)]]
        p["container"][slots] = missing


def assemble(d: Diffusion, catalog: Catalog, days: int, start: date, seed: int, n_creators: int,
             extras_each: int, edit_share: float = 0.0) -> Posts:
    """Ids, times, music table, durations, offsets and speeds for every post."""
    rng = np.random.default_rng([seed, 21])
    ensure_relations(d, rng)
    e = add_extras(d, extras_each, days, n_creators, rng)
    n = e["t"].size
    t0 = epoch(start)
    created = t0 + np.floor(e["t"] * 86400).astype(np.int64)
    created = np.maximum.accumulate(created - np.arange(n)) + np.arange(n)  # strictly increasing seconds
    post_id = tiktok_ids(created, rng)
    relation, parent, sound, music = e["relation"], e["parent"], e["sound"], e["music"]
    p = sample_params(n, rng, len(catalog.partners))
    first_reupload = (relation == REUPLOAD) & (relation[music[np.maximum(parent, 0)]] == ORIGIN)
    force_coverage(p, relation, e["extra_kind"], rng, len(catalog.partners), first_reupload)
    sample_edits(p, np.where([k is None for k in e["extra_kind"]], relation, -1), seed, edit_share)
    n_children = np.bincount(parent[parent >= 0], minlength=n)

    sdur = np.array([s.duration_s for s in catalog.sounds] + [0.0])[sound]  # sound -1 -> 0.0
    speech_snd = np.array([s.kind == "speech" for s in catalog.sounds] + [False])[sound]
    duration = np.zeros(n)
    soff = np.zeros(n)
    spd = np.ones(n)
    mkind = np.full(n, "", dtype=object)
    moff = np.zeros(n)
    mspd = np.ones(n)
    mdur = np.zeros(n)
    steps: dict[int, list[dict]] = {}
    seg_off = np.zeros(n)
    seg_len = np.zeros(n)
    extra = np.array([k is not None for k in e["extra_kind"]])

    depth = e["depth"]
    for lvl in range(int(depth.max()) + 1):
        idx = np.flatnonzero(depth == lvl)
        rel = relation[idx]
        # origins (and distractor extras)
        o = idx[rel == ORIGIN]
        if o.size:
            is_x = extra[o]
            mkind[o] = np.where(p["official"][o] & ~speech_snd[o] & ~is_x, "official", "original")
            silent = np.array([e["extra_kind"][i] == "silent_media" for i in o])
            mdur[o] = np.where(is_x, np.where(silent, p["silent_dur"][o], p["extra_dur"][o]), sdur[o])
            duration[o] = mdur[o]
        # re-uploads: a trimmed (maybe sped-up) copy of the parent's platform sound under a new music id
        r = idx[rel == REUPLOAD]
        if r.size:
            pm = music[parent[r]]
            dpm = mdur[pm]
            off = np.where(p["ru_u0"][r] < 0.5, 0.0, np.round(p["ru_off"][r] * np.clip(dpm - 12, 0, 10), 2))
            ln = np.round(np.minimum(dpm - off, p["ru_len"][r]), 2)
            f = p["ru_speed"][r]
            mkind[r] = "original"
            moff[r] = moff[pm] + off * mspd[pm]
            mspd[r] = mspd[pm] * f
            mdur[r] = np.round(ln / f, 3)
            duration[r] = mdur[r]
            soff[r], spd[r] = moff[r], mspd[r]
            for j, i in enumerate(r.tolist()):
                step = {"offset": float(off[j]), "length": float(ln[j])}
                if f[j] != 1.0:
                    step.update(speed=float(f[j]), mode=str(p["ru_mode"][i]))
                steps[i] = [*steps.get(int(pm[j]), []), step]
        # sound reuses: a segment of the platform sound at an offset
        u = idx[rel == REUSE]
        if u.size:
            m = music[u]
            dm = mdur[m]
            ln = np.minimum(p["seg_len"][u], dm)
            off = np.where(p["u_seg0"][u] < 0.55, 0.0, p["u_off"][u] * (dm - ln))
            seg_off[u], seg_len[u] = np.round(off, 2), np.round(ln, 2)
            f = p["own_speed"][u]
            duration[u] = np.round(seg_len[u] / f, 3)
            soff[u] = moff[m] + seg_off[u] * mspd[m]
            spd[u] = mspd[m] * f
        # duets: the parent post's audio with a new voice or instrument on top
        du = idx[rel == DUET]
        if du.size:
            pa = parent[du]
            duration[du], soff[du], spd[du] = duration[pa], soff[pa], spd[pa]
        # stitches: the parent's first seconds, then the stitcher's reply (a new original music id)
        st = idx[rel == STITCH]
        if st.size:
            pa = parent[st]
            clip = np.minimum(p["clip_s"][st], np.maximum(np.round(duration[pa] - 0.5, 1), 0.5))
            p["clip_s"][st] = clip
            duration[st] = clip + p["reply_s"][st]
            soff[st], spd[st] = soff[pa], spd[pa]
            mkind[st] = "original"
            mdur[st] = duration[st]
    # origins' music: the canonical sound itself
    o_all = np.flatnonzero(relation == ORIGIN)
    soff[o_all], spd[o_all] = 0.0, 1.0
    p["seg_off"], p["seg_len_final"] = seg_off, seg_len

    ci = p["container"]
    ext = [CONTAINERS[c][0] for c in ci.tolist()]
    codec = [CONTAINERS[c][1] for c in ci.tolist()]
    kb = np.array([KBPS[c][int(u * len(KBPS[c]))] for c, u in zip(codec, p["kbps_u"].tolist(), strict=False)])
    sr = np.array([48000 if c == "opus" else (44100 if s44 and c in ("aac", "mp3") else 22050)
                   for c, s44 in zip(codec, p["sr44"].tolist(), strict=False)])
    voice_snr = np.full(n, np.nan)
    vo = (relation == REUSE) & p["voice"]
    voice_snr[vo] = p["voice_snr"][vo]
    du = relation == DUET
    voice_snr[du] = p["partner_snr"][du]
    music_id = np.zeros(n, dtype=np.uint64)
    owners = np.flatnonzero(mkind != "")
    # official tracks were published before anyone posted them; originals are born with their first post
    born = created[owners] - np.where(mkind[owners] == "official", rng.integers(30, 900, owners.size) * 86400, 0)
    music_id[owners] = tiktok_ids(born, rng)
    return Posts(
        n=n, created_at=created, post_id=post_id, sound=sound, parent=parent, creator=e["creator"],
        relation=relation, depth=depth, n_children=n_children, music=music, extra_kind=e["extra_kind"],
        duration=np.round(duration, 3), sound_offset=np.round(soff, 3), speed=np.round(spd, 4),
        voice_snr=voice_snr, ext=ext, codec=codec, kbps=kb, sr=sr, params=p, music_id=music_id,
        music_kind=mkind, music_off=moff, music_spd=mspd, music_dur=mdur, music_steps=steps,
    )
