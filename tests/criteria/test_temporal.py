import numpy as np
import pytest
from criteria_testdata import grid_video, make_video, random_inputs, stream

from vatl.criteria import get_criterion
from vatl.criteria.temporal import THCConsumer, combine_sides, temporal_pose_continuity
from vatl.estimator.interface import PassBatch
from vatl.skeletons import KeypointSet

TWO = KeypointSet(name="two", keypoints=("a", "b"), sigmas=(0.05, 0.05))


def three_frame_heatmaps():
    h = np.zeros((3, 2, 2, 2), dtype=np.float32)
    h[0, 0, 0, 0] = 1.0
    h[1, 0, 0, 1] = 1.0
    h[1, 1, 1, 1] = 1.0
    h[2, 0, 0, 1] = 1.0
    h[2, 1, 0, 0] = 0.5
    return h  # SAD(0,1) = (2 + 1) / 2 = 1.5, SAD(1,2) = (0 + 1.5) / 2 = 0.75


def run_thc(video, heatmaps, max_gap=1, order=None, batch=2):
    consumer = THCConsumer(video, max_gap)
    order = video.temporal_order() if order is None else order
    for s in range(0, len(order), batch):
        idx = np.asarray(order[s:s + batch])
        consumer.consume(PassBatch(indices=idx, heatmaps=heatmaps[idx], keypoints=np.zeros((len(idx), 2, 3)),
                                   features=np.zeros((len(idx), 1), np.float32)))
    return consumer


def test_thc_of_a_three_frame_track_with_missing_neighbour_rule():
    video = make_video([(0, 7), (1, 7), (2, 7)], keypoint_set=TWO)
    np.testing.assert_allclose(run_thc(video, three_frame_heatmaps()).scores(), [3.0, 2.25, 1.5])


def test_thc_track_gap_and_lonely_sample():
    # track 1 in frames 0 and 2 (a gap of 2), track 2 alone
    video = make_video([(0, 1), (2, 1), (1, 2)], keypoint_set=TWO)
    h = three_frame_heatmaps()[[0, 1, 2]]
    np.testing.assert_allclose(run_thc(video, h, max_gap=1).scores(), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(run_thc(video, h, max_gap=2).scores(), [3.0, 3.0, 0.0])


def test_thc_neighbours_are_per_track_not_per_list_position():
    # two tracks interleaved frame-major: sample order 0:(f0,t0) 1:(f0,t1) 2:(f1,t0) 3:(f1,t1)
    video = make_video([(0, 0), (0, 1), (1, 0), (1, 1)], keypoint_set=TWO)
    h = np.zeros((4, 2, 2, 2), dtype=np.float32)
    h[1, 0, 0, 0] = 4.0  # track 1 changes by 4 on one joint; track 0 is constant
    np.testing.assert_allclose(run_thc(video, h).scores(), [0.0, 4.0, 0.0, 4.0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_thc_streaming_order_and_batching_do_not_change_scores(seed):
    video = make_video([(f, t) for f in range(6) for t in range(3)] + [(9, 0), (7, 5)], keypoint_set=TWO)
    rng = np.random.default_rng(seed)
    h = rng.random((video.num_samples, 2, 3, 3)).astype(np.float32)
    reference = run_thc(video, h, batch=1)
    shuffled = run_thc(video, h, order=rng.permutation(video.num_samples), batch=int(rng.integers(1, 6)))
    np.testing.assert_allclose(shuffled.scores(), reference.scores(), rtol=1e-6)
    assert len(shuffled.pending) == 0 and len(reference.pending) == 0
    # in temporal order at most one heatmap per track waits
    assert reference.max_pending <= 1
    assert run_thc(video, h, batch=4).max_pending <= video.num_tracks


def test_thc_sample_missing_from_the_pass_is_nan_and_its_neighbours_count_twice():
    video = make_video([(0, 7), (1, 7), (2, 7)], keypoint_set=TWO)
    consumer = run_thc(video, three_frame_heatmaps(), order=np.array([0, 1]))
    np.testing.assert_allclose(consumer.scores(), [3.0, 3.0, np.nan])


def test_thc_criterion_streams_over_labelable_slots():
    video = grid_video(3, 2)
    heatmaps, features, keypoints, _ = random_inputs(video)
    scores = stream(get_criterion("thc"), video, heatmaps, features, keypoints)["thc"]
    heatmaps[:, list(video.keypoint_set.never_annotated)] = np.random.default_rng(5).random((6, 2, 8, 6))
    np.testing.assert_allclose(stream(get_criterion("thc"), video, heatmaps, features, keypoints)["thc"], scores)


def test_combine_sides():
    np.testing.assert_array_equal(combine_sides([1.0, np.nan, 2.0, np.nan], [3.0, 4.0, np.nan, np.nan]),
                                  [4.0, 8.0, 4.0, 0.0])


def test_tpc_counts_joints_moving_more_than_the_threshold_in_the_current_crop():
    video = make_video([(0, 0), (1, 0), (2, 0), (0, 1)], keypoint_set=TWO)
    uv = np.zeros((4, 2, 2))  # heatmap coordinates of joints a, b
    uv[1, 0] = [1.0, 0.0]     # joint a moves 1 heatmap px from frame 0 to 1
    uv[2, 0] = [1.0, 0.0]
    uv[2, 1] = [0.0, 0.25]    # joint b moves a quarter heatmap px from frame 1 to 2
    sizes = np.tile([96.0, 128.0], (4, 1))  # crop regions (w, h): 16 image px per heatmap px on a 6×8 heatmap
    prev, nxt = video.neighbours()
    # limit = 0.1 · sqrt(96 · 128) = 11.09 px: 1 heatmap px (16 px) counts, 0.25 (4 px) does not
    np.testing.assert_array_equal(temporal_pose_continuity(uv, sizes, (6, 8), prev, nxt, 0.1), [2.0, 1.0, 0.0, 0.0])
    # limit = 0.02 · 110.9 = 2.2 px: both count
    np.testing.assert_array_equal(temporal_pose_continuity(uv, sizes, (6, 8), prev, nxt, 0.02), [2.0, 2.0, 2.0, 0.0])


def test_tpc_streamed_ignores_a_person_walking_with_the_box():
    from vatl.criteria.temporal import TPCScorer
    from vatl.estimator.heatmaps import gaussian_targets

    # one track over 3 frames, walking 40 px a frame (the box moves with it): same heatmap every frame
    boxes = np.array([[0.0, 0.0, 60.0, 80.0], [40.0, 0.0, 60.0, 80.0], [80.0, 0.0, 60.0, 80.0]])
    video = make_video([(0, 0), (1, 0), (2, 0)], keypoint_set=TWO, boxes=boxes)
    points = np.tile([[2.0, 3.0], [4.0, 5.0]], (3, 1, 1))
    points[2, 1] = [4.0, 2.0]  # only in frame 2 does joint b move, 3 heatmap px within the crop
    heatmaps, _ = gaussian_targets(points, np.ones((3, 2), bool), (6, 8))
    scorer = TPCScorer(threshold=0.01)
    (consumer,) = scorer.pass_consumers(video)
    consumer.consume(PassBatch(indices=np.arange(3), heatmaps=heatmaps, keypoints=np.zeros((3, 2, 3)),
                               features=np.zeros((3, 1), np.float32)))
    # frame 0: next unchanged -> 0; frame 1: prev 0, next 1 joint; frame 2: prev 1 joint, counted twice
    np.testing.assert_array_equal(consumer.scores(), [0.0, 1.0, 2.0])
