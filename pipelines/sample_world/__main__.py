"""`python -m pipelines.sample_world --out DIR ...`: the same options `trendtrace sample-world` takes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer

from .world import build_world

app = typer.Typer(add_completion=False)


@app.command()
def sample_world(
    out: Path = typer.Option(..., "--out", help="output folder: landing/ and truth/ are (re)written there"),
    days: int = typer.Option(14, help="days of posting (one partition per day)"),
    seed: int = typer.Option(7, help="random seed: same seed, same world"),
    scale: str = typer.Option("demo", help="small | quick (make demo) | demo | large | xl (xl needs --no-media)"),
    no_media: bool = typer.Option(False, "--no-media", help="metadata only: diffusion, exports and truth"),
    start: str = typer.Option("2024-03-01", help="first day (YYYY-MM-DD)"),
    cache_dir: Path | None = typer.Option(None, help="audio/render cache (default $TRENDTRACE_CACHE or data/cache)"),
    workers: int | None = typer.Option(None, help="render processes (default: all cores)"),
    posts: int | None = typer.Option(None, help="override the scale's number of posts"),
) -> None:
    """Build the public sample world with hidden ground truth."""
    summary = build_world(out, days=days, seed=seed, scale=scale, no_media=no_media,
                          start=datetime.strptime(start, "%Y-%m-%d").date(), cache_dir=cache_dir,
                          workers=workers, posts=posts)
    typer.echo(json.dumps(summary, indent=1))


if __name__ == "__main__":
    app()
