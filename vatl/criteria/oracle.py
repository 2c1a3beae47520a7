"""The oracle criterion: selection by the true error (for benchmarks only; it reads the ground truth).

Score = 1 − OKS of the current prediction against the ground truth: the worst-estimated samples first.
It is the ceiling of what an uncertainty criterion could achieve, not a method a user can run on an
unlabeled video.
"""

from __future__ import annotations

import numpy as np

from vatl.criteria.base import Criterion, SelectionContext, top_k
from vatl.metrics import oks


def true_error(ctx: SelectionContext) -> np.ndarray:
    """(N,) 1 − OKS(prediction, ground truth); samples without ground truth score 0."""
    video = ctx.video
    has_gt = video.visible.any(axis=1)
    error = np.zeros(video.num_samples)
    if has_gt.any():
        error[has_gt] = 1.0 - oks(ctx.keypoints[has_gt], video.keypoints[has_gt], video.oks_areas()[has_gt],
                                  video.keypoint_set.sigma_array)
    return error


class OracleCriterion(Criterion):
    """Top-k of the true error."""

    name = "oracle"

    def select(self, ctx: SelectionContext) -> np.ndarray:
        return top_k(true_error(ctx), ctx)
