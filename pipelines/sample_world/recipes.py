"""Per-post transform chains (for the truth) and render recipes (for the media), in time order.

A child's chain starts from its parent's (duets, stitches) or from its platform sound's (re-upload trims
and speed changes), so the truth says exactly how the file relates to the canonical sound.
"""

from __future__ import annotations

import numpy as np

from .catalog import Catalog
from .diffusion import DUET, ORIGIN, REUPLOAD, REUSE
from .posts import Posts
from .text import speech_spec

# family of every transform tag, e.g. "speed_1.25_pitch" -> "speed_pitch"
TRANSFORM_FAMILIES = (
    "full", "segment", "trim", "speed_pitch", "speed_tempo", "voice_over", "noise", "reverb", "duet_voice",
    "duet_instrument", "stitch_clip", "speech", "silence", "short_clip", "aac", "mp3", "opus", "vorbis",
    "pcm", "flac", "pitch", "bass_boost", "eq", "phone", "low_bitrate", "loud_voice",
)


def transform_family(tag: str) -> str:
    """Map a transform tag to its family (numbers stripped)."""
    if tag.startswith("speed_"):
        return "speed_" + tag.rsplit("_", 1)[1]
    for fam in ("voice_over", "duet_voice", "duet_instrument", "stitch_clip", "short_clip", "bass_boost", "low_bitrate",
                "loud_voice"):
        if tag.startswith(fam):
            return fam
    return tag.split("_", 1)[0]


def codec_tag(codec: str, kbps: int, ext: str) -> str:
    if codec in ("aac", "mp3", "opus"):
        return f"{codec}_{kbps}k"
    return {"vorbis": "vorbis_q3", "pcm": "pcm_wav", "flac": "flac"}[codec]


def _speed_tag(f: float, mode: str) -> str:
    return f"speed_{f:g}_{mode}"


def edit_tag(kind: str, semitones: int) -> str:
    """The truth's tag of a user's edit (posts.EDIT_KINDS): `pitch_+2st`, `bass_boost`, `phone`, ..."""
    return f"pitch_{semitones:+d}st" if kind == "pitch" else kind


def transforms(P: Posts) -> list[str]:
    """The chain of edits from canonical sound to media file, per post, as "|"-joined tags.

    Strings rather than lists because a million small lists are slow to build and convert.
    """
    p = P.params
    rel = P.relation.tolist()
    par = P.parent.tolist()
    mus = P.music.tolist()
    own_speed = p["own_speed"].tolist()
    own_mode = p["own_mode"].tolist()
    voice = p["voice"].tolist()
    noise = p["noise"].tolist()
    nsnr = p["noise_snr"].tolist()
    reverb = p["reverb"].tolist()
    edit = p["edit"].tolist()
    semis = p["edit_semitones"].tolist()
    rt60 = p["rt60"].tolist()
    instr = p["partner_instr"].tolist()
    clip = p["clip_s"].tolist()
    codecs = [codec_tag(c, int(k), e) for c, k, e in zip(P.codec, P.kbps.tolist(), P.ext, strict=False)]
    mtr: dict[int, str] = {}
    pre: list[str] = [""] * P.n
    for i in range(P.n):
        kind = P.extra_kind[i]
        r = rel[i]
        if kind is not None:
            chain = "silence" if kind == "silent_media" else "short_clip"
        elif r == ORIGIN:
            mtr[i] = ""
            chain = "full"
        elif r == REUPLOAD:
            step = P.music_steps[i][-1]
            head = mtr[mus[par[i]]]
            chain = (head + "|" if head else "") + "trim"
            if "speed" in step:
                chain += "|" + _speed_tag(step["speed"], step["mode"])
            mtr[i] = chain
        elif r == REUSE:
            head = mtr[mus[i]]
            chain = (head + "|" if head else "") + "segment"
            if own_speed[i] != 1.0:
                chain += "|" + _speed_tag(own_speed[i], own_mode[i])
            if voice[i]:
                chain += "|loud_voice" if edit[i] == "loud_voice" else "|voice_over"
            if noise[i]:
                chain += f"|noise_{nsnr[i]:g}db"
            if reverb[i]:
                chain += f"|reverb_{rt60[i]:g}s"
            if edit[i] not in (None, "loud_voice"):
                chain += "|" + edit_tag(edit[i], semis[i])
        elif r == DUET:
            chain = pre[par[i]] + ("|duet_instrument" if instr[i] else "|duet_voice")
        else:  # STITCH
            chain = pre[par[i]] + f"|stitch_clip_{clip[i]:g}s|speech"
        pre[i] = chain
    return [c + "|" + k for c, k in zip(pre, codecs, strict=False)]


def _rng(seed: int, i: int, k: int) -> np.random.Generator:
    """Per-post stream: a post's speech never changes because another post was dropped."""
    return np.random.default_rng([seed, 31, i, k])


def recipes(P: Posts, catalog: Catalog, seed: int, include: np.ndarray) -> list[dict | None]:
    """Render tasks for the posts in `include` (their ancestors' recipes are nested as needed)."""
    p = P.params
    n = P.n
    pcm: list[dict | None] = [None] * n
    music: dict[int, dict] = {}
    tasks: list[dict | None] = [None] * n
    needed = include.copy()
    for i in range(n - 1, -1, -1):  # ancestors of included posts are needed for nesting
        if needed[i] and P.parent[i] >= 0:
            needed[P.parent[i]] = True
    real = [s for s in catalog.sounds if s.spec is not None]
    for i in range(n):
        r = int(P.relation[i])
        s = int(P.sound[i])
        kind = P.extra_kind[i]
        if kind == "silent_media":
            rec = {"kind": "silence", "duration": float(P.duration[i])}
        elif kind == "short_clip":
            src = real[int(p["seed"][i]) % len(real)].spec
            rec = {"kind": "clip", "music": {"sound": src, "steps": []},
                   "segment": {"offset": 1.0, "length": float(P.duration[i])}}
        elif r == ORIGIN:
            music[i] = {"sound": catalog.sounds[s].spec, "steps": []}
            rec = {"kind": "clip", "music": music[i], "segment": {"offset": 0.0, "length": float(P.duration[i])}}
        elif r == REUPLOAD:
            music[i] = {"sound": catalog.sounds[s].spec, "steps": P.music_steps[i]}
            rec = {"kind": "clip", "music": music[i],
                   "segment": {"offset": 0.0, "length": float(P.music_dur[i]) + 1.0}}
        elif r == REUSE:
            seg = {"offset": float(p["seg_off"][i]), "length": float(p["seg_len_final"][i])}
            if p["own_speed"][i] != 1.0:
                seg.update(speed=float(p["own_speed"][i]), mode=str(p["own_mode"][i]))
            rec = {"kind": "clip", "music": music[int(P.music[i])], "segment": seg}
            dur = float(P.duration[i])
            if p["voice"][i]:
                at = round(float(p["voice_at"][i]) * 0.3 * dur, 2)
                rec["voice"] = {"speech": speech_spec(_rng(seed, i, 1)), "at": at, "snr_db": float(p["voice_snr"][i]),
                                "duration": round(float(p["voice_frac"][i]) * (dur - at), 2)}
            if p["noise"][i]:
                rec["noise"] = {"color": str(p["noise_color"][i]), "snr_db": float(p["noise_snr"][i]),
                                "seed": int(p["seed"][i])}
            if p["reverb"][i]:
                rec["reverb"] = {"rt60": float(p["rt60"][i]), "wet": float(p["wet"][i]), "seed": int(p["seed"][i])}
            kind = p["edit"][i]
            if kind not in (None, "loud_voice"):  # a loud voice is the voice-over above, at -6 dB
                rec["edit"] = {"kind": str(kind), "seed": int(p["seed"][i])}
                if kind == "pitch":
                    rec["edit"]["semitones"] = int(p["edit_semitones"][i])
        elif r == DUET:
            pdur = float(P.duration[P.parent[i]])
            at = min(float(p["partner_at"][i]), max(pdur - 1.0, 0.0))
            partner: dict = {"snr_db": float(p["partner_snr"][i]), "at": at}
            if p["partner_instr"][i] and catalog.partners:
                src = catalog.partners[int(p["partner_idx"][i]) % len(catalog.partners)]
                need = pdur - at
                st = round(float(p["partner_u"][i]) * max(src["duration_s"] - need, 0.0), 2)
                partner.update(type="instrument", path=src["path"], start=st, duration=round(need, 2))
            else:
                partner.update(type="voice", speech=speech_spec(_rng(seed, i, 2)), duration=round(pdur - at, 2))
            rec = {"kind": "duet", "parent": pcm[P.parent[i]], "partner": partner}
        else:  # STITCH
            rec = {"kind": "stitch", "parent": pcm[P.parent[i]], "clip_s": float(p["clip_s"][i]),
                   "reply": speech_spec(_rng(seed, i, 3)), "reply_s": float(p["reply_s"][i])}
        pcm[i] = rec
        if include[i]:
            enc = {"codec": P.codec[i], "kbps": int(P.kbps[i]), "ext": P.ext[i], "sr": int(P.sr[i])}
            tasks[i] = {"pcm": rec, "enc": enc, "group": f"{s:06d}"}
    return tasks
