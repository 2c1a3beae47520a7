"""Where a keypoint may lie: the plausibility bounds shared by the readers (ground truth) and the answers.

A labeled joint may lie outside the image (a truncated person), but not arbitrarily far: coordinates of
1e30 or 1e300 are errors of units or of a program, and training on them would wreck the model. The bound
is generous so that no real annotation is refused:

* image size known: the image grown by :data:`COORDINATE_MARGIN` (half its width/height) on every side;
* image size unknown, person box known (answers): the box grown by its own size on every side;
* neither: |x|, |y| <= :data:`MAX_COORDINATE` pixels.
"""

from __future__ import annotations

import numpy as np

COORDINATE_MARGIN = 0.5
MAX_COORDINATE = 1e5
VISIBILITY_VALUES = (0, 1, 2)  # not labeled, labeled but occluded, labeled and visible (COCO)


def allowed_region(width: float = 0, height: float = 0, box: np.ndarray | None = None
                   ) -> tuple[float, float, float, float]:
    """(x_min, x_max, y_min, y_max) allowed for a labeled joint (see the module docstring)."""
    if width > 0 and height > 0:
        mx, my = COORDINATE_MARGIN * width, COORDINATE_MARGIN * height
        return -mx, width + mx, -my, height + my
    if box is not None:
        x, y, w, h = (float(v) for v in box)
        return x - w, x + 2 * w, y - h, y + 2 * h
    return -MAX_COORDINATE, MAX_COORDINATE, -MAX_COORDINATE, MAX_COORDINATE


def describe_region(region: tuple[float, float, float, float], width: float = 0, height: float = 0) -> str:
    """How error messages name the region, e.g. ``the image 960×540 grown by 50 % (x in [-480, 1440], …)``."""
    x0, x1, y0, y1 = region
    span = f"x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]"
    if width > 0 and height > 0:
        return f"the image {width:g}×{height:g} grown by {COORDINATE_MARGIN:.0%} on each side ({span})"
    return span


def outside(xy: np.ndarray, region: tuple[float, float, float, float]) -> np.ndarray:
    """(K,) bool: points (K, 2) outside ``region``."""
    x0, x1, y0, y1 = region
    xy = np.asarray(xy, dtype=np.float64)
    return (xy[:, 0] < x0) | (xy[:, 0] > x1) | (xy[:, 1] < y0) | (xy[:, 1] > y1)
