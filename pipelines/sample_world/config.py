"""Scales of the sample world and where its caches live: every size knob in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_RATE = 22050  # every intermediate PCM is mono float32 at this rate
RENDER_VERSION = "r2"  # bump when rendering code changes so cached media are not reused


@dataclass(frozen=True, slots=True)
class Scale:
    """Sizes of one world; `target_posts` calibrates the diffusion caps, the rest shape it."""

    name: str
    target_posts: int
    n_sounds: int
    n_creators: int
    debian_packs: tuple[str, ...]  # which Debian music packs feed the sounds
    n_music21: int  # music21 renders used as canonical sounds
    n_speech: int  # espeak-ng "talking" original sounds
    n_partner_renders: int  # music21 renders reserved for duet instrument partners (never sounds)
    bad_inputs_each: int  # how many of each deliberate bad-input kind
    # share of sound reuses carrying one of the edits users make (posts.EDIT_KINDS: pitch shift at the same tempo,
    # bass boost, EQ, a phone re-recording, a low-bitrate generation, a voice 6 dB over the music); 0 in the test
    # suite's small world, whose merges and alerts other tests rely on (the edits have their own tests)
    edit_share: float = 0.0


ALL_PACKS = ("singularity-music", "wesnoth-1.16-music", "warzone2100-music", "nexuiz-music", "ufoai-music")

SCALES: dict[str, Scale] = {
    "small": Scale("small", 100, 14, 90, ("singularity-music",), 3, 3, 2, 1),
    # `make demo`'s default (7 days): one 86 MB pack (all 28 of its tracks), 6+3 renders, ~560 posts exported,
    # still every relation, speed variants, a trend, a movement and each bad input; fits ~10 min cold
    "quick": Scale("quick", 450, 40, 315, ("warzone2100-music",), 6, 6, 3, 1, 0.2),
    "demo": Scale("demo", 2000, 170, 1400, ALL_PACKS, 40, 24, 6, 3, 0.2),
    "large": Scale("large", 60000, 3200, 30000, ALL_PACKS, 2400, 500, 12, 20, 0.2),
    # metadata-only benchmark world: sounds are named after music21 corpus pieces, never rendered
    "xl": Scale("xl", 1_100_000, 40000, 400000, (), 0, 0, 0, 50),
}


def get_scale(name: str, posts: int | None = None) -> Scale:
    """The named scale, optionally re-targeted to `posts` posts (sounds and creators follow)."""
    if name not in SCALES:
        raise ValueError(f"unknown scale {name!r}; choose one of {', '.join(SCALES)}")
    scale = SCALES[name]
    if posts is None or posts == scale.target_posts:
        return scale
    f = posts / scale.target_posts
    return replace(
        scale,
        target_posts=posts,
        n_sounds=max(8, round(scale.n_sounds * f)),
        n_creators=max(40, round(scale.n_creators * f)),
        n_music21=round(scale.n_music21 * min(f, 1.0)),
        n_speech=max(1, round(scale.n_speech * min(f, 1.0))) if scale.n_speech else 0,
        bad_inputs_each=max(1, round(scale.bad_inputs_each * min(f, 1.0))),
    )


def default_cache_dir() -> Path:
    """TRENDTRACE_CACHE, else `<repo>/data/cache` (gitignored)."""
    env = os.environ.get("TRENDTRACE_CACHE")
    return Path(env) if env else REPO_ROOT / "data" / "cache"
