"""The public sample world: real audio, self-exciting diffusion, platform-shaped exports, hidden truth.

Only `build_world` is meant for callers (the CLI's `sample-world` command and tests); the pipeline never
imports this package.
"""

from .recipes import TRANSFORM_FAMILIES, transform_family
from .stages import STAGE_THRESHOLDS
from .world import build_world

__all__ = ["STAGE_THRESHOLDS", "TRANSFORM_FAMILIES", "build_world", "transform_family"]
