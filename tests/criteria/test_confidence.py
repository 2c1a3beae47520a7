import numpy as np
import pytest
from criteria_testdata import grid_video, random_inputs, stream

from vatl.criteria import SelectionContext, get_criterion
from vatl.criteria.confidence import (
    HeatmapScoreConsumer,
    least_confidence,
    local_peaks,
    multiple_peak_entropy,
    peak_entropy,
)
from vatl.estimator.interface import PassBatch


def entropy_of_softmax(values):
    p = np.exp(values - np.max(values))
    p /= p.sum()
    return float(-(p * np.log(p)).sum())


def test_least_confidence_sums_the_maxima():
    hm = np.zeros((2, 3, 5, 5), dtype=np.float32)
    hm[0, 0, 1, 1], hm[0, 1, 2, 2], hm[0, 2, 4, 0] = 0.9, 0.5, 0.2
    hm[1, :, 0, 0] = 1.0
    np.testing.assert_allclose(least_confidence(hm), [-1.6, -3.0], rtol=1e-6)


def test_mpe_of_two_peaks_is_the_entropy_of_their_softmax():
    hm = np.zeros((1, 1, 32, 32), dtype=np.float32)
    hm[0, 0, 5, 5] = 0.8
    hm[0, 0, 20, 25] = 0.3
    assert multiple_peak_entropy(hm)[0] == pytest.approx(entropy_of_softmax(np.array([0.8, 0.3])), rel=1e-6)


def test_mpe_single_peak_and_flat_heatmaps_score_zero():
    hm = np.zeros((2, 1, 16, 16), dtype=np.float32)
    hm[0, 0, 8, 8] = 1.0
    hm[0, 0, 7, 8] = 0.5  # a shoulder of the same peak, not a local maximum
    np.testing.assert_allclose(multiple_peak_entropy(hm), [0.0, 0.0], atol=1e-12)


def test_peaks_closer_than_min_distance_merge_and_at_most_five_are_kept():
    hm = np.zeros((1, 40, 40), dtype=np.float32)
    # two equal pixels 3 px apart: one plateau peak (the first in raster order is kept)
    hm[0, 7, 7] = hm[0, 7, 10] = 0.9
    # six more peaks, far apart, decreasing
    for i, (y, x) in enumerate([(20, 7), (7, 20), (20, 20), (32, 32), (32, 8), (8, 32)]):
        hm[0, y, x] = 0.8 - 0.1 * i
    values, valid = local_peaks(hm)
    assert valid.sum() == 5
    np.testing.assert_allclose(values[0], [0.9, 0.8, 0.7, 0.6, 0.5], rtol=1e-6)
    # exactly min_distance apart: both kept (skimage keeps points at distance == min_distance)
    hm2 = np.zeros((1, 20, 20), dtype=np.float32)
    hm2[0, 10, 6] = hm2[0, 10, 11] = 0.5
    assert local_peaks(hm2)[1].sum() == 2
    # the published call excludes a 5-pixel border: a peak at row or column < 5 does not count
    hm3 = np.zeros((1, 20, 20), dtype=np.float32)
    hm3[0, 4, 10] = hm3[0, 10, 15] = 0.7
    assert local_peaks(hm3)[1].sum() == 0


def test_a_plateau_does_not_hide_lower_peaks():
    hm = np.zeros((1, 64, 64), dtype=np.float32)
    hm[0, 10:30, 10:30] = 1.0  # 400 equal candidates (a cap on candidates would see only this plateau)
    hm[0, 50, 50] = 0.5
    values, valid = local_peaks(hm)
    assert valid[0].tolist() == [True, True, True, True, True]
    np.testing.assert_allclose(values[0], [1.0, 1.0, 1.0, 1.0, 1.0])  # plateau pixels >= 5 px apart
    hm[0, 10:30, 10:30] = 0.0
    hm[0, 10:14, 10:14] = 1.0  # a small plateau: one peak, then the lower one
    values, valid = local_peaks(hm)
    np.testing.assert_allclose(values[0][valid[0]], [1.0, 0.5])


@pytest.mark.parametrize("kind", ["random", "smooth", "plateaus", "flat"])
def test_peaks_are_those_scikit_image_finds(kind):
    skimage = pytest.importorskip("skimage.feature")
    rng = np.random.default_rng({"random": 0, "smooth": 1, "plateaus": 2, "flat": 3}[kind])
    if kind == "random":
        hm = rng.random((40, 32, 24)).astype(np.float32)
    elif kind == "smooth":
        from scipy.ndimage import gaussian_filter
        hm = gaussian_filter(rng.random((40, 32, 24)), sigma=(0, 2, 2)).astype(np.float32)
    elif kind == "plateaus":
        hm = np.round(rng.random((40, 32, 24)) * 3).astype(np.float32) / 3
    else:
        hm = np.full((3, 32, 24), 0.25, dtype=np.float32)
    values, valid = local_peaks(hm)
    for i in range(len(hm)):
        coords = skimage.peak_local_max(hm[i], min_distance=5, num_peaks=5)
        expected = hm[i][tuple(coords.T)] if len(coords) else np.zeros(0)
        np.testing.assert_allclose(values[i][valid[i]], expected, rtol=0, atol=0)


def test_peak_entropy_without_peaks_is_zero_not_nan():
    out = peak_entropy(np.zeros((2, 5)), np.zeros((2, 5), dtype=bool))
    np.testing.assert_array_equal(out, [0.0, 0.0])


def test_consumer_uses_labelable_slots_and_marks_missing_samples_nan():
    consumer = HeatmapScoreConsumer("lc", 4, least_confidence, slots=np.array([0, 2]))
    hm = np.zeros((2, 3, 4, 4), dtype=np.float32)
    hm[:, 0, 0, 0], hm[:, 1, 0, 0], hm[:, 2, 0, 0] = 0.5, 10.0, 0.25
    consumer.consume(PassBatch(indices=np.array([3, 1]), heatmaps=hm, keypoints=np.zeros((2, 3, 3)),
                               features=np.zeros((2, 2), np.float32)))
    np.testing.assert_allclose(consumer.scores(), [np.nan, -0.75, np.nan, -0.75])


def test_lc_and_mpe_ignore_never_annotated_slots_of_the_video():
    video = grid_video(2, 1)
    heatmaps, features, keypoints, _ = random_inputs(video)
    lc = get_criterion("lc")
    base = stream(lc, video, heatmaps, features, keypoints)["lc"]
    heatmaps[:, list(video.keypoint_set.never_annotated)] = 100.0  # the ears
    np.testing.assert_allclose(stream(get_criterion("lc"), video, heatmaps, features, keypoints)["lc"], base)


def test_uncertainty_criterion_picks_the_highest_scores():
    video = grid_video(5, 1)
    heatmaps, features, keypoints, _ = random_inputs(video)
    criterion = get_criterion("lc")
    scores = stream(criterion, video, heatmaps, features, keypoints)
    unlabeled = np.array([True, False, True, True, True])
    ctx = SelectionContext(video=video, unlabeled=unlabeled, budget=2, keypoints=keypoints, features=features,
                           rng=np.random.default_rng(0), scores=scores)
    expected = [i for i in np.argsort(-scores["lc"]) if unlabeled[i]][:2]
    np.testing.assert_array_equal(criterion.select(ctx), expected)


def test_missing_stream_gives_an_actionable_error():
    video = grid_video(2, 1)
    _, features, keypoints, _ = random_inputs(video)
    ctx = SelectionContext(video=video, unlabeled=np.ones(2, bool), budget=1, keypoints=keypoints,
                           features=features, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="pass_consumers"):
        get_criterion("mpe").select(ctx)
