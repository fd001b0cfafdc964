"""The daily HTML report (`trendtrace report`): build.py assembles it, svg.py draws its charts."""
