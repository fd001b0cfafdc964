"""Sound identity by audio (issue 5): types, analysis, the DuckDB store, voting and verification, resolution rules
and the engine that runs them for a day (docs/matching.md, "Modules").

The stage that drives it is pipelines.stages.match_sounds; `trendtrace identify` runs the same engine on one file.
"""
