"""Ground truth: per post the convention parent among observed posts, per sound its origin, per day its stage.

Conventions (issue 6, docs/lineage.md), applied to what was actually exported and readable:
- duet / stitch: the true parent if it was observed; otherwise not scorable (`parent_unobserved`).
- a post using a platform sound (music id): `sound_reuse` of the first observed post of that music id if
  that post is older; otherwise it is the first observed post of its music id, and it is a `reupload` of
  the earliest observed post of the canonical sound if there is one (stitches only contain a sound and do
  not count), else an origin (no edge; the cascade's root is then not the true origin).
- origins: no edge.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from .catalog import Catalog
from .diffusion import DUET, ORIGIN, RELATIONS, REUPLOAD, REUSE, STITCH
from .observe import Exposure
from .posts import Posts
from .stages import compute_stages

NONE = -1


def sound_ids(n: int) -> list[str]:
    return [f"snd_{i:06d}" for i in range(n)]


def convention_parents(P: Posts, E: Exposure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(relation code or -1, parent post index or -1, parent_unobserved flag) per post."""
    n = P.n
    obs = E.observed & (P.sound >= 0)
    idx = np.arange(n)
    first_music = np.full(n, n)
    np.minimum.at(first_music, P.music[obs], idx[obs])
    n_s = int(P.sound.max()) + 1 if n else 0
    first_sound = np.full(max(n_s, 1), n)
    prim = obs & (P.relation != STITCH)
    np.minimum.at(first_sound, P.sound[prim], idx[prim])

    rel = np.full(n, NONE, dtype=np.int64)
    par = np.full(n, NONE, dtype=np.int64)
    lost = np.zeros(n, dtype=bool)
    r = P.relation
    direct = obs & ((r == DUET) | (r == STITCH))
    ok = direct & obs[np.maximum(P.parent, 0)]
    rel[ok], par[ok] = r[ok], P.parent[ok]
    lost[direct & ~ok] = True
    uses = obs & ((r == REUSE) | (r == REUPLOAD))
    fm = first_music[P.music]
    fs = first_sound[np.maximum(P.sound, 0)]
    reuse = uses & (fm < idx)
    rel[reuse], par[reuse] = REUSE, fm[reuse]
    reup = uses & ~reuse & (fs < idx)
    rel[reup], par[reup] = REUPLOAD, fs[reup]
    assert (par[par >= 0] < idx[par >= 0]).all(), "a convention parent must be older than its child"
    return rel, par, lost


def build_truth(P: Posts, E: Exposure, catalog: Catalog, start: date, days: int, authors: list[str],
                transforms: list[str], media_files: list[str | None], recipe_hashes: list[str | None],
                duet_ids_exported: np.ndarray, music_titles: list[str],
                caption_exported: np.ndarray | None = None) -> dict[str, pl.DataFrame]:
    """posts, sounds and sound_stages truth frames.

    `claim_evidence` says what a duet or stitch carries about its parent besides its audio: `id` (duetFromId
    exported), `caption` ("#duet/#stitch with @user" kept, no id) or `audio_only`; NULL for other posts.
    """
    rel, par, lost = convention_parents(P, E)
    obs = E.observed
    bad = E.bad_kind
    has_sound = P.sound >= 0
    bad_arr = np.array(bad, dtype=object)
    reason = np.select(
        [~E.exported, bad_arr != None, lost],  # noqa: E711 (element-wise)
        [np.array(E.not_exported, dtype=object), "bad_input", "parent_unobserved"],
        None,
    ).tolist()
    scorable = np.array([x is None for x in reason]) & obs & has_sound
    pid = P.post_id.astype(str)
    snd = np.array([*sound_ids(len(catalog.sounds)), None], dtype=object)[P.sound]
    parent_ids = np.where(par >= 0, pid[np.maximum(par, 0)], None)
    true_parent = np.where(P.parent >= 0, pid[np.maximum(P.parent, 0)], None)
    rel_names = np.array([None, *RELATIONS[1:]], dtype=object)  # index 0 = origin -> no relation
    extra = np.array([k is not None for k in P.extra_kind])
    file_fmt = np.array([f.fmt for f in E.files] + [None], dtype=object)[E.file]
    file_name = np.array([f.name for f in E.files] + [None], dtype=object)[E.file]
    # A stitch only contains its sound (the first seconds, then other audio); so does any post whose audio was
    # made from a stitch's (a duet of a stitch plays the stitch's audio under its own voice), or the truth would
    # ask for the root sound as the primary sound of audio that holds it for a few seconds only.
    from_stitch = np.array([any(t.startswith("stitch_clip") for t in chain.split("|")) for chain in transforms])
    role = np.where((P.relation == STITCH) | from_stitch, "contained", "primary").astype(object)
    if caption_exported is None:
        caption_exported = (P.parent >= 0) & np.isin(P.relation, [DUET, STITCH])
    is_direct = np.isin(P.relation, [DUET, STITCH]) & (P.parent >= 0)
    claim = np.where(duet_ids_exported, "id", np.where(caption_exported, "caption", "audio_only")).astype(object)
    claim = np.where(is_direct, claim, None)
    posts = pl.DataFrame(
        {
            "post_id": pid,
            "author": authors,
            "created_at": P.created_at,
            "partition_day": np.where(E.partition >= 0, E.partition, -1),
            "exported": E.exported,
            "observed": obs,
            "scorable": scorable,
            "unscorable_reason": np.where(scorable, None, np.array(reason, dtype=object)).tolist(),
            "bad_input_kind": bad,
            "canonical_sound_id": snd.tolist(),
            "sound_role": np.where(has_sound, role, None).tolist(),
            "platform_music_id": P.music_id[P.music].astype(str),
            "music_title": music_titles,
            "relation": np.where(obs & (rel >= 0), rel_names[np.maximum(rel, 0)], None).tolist(),
            "parent_post_id": np.where(obs, parent_ids, None).tolist(),
            "true_relation": np.where(extra, None, rel_names[P.relation]).tolist(),
            "true_parent_post_id": true_parent.tolist(),
            "transforms": pl.Series(transforms, dtype=pl.String).str.split("|"),
            "sound_offset_s": np.where(has_sound, P.sound_offset, np.nan),
            "speed": P.speed,
            "voice_snr_db": P.voice_snr,
            "duration_s": P.duration,
            # seconds of the post (from its start) that carry the canonical sound: a stitch's opening clip
            "sound_part_s": np.where(has_sound, np.where(P.relation == STITCH, P.params["clip_s"], P.duration),
                                     np.nan),
            "media_file": media_files,
            "media_recipe_sha256": recipe_hashes,
            "export_format": file_fmt.tolist(),
            "_file": file_name.tolist(),
            "duet_from_id_exported": duet_ids_exported,
            "caption_exported": np.asarray(caption_exported, dtype=bool) & is_direct,
            "claim_evidence": claim.tolist(),
            "generator_depth": P.depth.astype(np.int32),
        },
        schema_overrides={"relation": pl.String, "parent_post_id": pl.String, "true_relation": pl.String,
                          "true_parent_post_id": pl.String, "canonical_sound_id": pl.String,
                          "unscorable_reason": pl.String, "bad_input_kind": pl.String, "sound_role": pl.String,
                          "media_file": pl.String, "media_recipe_sha256": pl.String, "export_format": pl.String,
                          "claim_evidence": pl.String,
                          "_file": pl.String},
    ).with_columns(
        pl.from_epoch("created_at", time_unit="s").dt.replace_time_zone("UTC"),
        pl.when(pl.col("partition_day") >= 0).then(pl.lit(start) + pl.duration(days=pl.col("partition_day")))
        .cast(pl.Date).alias("partition_day"),
        pl.col("voice_snr_db").fill_nan(None),
        pl.col("sound_offset_s").fill_nan(None),
        pl.col("sound_part_s").fill_nan(None),
    ).with_columns(
        pl.when(pl.col("_file").is_not_null())
        .then(pl.format("dt={}/{}", pl.col("partition_day").dt.strftime("%Y-%m-%d"), "_file"))
        .alias("export_file")
    ).drop("_file")
    tail = ("duet_from_id_exported", "caption_exported", "claim_evidence", "generator_depth")
    posts = posts.select([c for c in posts.columns if c not in tail] + list(tail))

    # stages over observed posts that carry a sound, with the convention lineage
    o = np.flatnonzero(obs & has_sound)
    st_in = pl.DataFrame({
        "idx": o, "sound": snd[o].tolist(), "author": posts["author"].gather(o),
        "day": E.created_day[o].astype(np.int64), "parent_idx": par[o],
    }, schema_overrides={"sound": pl.String}).with_columns(
        (pl.lit(start) + pl.duration(days=pl.col("day"))).cast(pl.Date).alias("day")
    )
    all_days = [start + timedelta(days=k) for k in range(days)]
    stages = compute_stages(st_in, all_days).sort(["canonical_sound_id", "day"])

    origin_idx = np.full(len(catalog.sounds), -1)
    orig = np.flatnonzero((P.relation == ORIGIN) & has_sound)
    origin_idx[P.sound[orig]] = orig
    counts = np.bincount(P.sound[has_sound], minlength=len(catalog.sounds))
    ocounts = np.bincount(P.sound[has_sound & obs], minlength=len(catalog.sounds))
    peak = stages.group_by("canonical_sound_id").agg(
        pl.col("stage").replace_strict({"moment": 0, "spark": 1, "trend": 2, "movement": 3}).max().alias("_p")
    )
    sounds = pl.DataFrame(
        {
            "canonical_sound_id": sound_ids(len(catalog.sounds)),
            "origin_post_id": [pid[i] if i >= 0 else None for i in origin_idx.tolist()],
            "origin_observed": [bool(obs[i]) if i >= 0 else False for i in origin_idx.tolist()],
            "source": [s.source for s in catalog.sounds],
            "title": [s.title for s in catalog.sounds],
            "artist": [s.artist for s in catalog.sounds],
            "album": [s.album for s in catalog.sounds],
            "duration_s": [s.duration_s for s in catalog.sounds],
            "kind": [s.kind for s in catalog.sounds],
            "source_path": [s.spec["path"] if s.spec and s.spec["type"] == "file" else None for s in catalog.sounds],
            "source_start_s": [s.spec["start"] if s.spec and s.spec["type"] == "file" else None
                               for s in catalog.sounds],
            "package": [s.package for s in catalog.sounds],
            "package_version": [s.version for s in catalog.sounds],
            "licence": [s.licence for s in catalog.sounds],
            "n_posts": counts,
            "n_observed_posts": ocounts,
        }
    )
    sounds = sounds.join(peak, on="canonical_sound_id", how="left").with_columns(
        pl.col("_p").replace_strict({0: "moment", 1: "spark", 2: "trend", 3: "movement"}, default=None)
        .alias("peak_stage")
    ).drop("_p")
    return {"posts": posts, "sounds": sounds, "sound_stages": stages}
