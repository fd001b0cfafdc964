"""Self-exciting adoption of sounds (a Hawkes process in its branching form), pure numpy, no media.

Each post of a sound spawns Poisson(n_s * w_creator * saturation) later posts after a decaying, heavy-tailed
delay, so parents are picked in proportion to popularity with time decay, sounds differ in infectiousness
(n_s), and most sounds stay a moment while a few near- or super-critical ones grow into deep, branching
cascades until their audience saturates and they fade. Vectorised per generation so 1M posts take seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Scale

RELATIONS = ("origin", "sound_reuse", "duet", "stitch", "reupload")
ORIGIN, REUSE, DUET, STITCH, REUPLOAD = range(5)

# relation mix of adopters: (reuse, duet, stitch, reupload) by the kind of sound they adopt
RELATION_MIX = {
    "music": np.array([0.70, 0.11, 0.09, 0.10]),
    "speech": np.array([0.48, 0.18, 0.29, 0.05]),
}
# a post whose audio is a stitcher's speech can only be answered with more duets/stitches
STITCH_LINE_MIX = np.array([0.0, 0.45, 0.55, 0.0])
STITCH_LINE_DAMPING = 0.25  # replies to replies draw far fewer answers than the sound itself


@dataclass(slots=True)
class Creators:
    followers: np.ndarray  # int64, heavy-tailed (Pareto)
    activity: np.ndarray  # float, sums to 1: who posts
    weight: np.ndarray  # float, mean 1 under `activity`: how many adoptions their posts trigger


@dataclass(slots=True)
class Diffusion:
    """All generated posts sorted by time; index arrays point into the same order (parent < child)."""

    t: np.ndarray  # float64 days since the world's start
    sound: np.ndarray  # int32 index of the canonical sound (the cascade's sound)
    parent: np.ndarray  # int64 generator parent (-1 for origins)
    creator: np.ndarray  # int32
    relation: np.ndarray  # int8, index into RELATIONS
    depth: np.ndarray  # int16 depth in the generator's tree
    music_owner: np.ndarray  # int64 index of the post that created the platform music this post uses
    stitch_line: np.ndarray  # bool: the post's audio is (a duet of) a stitch reply
    # per sound
    sound_t0: np.ndarray
    branching: np.ndarray
    cap: np.ndarray

    @property
    def n(self) -> int:
        return int(self.t.shape[0])


def make_creators(n: int, rng: np.random.Generator) -> Creators:
    """Followers ~ Pareto(1.1) (a few huge accounts), activity ~ lognormal."""
    followers = np.minimum(np.floor(40.0 * (1.0 + rng.pareto(1.1, n))), 5e7).astype(np.int64)
    activity = rng.lognormal(0.0, 1.0, n)
    activity /= activity.sum()
    weight = (followers / np.median(followers)) ** 0.45
    weight /= float((weight * activity).sum())
    return Creators(followers, activity, weight)


def _delays(rng: np.random.Generator, k: int) -> np.ndarray:
    """Memory kernel in days: mostly hours (fast copying), a fat tail of days (slow rediscovery)."""
    fast = rng.random(k) < 0.75
    return np.where(fast, rng.lognormal(np.log(0.22), 0.9, k), rng.lognormal(np.log(1.3), 0.8, k))


def _sound_params(scale: Scale, days: int, rng: np.random.Generator, cap0: float):
    """Infectiousness groups: subcritical (moments/sparks), near-critical (trends), supercritical (movements)."""
    s = scale.n_sounds
    group = rng.choice(3, size=s, p=[0.62, 0.28, 0.10])
    group[: max(1, s // 20)] = 2  # a few viral sounds in every world, however small
    branching = np.select(
        [group == 0, group == 1], [rng.uniform(0.05, 0.6, s), rng.uniform(0.6, 1.0, s)], rng.uniform(1.25, 1.9, s)
    )
    t0 = np.where(group == 2, rng.uniform(0.0, 0.5 * days, s), rng.uniform(0.0, days - 0.3, s))
    cap = np.select(
        [group == 0, group == 1],
        [np.full(s, 1e9), np.maximum(6.0, 0.12 * cap0 * rng.lognormal(0, 0.5, s))],
        np.maximum(10.0, cap0 * rng.lognormal(0, 0.6, s)),
    )
    return branching, t0, np.floor(cap)


def _simulate(scale: Scale, days: int, seed: int, cap0: float, creators: Creators, sound_is_speech: np.ndarray):
    rng = np.random.default_rng([seed, 101])
    branching, t0, cap = _sound_params(scale, days, rng, cap0)
    s = scale.n_sounds
    c = creators.activity.shape[0]

    ts = [t0]
    sounds = [np.arange(s, dtype=np.int32)]
    parents = [np.full(s, -1, dtype=np.int64)]
    crs = [rng.choice(c, size=s, p=creators.activity).astype(np.int32)]
    rels = [np.zeros(s, dtype=np.int8)]
    gens = [np.zeros(s, dtype=np.int16)]
    sline = [np.zeros(s, dtype=bool)]
    count = np.ones(s)
    f_idx = np.arange(s)
    gen = 0
    while f_idx.size and gen < 400:
        f_t, f_s, f_c, f_line = ts[-1], sounds[-1], crs[-1], sline[-1]
        sat = np.clip(1.0 - count / cap, 0.0, 1.0)
        mean = branching[f_s] * creators.weight[f_c] * sat[f_s] * np.where(f_line, STITCH_LINE_DAMPING, 1.0)
        k = rng.poisson(mean)
        par_local = np.repeat(np.arange(f_idx.size), k)
        if par_local.size == 0:
            break
        t = f_t[par_local] + _delays(rng, par_local.size)
        keep = t < days
        par_local, t = par_local[keep], t[keep]
        snd = f_s[par_local]
        # hard stop: never carry more than 3x a sound's cap into the next generation
        order = np.lexsort((t, snd))
        par_local, t, snd = par_local[order], t[order], snd[order]
        starts = np.searchsorted(snd, np.arange(s))
        rank = np.arange(snd.size) - starts[snd]
        ok = rank + count[snd] <= 3 * cap[snd]
        par_local, t, snd = par_local[ok], t[ok], snd[ok]
        n_new = par_local.size
        if n_new == 0:
            break
        parent_global = f_idx[par_local]
        cr = rng.choice(c, size=n_new, p=creators.activity).astype(np.int32)
        same = cr == f_c[par_local]
        cr[same] = (cr[same] + 1 + rng.integers(0, c - 1, same.sum())) % c  # nobody answers themselves
        mix = np.where(sound_is_speech[snd][:, None], RELATION_MIX["speech"], RELATION_MIX["music"])
        mix = np.where(f_line[par_local][:, None], STITCH_LINE_MIX, mix)
        u = rng.random(n_new)[:, None]
        rel = (1 + (u > np.cumsum(mix, axis=1)).sum(axis=1)).astype(np.int8)
        rel = np.minimum(rel, REUPLOAD)
        line = (rel == STITCH) | ((rel == DUET) & f_line[par_local])
        np.add.at(count, snd, 1)
        new_base = sum(x.size for x in ts)
        ts.append(t)
        sounds.append(snd.astype(np.int32))
        parents.append(parent_global.astype(np.int64))
        crs.append(cr)
        rels.append(rel)
        gens.append(np.full(n_new, gen + 1, dtype=np.int16))
        sline.append(line)
        f_idx = np.arange(new_base, new_base + n_new)
        gen += 1
    return (
        np.concatenate(ts),
        np.concatenate(sounds),
        np.concatenate(parents),
        np.concatenate(crs),
        np.concatenate(rels),
        np.concatenate(gens),
        np.concatenate(sline),
        branching,
        t0,
        cap,
    )


def _truncate_to_caps(t, snd, cap):
    """Keep each sound's first `cap` posts in time: closed under ancestry since parents are older."""
    order = np.lexsort((t, snd))
    starts = np.searchsorted(snd[order], np.arange(cap.size))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - starts[snd[order]]
    return rank < cap[snd]


def simulate(scale: Scale, days: int, seed: int, creators: Creators, sound_is_speech: np.ndarray) -> Diffusion:
    """Run the branching process, calibrating the viral sounds' audience caps to hit `scale.target_posts`."""
    cap0 = max(8.0, 0.55 * scale.target_posts / max(1, scale.n_sounds // 10))
    for _ in range(6):
        out = _simulate(scale, days, seed, cap0, creators, sound_is_speech)
        t, snd, cap = out[0], out[1], out[9]
        n = int(_truncate_to_caps(t, snd, cap).sum())
        if abs(n / scale.target_posts - 1.0) <= 0.15:
            break
        cap0 *= (scale.target_posts / max(n, 1)) ** 1.1
    t, snd, par, cr, rel, gen, line, branching, t0, cap = out
    keep = _truncate_to_caps(t, snd, cap)
    # order by time; the generator's delays are > 0 so every parent precedes its children
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(t[idx], kind="stable")]
    remap = np.full(t.size, -1, dtype=np.int64)
    remap[idx] = np.arange(idx.size)
    parent = np.where(par[idx] >= 0, remap[np.maximum(par[idx], 0)], -1)
    assert (parent < np.arange(idx.size)).all()
    relation = rel[idx]
    creates_music = (relation == ORIGIN) | (relation == REUPLOAD) | (relation == STITCH)
    owner = np.where(creates_music, np.arange(idx.size), parent)
    while True:  # pointer jumping: a post uses the music of its nearest music-creating ancestor
        nxt = np.where(creates_music, owner, owner[np.maximum(owner, 0)])
        if np.array_equal(nxt, owner):
            break
        owner = nxt
    return Diffusion(
        t=t[idx],
        sound=snd[idx],
        parent=parent,
        creator=cr[idx],
        relation=relation,
        depth=gen[idx],
        music_owner=owner,
        stitch_line=line[idx],
        sound_t0=t0,
        branching=branching,
        cap=cap,
    )
