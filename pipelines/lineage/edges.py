"""lineage_edges: the evidence for each post's parent, weighed in SQL (sql/link_lineage/edges_link.sql).

Order of strength (docs/lineage.md): explicit duetFromId > caption "#duet/#stitch with @user" (the audio
picks which of that user's earlier posts) > platform music id > canonical sound from post_sounds; audio
alignment grades each candidate and a contradiction lowers its confidence and is recorded, never hidden.
Claims that point to the post itself, to the future, to a never-observed post or round a cycle are rejected
into lineage_rejections with the reason.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines import warehouse

# A duet's audio is its parent's audio; a stitch opens with its parent's opening: both put the same sound at
# the same place in both posts. Chromaprint items are ~0.12 s; matches are located to within about a second.
ALIGN_TOLERANCE_S = 2.0
TEMP_TABLES = (
    "ll_kids", "ll_explicit", "ll_music_first", "ll_sound_first", "ll_pairs", "ll_audio", "ll_graded", "ll_chosen",
    "ll_rejected",
)


def link_edges(con: duckdb.DuckDBPyConnection, first_day: date, day: date,
               align_tolerance_s: float = ALIGN_TOLERANCE_S) -> dict:
    """Replace the edges and rejections of the posts in lineage_scope (pipelines.lineage.build_scope for
    partitions first_day … day, already built); returns what was linked."""
    params = {"first_day": first_day, "day": day}
    warehouse.run_sql(con, "link_lineage/edges_link", dict(params, align_tol_s=align_tolerance_s))
    warehouse.run_sql(con, "link_lineage/edges_replace", params)
    posts = con.execute("SELECT count(*) FROM ll_kids").fetchall()[0][0]
    by_relation = dict(con.execute("SELECT relation, count(*) FROM ll_chosen GROUP BY ALL").fetchall())
    rejected = con.execute("SELECT count(*) FROM ll_rejected").fetchall()[0][0]
    for table in TEMP_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("DROP VIEW IF EXISTS ll_sounds")
    return {"posts": posts, "edges": sum(by_relation.values()), "by_relation": by_relation, "rejected": rejected}
