"""Per-joint OKS sigmas from repeated labels (COCO's method) and from one labeled clip."""

from __future__ import annotations

import numpy as np
import pytest

from vatl.data.video import Frame, Video
from vatl.metrics.sigmas import sigmas_from_clip, sigmas_from_repeats
from vatl.skeletons import KeypointSet

KS = KeypointSet("two", ("tip", "base"), (0.025, 0.025))


def _video(truth: np.ndarray, noise: np.ndarray, frames: int, tracks: int, box: float = 100.0) -> Video:
    """(frames × tracks) samples of 2 joints: ``truth`` (F, T, 2, 2) plus ``noise`` (same shape), 100 × 100 boxes."""
    n = frames * tracks
    kp = np.concatenate([(truth + noise).reshape(n, 2, 2), np.full((n, 2, 1), 2.0)], axis=2)
    boxes = np.tile([0.0, 0.0, box, box], (n, 1))
    return Video(name="v", keypoint_set=KS, frames=[Frame(path=None, image_id=t, width=1000, height=1000)
                                                      for t in range(frames)],
                 frame_index=np.repeat(np.arange(frames), tracks), track_id=np.tile(np.arange(tracks), frames),
                 boxes=boxes, keypoints=kp, annotation_ids=np.arange(n))


def test_repeated_labels_recover_the_annotators_spread():
    rng = np.random.default_rng(0)
    frames, tracks = 40, 5
    truth = rng.uniform(200, 800, (frames, tracks, 2, 2))
    # OKS's sigma: E[d²/A] = σ², d the 2-D distance of a label from the truth -> per-axis std σ·sqrt(A/2)
    true_sigma = np.array([0.02, 0.06])
    per_axis = true_sigma * np.sqrt(100.0 * 100.0 / 2)
    labelings = [_video(truth, rng.normal(0, 1, truth.shape) * per_axis[None, None, :, None], frames, tracks)
                 for _ in range(3)]
    est = sigmas_from_repeats(labelings)
    np.testing.assert_allclose(est.sigmas, true_sigma, rtol=0.1)
    assert est.method == "repeats" and est.estimated.all() and (est.counts == 3 * frames * tracks).all()
    with pytest.raises(ValueError, match="at least two labelings"):
        sigmas_from_repeats(labelings[:1])


def test_one_clip_gives_an_upper_bound_close_to_the_truth_for_smooth_motion():
    rng = np.random.default_rng(1)
    frames, tracks = 60, 4
    t = np.arange(frames)[:, None, None, None]
    truth = 300 + 2.0 * t + np.zeros((frames, tracks, 2, 2))  # linear motion: the second difference removes it
    true_sigma = np.array([0.03, 0.08])
    per_axis = true_sigma * np.sqrt(100.0 * 100.0 / 2)
    est = sigmas_from_clip(_video(truth, rng.normal(0, 1, truth.shape) * per_axis[None, None, :, None], frames, tracks))
    np.testing.assert_allclose(est.sigmas, true_sigma, rtol=0.15)
    assert est.method == "clip"


def test_joints_with_too_few_measurements_keep_their_sigma():
    truth = np.zeros((3, 1, 2, 2)) + 500
    video = _video(truth, np.zeros_like(truth), 3, 1)
    est = sigmas_from_clip(video, min_count=2)
    assert not est.estimated.any() and (est.sigmas == 0.025).all() and (est.counts == 1).all()
    with pytest.raises(ValueError, match="no track has three labeled samples in consecutive frames"):
        sigmas_from_clip(_video(truth[:2], np.zeros_like(truth[:2]), 2, 1))
