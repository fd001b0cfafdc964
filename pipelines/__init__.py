"""trendtrace: moment-to-movement lineage of short-video sounds."""
