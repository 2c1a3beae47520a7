import numpy as np
import pytest
import torch
import torch.nn.functional as F
from estimator_testdata import BONN_JSON, COLOURS, TINY_SET, tiny_video

from vatl.estimator.dataset import crop_cache
from vatl.estimator.estimate import estimate
from vatl.estimator.interface import PassBatch, PassConsumer
from vatl.estimator.models import ModelConfig, PoseModel, build_model


class Recorder:
    def __init__(self) -> None:
        self.batches: list[PassBatch] = []

    def consume(self, batch: PassBatch) -> None:
        self.batches.append(batch)


class ColourPeakModel(PoseModel):
    """A stand-in estimator whose heatmap k is where the crop shows colour k (4×4 average pooled)."""

    def forward(self, images):
        rgb = images * self.pixel_std + self.pixel_mean  # back to 0..255
        colours = torch.tensor(COLOURS, dtype=rgb.dtype)
        # similarity to each keypoint colour: high only where the pixel has that exact colour
        dist = ((rgb[:, None] - colours[None, :, :, None, None]) ** 2).sum(dim=2)
        heat = F.avg_pool2d(torch.exp(-dist / 2000.0), 4)
        return heat, heat.mean(dim=(2, 3))


def test_pass_streams_every_sample_once_in_temporal_order(tmp_path):
    video = tiny_video(tmp_path, num_frames=5, num_tracks=2)
    model = build_model("cpu_small", TINY_SET, seed=0)
    rec = Recorder()
    assert isinstance(rec, PassConsumer)
    result = estimate(model, video, consumers=[rec], batch_size=3)
    order = np.concatenate([b.indices for b in rec.batches])
    np.testing.assert_array_equal(order, video.temporal_order())
    # frame-major samples: track 0 is 0, 2, 4, …; temporal order visits track 0 first
    np.testing.assert_array_equal(order[:5], [0, 2, 4, 6, 8])
    assert all(len(b.indices) <= 3 for b in rec.batches)
    b = rec.batches[0]
    assert b.heatmaps.shape == (len(b.indices), 3, 32, 24) and b.heatmaps.dtype == np.float32
    assert b.keypoints.shape == (len(b.indices), 3, 3) and b.features.shape == (len(b.indices), 128)
    assert b.features.dtype == np.float32
    np.testing.assert_array_equal(result.keypoints[b.indices], b.keypoints)
    np.testing.assert_array_equal(result.features[b.indices], b.features)
    np.testing.assert_allclose(b.keypoints[..., 2], b.heatmaps.reshape(len(b.indices), 3, -1).max(axis=2))


def test_decoded_keypoints_land_on_the_drawn_joints(tmp_path):
    video = tiny_video(tmp_path, num_frames=3, num_tracks=2, seed=4)
    model = ColourPeakModel(ModelConfig(), TINY_SET)
    result = estimate(model, video, batch_size=4)
    # one heatmap pixel covers box_height·1.25/32 ≈ 2.3 image px; the discs are drawn at rounded positions
    err = np.linalg.norm(result.keypoints[..., :2] - video.keypoints[..., :2], axis=2)
    assert err.max() < 2.5


def test_flip_test_averages_with_the_mirrored_crop_using_the_pairs(tmp_path):
    video = tiny_video(tmp_path, num_frames=2, num_tracks=1)
    model = build_model("cpu_small", TINY_SET, seed=0)
    plain, flipped = Recorder(), Recorder()
    estimate(model, video, [plain])
    estimate(model, video, [flipped], flip_test=True)
    np.testing.assert_array_equal(plain.batches[0].features, flipped.batches[0].features)
    idx = flipped.batches[0].indices
    x = model.prepare(crop_cache(video, model.input_size).input_crops(idx))
    with torch.no_grad():
        hf, _ = model.eval()(torch.flip(x, dims=[3]))
    # slot 1 (left hand) takes the mirrored slot 2 (right hand) of the mirrored crop, and vice versa
    back = torch.flip(hf[:, [0, 2, 1]], dims=[3]).numpy()
    np.testing.assert_allclose(flipped.batches[0].heatmaps, (plain.batches[0].heatmaps + back) / 2, atol=1e-6)


def test_model_is_left_in_its_previous_mode(tmp_path):
    video = tiny_video(tmp_path, num_frames=1, num_tracks=1)
    model = build_model("cpu_small", TINY_SET).train()
    estimate(model, video)
    assert model.training


def test_wrong_keypoint_set_is_refused(tmp_path):
    video = tiny_video(tmp_path, num_frames=1, num_tracks=1)
    model = build_model("cpu_small", None)  # PoseTrack21, 17 slots
    with pytest.raises(ValueError, match="3 keypoint slots"):
        estimate(model, video)


def test_real_video_pass():
    if not BONN_JSON.is_file():
        pytest.skip("bonn_posetrack data not available")
    from vatl.data.formats.posetrack21 import read_posetrack21

    video = read_posetrack21(BONN_JSON)
    model = build_model("cpu_small", video.keypoint_set, seed=0)
    rec = Recorder()
    result = estimate(model, video, [rec], batch_size=64)
    assert result.keypoints.shape == (164, 17, 3) and len(rec.batches) == 3
    np.testing.assert_array_equal(np.concatenate([b.indices for b in rec.batches]), video.temporal_order())
    # every decoded keypoint lies inside its sample's 1.25× crop region
    boxes = video.boxes
    cx, cy = boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2
    half = np.maximum(boxes[:, 3], boxes[:, 2] / 0.75) * 1.25 / 2
    assert (np.abs(result.keypoints[..., 1] - cy[:, None]) <= half[:, None] + 1).all()
    assert (np.abs(result.keypoints[..., 0] - cx[:, None]) <= half[:, None] + 1).all()
