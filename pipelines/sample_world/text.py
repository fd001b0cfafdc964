"""Words for the world: user names, captions with hashtags/mentions, and sentences for synthetic speech.

Everything is drawn from small built-in lists with a seeded generator, so a world reads like a feed
(creators answering each other, trend hashtags) without any text corpus download.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_FIRST = [
    "luna", "mika", "kofi", "ana", "jay", "zoe", "leo", "nia", "sam", "ivy", "max", "ria", "teo", "kai", "mara", "noor",
    "eli", "sol", "ren", "ada", "yuki", "omar", "lea", "finn", "ari", "juno", "cleo", "remy", "tara", "nico", "lila",
    "dev", "ama", "rio", "sky", "bea", "lux", "cruz", "mina", "otto", "vera", "ayo", "tami", "jin", "isla", "rafa",
    "emi", "ziggy", "nova", "paz", "hana", "ines", "kiki", "bo", "lars", "yara", "dani", "koa",
]
_SECOND = [
    "bakes", "beats", "vibes", "daily", "fit", "films", "dance", "moves", "eats", "travels", "draws", "sings", "plays",
    "codes", "reads", "talks", "garden", "style", "music", "lab", "art", "cooks", "pets", "studio", "life", "crafts",
    "games", "sports", "quotes", "style.co", "edits", "makes", "tunes", "drums", "keys", "voice", "frames", "lens",
    "loops", "clips", "shorts", "plants", "rides", "skates", "surf", "runs", "pov", "tips", "facts", "news", "chef",
    "jokes", "memes", "nails", "hair", "glow",
]
_SEPS = ("", ".", "_")

GENERIC_TAGS = ("fyp", "foryou", "foryoupage", "viral", "trending", "xyzbca", "fy")
TOPIC_TAGS = [
    "dance", "cooking", "recipe", "comedy", "storytime", "pov", "music", "cover", "duet", "stitch", "learnontiktok",
    "booktok", "gaming", "fitness", "travel", "pets", "cat", "dog", "art", "drawing", "diy", "asmr", "fashion", "ootd",
    "makeup", "skincare", "study", "motivation", "tutorial", "lifehack", "foodtok", "transition", "challenge",
    "singing", "piano", "guitar", "violin", "orchestra", "classical",
]
_TREND_WORDS = [
    "midnight", "neon", "paper", "golden", "velvet", "echo", "orbit", "lemon", "silver", "cosmic", "quiet", "wild",
    "ember", "polar", "sunday", "honey", "static", "pixel", "marble", "lucky", "tidal", "crystal",
]
_TREND_SUFFIX = ("challenge", "trend", "dance", "check", "moment", "era", "core")

_PHRASES = (
    "wait for it", "this sound lives in my head", "had to try this", "ok this one is for you",
    "not me doing this at 3am", "my cat approves", "round two", "did I do it right?",
    "can't stop listening", "the ending though", "part 2 because you asked", "no thoughts just vibes",
    "tell me you know this song", "we tried", "this took 40 takes", "pov: it's monday",
    "first try!!", "sound on", "this is so underrated", "someone explain this sound to me",
    "my version", "just a little something", "trying the trend", "day 3 of posting until it blows up",
    "the way this slaps", "tag someone who needs this", "I can't be the only one", "late to the trend",
    "obsessed", "for the algorithm", "caption this", "new favourite sound",
)

SPEECH: dict[str, tuple[str, ...]] = {
    "en": (
        "okay so story time, yesterday I went to the market and you will not believe what happened",
        "let me tell you the one thing nobody tells you about moving to a new city",
        "three reasons why this is the best recipe you will ever make at home",
        "I tried this for thirty days and here is what actually changed",
        "if you are watching this at night, this is your sign to go to sleep",
        "nobody asked but here is my honest opinion about this whole situation",
        "so my teacher said something today that I cannot stop thinking about",
        "this is how I organise my week when everything feels like too much",
        "reply to this if you also grew up with this exact song in the car",
        "wait, you guys, I think I finally figured out the ending of that show",
        "here is a little trick that saves me ten minutes every single morning",
        "the plot twist nobody saw coming, and honestly I am still shaking",
        "quick tutorial, you only need a pencil, some paper and ten minutes",
        "we need to talk about what happened at the concert last night",
        "rating every snack from the airport, starting with the worst one",
        "this is a reminder that you are doing better than you think",
        "I asked my grandmother about this trend and her answer was perfect",
        "you are not ready for how easy this is, watch until the end",
        "part two, because so many of you asked what happened next",
        "honestly this changed the way I listen to music forever",
    ),
    "es": (
        "bueno, os cuento lo que me pasó ayer en el mercado, no os lo vais a creer",
        "tres razones por las que esta receta es la mejor que vas a probar",
        "si estás viendo esto de noche, es tu señal para ir a dormir",
        "parte dos, porque muchos preguntasteis qué pasó después",
    ),
    "fr": (
        "alors je vous raconte ce qui m'est arrivé hier soir, c'est incroyable",
        "trois astuces que personne ne vous dit quand vous déménagez",
        "petit tutoriel, il vous faut juste un crayon et dix minutes",
        "deuxième partie, parce que vous avez été nombreux à demander la suite",
    ),
    "de": (
        "also, ich erzähle euch kurz, was mir gestern im Zug passiert ist",
        "drei Gründe, warum dieses Rezept das beste ist, das ihr je kocht",
        "kleiner Trick, der mir jeden Morgen zehn Minuten spart",
        "Teil zwei, weil so viele gefragt haben, wie es weitergeht",
    ),
    "pt": (
        "gente, deixa eu contar o que aconteceu comigo ontem no mercado",
        "três motivos para você experimentar essa receita hoje mesmo",
    ),
    "it": (
        "allora, vi racconto cosa mi è successo ieri sera, non ci crederete",
        "tre motivi per cui questa ricetta è la migliore di sempre",
    ),
}
VOICES: dict[str, tuple[str, ...]] = {
    "en": ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-gb-x-rp", "en-us-nyc"),
    "es": ("es", "es-419"),
    "fr": ("fr-fr", "fr-be"),
    "de": ("de",),
    "pt": ("pt-br", "pt"),
    "it": ("it",),
}
VARIANTS = ("m1", "m2", "m3", "m4", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "Andy", "Annie", "Alex")
LANG_WEIGHTS = {"en": 0.72, "es": 0.09, "fr": 0.06, "de": 0.06, "pt": 0.04, "it": 0.03}


def usernames(n: int, rng: np.random.Generator) -> list[str]:
    """`n` distinct handles like `luna.bakes22`, drawn without replacement from a mixed-radix space."""
    radix = (len(_FIRST), len(_SECOND), len(_SEPS), 101)
    space = int(np.prod(radix))
    if n > space:
        raise ValueError(f"at most {space} distinct user names")
    codes = rng.choice(space, size=n, replace=False)
    out = []
    for code in codes.tolist():
        a, code = code % radix[0], code // radix[0]
        b, code = code % radix[1], code // radix[1]
        s, num = code % radix[2], code // radix[2]
        out.append(f"{_FIRST[a]}{_SEPS[s]}{_SECOND[b]}{'' if num == 100 else num}")
    return out


def trend_tags(n_sounds: int, rng: np.random.Generator) -> list[str]:
    """One hashtag per sound, shared by its adopters (e.g. `neonorbitchallenge`)."""
    w1 = rng.integers(0, len(_TREND_WORDS), n_sounds)
    w2 = rng.integers(0, len(_TREND_WORDS), n_sounds)
    sx = rng.integers(0, len(_TREND_SUFFIX), n_sounds)
    return [f"{_TREND_WORDS[a]}{_TREND_WORDS[b]}{_TREND_SUFFIX[c]}" for a, b, c in zip(w1, w2, sx, strict=False)]


def caption_frame(
    rng: np.random.Generator,
    relation: np.ndarray,
    parent_user: pl.Series,
    trend_tag: pl.Series,
) -> pl.DataFrame:
    """Caption, hashtags, mentions and TikTok-style `textExtra` spans per post, vectorised.

    Duets/stitches open with the platform's inserted "#duet with @user " / "#stitch with @user ";
    the body is a phrase followed by hashtags (the sound's trend tag, a topic, generic feed tags).
    `relation` holds "duet"/"stitch"/other strings; `parent_user`/`trend_tag` may be null.
    """
    n = relation.size
    generic = np.array(GENERIC_TAGS)
    n_generic = rng.integers(0, 4, n)
    gi = rng.integers(0, len(GENERIC_TAGS), (n, 3))
    g = [np.where(n_generic > k, generic[gi[:, k]], None).tolist() for k in range(3)]
    df = pl.DataFrame({
        "rel": np.where(np.isin(relation, ["duet", "stitch"]), relation, None).tolist(),
        "parent_user": parent_user,
        "trend": trend_tag,
        "use_trend": rng.random(n) < 0.55,
        "topic": np.array(TOPIC_TAGS)[rng.integers(0, len(TOPIC_TAGS), n)],
        "use_topic": rng.random(n) < 0.6,
        "phrase": np.array(_PHRASES)[rng.integers(0, len(_PHRASES), n)],
        "g0": g[0], "g1": g[1], "g2": g[2],
    }, schema_overrides={"rel": pl.String, "parent_user": pl.String, "trend": pl.String, "g0": pl.String,
                         "g1": pl.String, "g2": pl.String})
    has_prefix = pl.col("rel").is_not_null() & pl.col("parent_user").is_not_null()
    body = pl.concat_list(
        pl.when(pl.col("use_trend")).then(pl.col("trend")),
        pl.when(pl.col("use_topic")).then(pl.col("topic")),
        "g0", "g1", "g2",
    ).list.drop_nulls().list.unique(maintain_order=True)
    prefix = pl.when(has_prefix).then(pl.format("#{} with @{} ", "rel", "parent_user")).otherwise(pl.lit(""))
    df = df.with_columns(body.alias("body"), prefix.alias("prefix"), has_prefix.alias("has_prefix"))
    tag_text = pl.col("body").list.eval(pl.lit(" #") + pl.element()).list.join("")
    df = df.with_columns(
        (pl.col("prefix") + pl.col("phrase") + tag_text).alias("caption"),
        pl.when(pl.col("has_prefix")).then(pl.concat_list("rel", "body").list.unique(maintain_order=True))
        .otherwise(pl.col("body")).alias("hashtags"),
        pl.when(pl.col("has_prefix"))
        .then(pl.concat_list("parent_user"))
        .otherwise(pl.lit([], dtype=pl.List(pl.String)))
        .alias("mentions"),
        (pl.col("prefix").str.len_chars() + pl.col("phrase").str.len_chars()).alias("body_start"),
    )
    # spans: body tags sit back to back after the phrase (" #tag"), the inserted prefix at 0 and its @user
    spans = (
        df.with_row_index("row")
        .select("row", "body", "body_start")
        .explode("body")
        .filter(pl.col("body").is_not_null())
        .with_columns((pl.col("body").str.len_chars() + 2).alias("w"))
        .with_columns((pl.col("body_start") + pl.col("w").cum_sum().over("row") - pl.col("w") + 1).alias("start"))
        .select("row", pl.col("body").alias("tag"), "start", (pl.col("start") + pl.col("w") - 1).alias("end"))
    )
    pre = df.with_row_index("row").filter(pl.col("has_prefix"))
    pre_tags = pre.select("row", pl.col("rel").alias("tag"), pl.lit(0, pl.Int64).alias("start"),
                          (pl.col("rel").str.len_chars() + 1).cast(pl.Int64).alias("end"))
    mention = pre.select(
        "row", pl.col("parent_user").alias("user"),
        (pl.col("rel").str.len_chars() + 7).cast(pl.Int64).alias("start"),
        (pl.col("rel").str.len_chars() + 8 + pl.col("parent_user").str.len_chars()).cast(pl.Int64).alias("end"),
    )
    items = pl.concat([
        mention.select("row", "start", "end", pl.lit("").alias("hashtagName"), pl.col("user").alias("userUniqueId"),
                       pl.lit(0, pl.Int64).alias("type"), pl.lit(0).alias("o")),
        pre_tags.select("row", "start", "end", pl.col("tag").alias("hashtagName"), pl.lit("").alias("userUniqueId"),
                        pl.lit(1, pl.Int64).alias("type"), pl.lit(1).alias("o")),
        spans.select("row", pl.col("start").cast(pl.Int64), pl.col("end").cast(pl.Int64),
                     pl.col("tag").alias("hashtagName"), pl.lit("").alias("userUniqueId"),
                     pl.lit(1, pl.Int64).alias("type"), pl.lit(2).alias("o")),
    ])
    extra = (
        items.sort(["row", "start", "o"])
        .group_by("row", maintain_order=True)
        .agg(pl.struct("start", "end", "hashtagName", "userUniqueId", "type").alias("textExtra"))
    )
    out = df.with_row_index("row").join(extra, on="row", how="left")
    return out.select("caption", "hashtags", "mentions", pl.col("textExtra").fill_null(pl.lit([])))


def speech_spec(rng: np.random.Generator, min_words: int = 8) -> dict:
    """A random utterance: text (1-3 sentences), espeak-ng voice+variant, words/min and pitch."""
    langs = list(LANG_WEIGHTS)
    lang = langs[int(rng.choice(len(langs), p=list(LANG_WEIGHTS.values())))]
    pool = SPEECH[lang]
    n_sent = int(rng.integers(1, 4))
    text = ". ".join(pool[int(j)] for j in rng.integers(0, len(pool), n_sent))
    while len(text.split()) < min_words:
        text += ". " + pool[int(rng.integers(0, len(pool)))]
    voices = VOICES[lang]
    voice = f"{voices[int(rng.integers(0, len(voices)))]}+{VARIANTS[int(rng.integers(0, len(VARIANTS)))]}"
    return {
        "text": text,
        "voice": voice,
        "wpm": int(rng.integers(135, 195)),
        "pitch": int(rng.integers(25, 75)),
        "lang": lang,
    }
