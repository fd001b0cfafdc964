"""Sound identity engine (issue 5): index, candidate search, verification and canonical sounds.

See docs/matching.md. The stage that drives it is pipelines.stages.match_sounds.
"""
