import numpy as np
import pytest
from criteria_testdata import context_for, grid_video, make_video, random_inputs

from vatl.atl.propagation import TrackLayout
from vatl.criteria import criterion_options, get_criterion
from vatl.criteria.propagating import nearest_label, spaced
from vatl.data.annotations import LabelStore


def test_spaced_skips_candidates_near_labels_and_earlier_picks_of_the_same_track():
    frames = np.array([0, 1, 2, 3, 4, 5, 0, 1])
    tracks = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    ranked = np.array([1, 2, 5, 7, 3])  # the base criterion's order
    picks = spaced(frames, tracks, labeled=np.array([0]), ranked=ranked, k=3, spacing=1, pool=np.arange(1, 8))
    # 1 is next to label 0; 2 is taken; 5 is taken; 7 is another track
    np.testing.assert_array_equal(picks, [2, 5, 7])
    # too few far enough: the skipped ones fill up, in the base's order
    picks = spaced(frames, tracks, np.array([0]), np.array([1, 2, 3]), 3, 5, np.arange(1, 8))
    np.testing.assert_array_equal(picks, [1, 2, 3])
    # candidates beyond the ranked list fill up in index order
    picks = spaced(frames, tracks, np.array([0]), np.array([1]), 3, 0, np.arange(1, 8))
    np.testing.assert_array_equal(picks, [1, 2, 3])


def test_spacing_criterion_keeps_its_picks_apart_along_tracks():
    video = grid_video(12, 1)
    unlabeled = np.ones(video.num_samples, dtype=bool)
    unlabeled[[0]] = False
    criterion = get_criterion("thc+wpu+duw+lap", spacing=2)
    picks = criterion.select(context_for(criterion, video, unlabeled, 3))
    frames = np.sort(np.r_[video.frame_index[picks], 0])
    assert len(picks) == 3 and np.diff(frames).min() > 2


def test_nearest_label_within_the_gap_in_the_same_track():
    lay = TrackLayout(np.array([0, 1, 2, 3, 6, 1]), np.array([0, 0, 0, 0, 0, 1]), np.tile([0, 0, 10.0, 10.0], (6, 1)))
    labeled = np.array([False, False, True, False, False, False])
    np.testing.assert_array_equal(nearest_label(lay, labeled, 1), [-1, 2, -1, 2, -1, -1])
    np.testing.assert_array_equal(nearest_label(lay, labeled, 4), [2, 2, -1, 2, 2, -1])


def test_pseudo_labels_take_only_the_joints_the_nearest_label_has():
    video = make_video([(f, 0) for f in range(5)])
    lay = TrackLayout.of(video)
    kp = np.zeros((5, 17, 3))
    label = np.zeros((17, 3))
    label[:, :2], label[:5, 2] = 3.0, 2.0
    labels = LabelStore()
    labels.add(2, label, cycle=0)
    criterion = get_criterion("random+lap", pseudo=1, reach=1e6)
    idx, pseudo = criterion.training_extension(lay, kp, labels)
    np.testing.assert_array_equal(idx, [1, 3])
    np.testing.assert_array_equal(pseudo[:, :5, 2], 2.0)
    np.testing.assert_array_equal(pseudo[:, 5:, 2], 0.0)
    np.testing.assert_allclose(pseudo[:, :5, :2], 3.0, atol=1e-3)  # the label's residual, undamped
    assert get_criterion("random+lap").training_extension(lay, kp, labels)[0].shape == (0,)


def test_options_are_the_propagations_and_the_bases():
    options = criterion_options("thc+wpu+duw+lap")
    assert {"reach", "smooth", "span", "spacing", "pseudo", "lam", "normalise", "weighting"} <= set(options)
    criterion = get_criterion("thc+wpu+duw+lap", reach=3, smooth=1, lam=0.5, normalise=False)
    assert criterion.propagation.reach == 3.0 and criterion.propagation.smooth == 1
    assert criterion.base.lam == 0.5 and not criterion.base.normalise
    with pytest.raises(ValueError, match="no option colour"):
        get_criterion("coreset+lap", colour=1)
    with pytest.raises(ValueError, match="spacing must be an integer"):
        get_criterion("coreset+lap", spacing=-1)


def test_the_method_never_reads_the_ground_truth_of_the_video():
    """Selection and refinement see the labels, the predictions and where the samples are; altering the
    video's ground truth (every sample's: the labels are passed separately) changes nothing."""
    video = grid_video(6, 2)
    heatmaps, features, keypoints, labels = random_inputs(video)
    unlabeled = np.ones(video.num_samples, dtype=bool)
    unlabeled[[0, 5]] = False
    store = LabelStore()
    for i in (0, 5):
        store.add(i, labels[i], cycle=0)
    outputs = []
    for gt_seed in (1, 2):
        video.keypoints = np.random.default_rng(gt_seed).uniform(0, 100, size=video.keypoints.shape)
        video.keypoints[..., 2] = 2.0
        criterion = get_criterion("thc+wpu+duw+lap", spacing=1, pseudo=2, smooth=1)
        ctx = context_for(criterion, video, unlabeled, 3, inputs=(heatmaps, features, keypoints, labels))
        lay = TrackLayout.of(video)
        outputs.append((criterion.select(ctx), criterion.refine_predictions(lay, keypoints, store),
                        *criterion.training_extension(lay, keypoints, store)))
    for a, b in zip(*outputs):
        np.testing.assert_array_equal(a, b)
