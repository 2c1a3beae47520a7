import gc
import tracemalloc

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from estimator_testdata import BONN_JSON, COLOURS, TINY_SET, tiny_video

from vatl.criteria.temporal import THCConsumer
from vatl.data.video import Frame, Video
from vatl.estimator.crops import apply_affine, box_to_center_size, crop_affine, invert_affine, warp_crops
from vatl.estimator.dataset import CropCache
from vatl.estimator.estimate import estimate
from vatl.estimator.heatmaps import decode_heatmaps
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


def shuffled_video(tmp_path, num_frames=5, num_tracks=2, seed=0) -> Video:
    """The tiny video with its samples listed in a random order (sample order != frame order)."""
    video = tiny_video(tmp_path, num_frames=num_frames, num_tracks=num_tracks)
    return video.subset(np.random.default_rng(seed).permutation(video.num_samples))


def reference_crop(video: Video, i: int, size) -> np.ndarray:
    """Sample i's network input (1, H, W, 3) for an input of ``size`` (W, H), cut on its own from its frame."""
    centers, sizes = box_to_center_size(video.boxes[i:i + 1], size[0] / size[1])
    return warp_crops(video.frames[video.frame_index[i]].load(), crop_affine(centers, sizes, size), size)


def reference_forward(model: PoseModel, video: Video, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample i alone through the model: keypoints (K, 3) in image pixels and features (D,)."""
    with torch.no_grad():
        heat, feat = model.eval()(model.prepare(reference_crop(video, i, model.input_size)))
    coords, maxvals = decode_heatmaps(heat.numpy())
    centers, sizes = box_to_center_size(video.boxes[i:i + 1], model.input_size[0] / model.input_size[1])
    xy = apply_affine(invert_affine(crop_affine(centers, sizes, model.heatmap_size)), coords)
    return np.concatenate([xy, maxvals[..., None]], axis=2)[0], feat[0].numpy()


def test_pass_streams_every_sample_once_in_frame_order(tmp_path):
    video = shuffled_video(tmp_path)
    model = build_model("cpu_small", TINY_SET, seed=0)
    rec = Recorder()
    assert isinstance(rec, PassConsumer)
    result = estimate(model, video, consumers=[rec], batch_size=3)
    order = np.concatenate([b.indices for b in rec.batches])
    np.testing.assert_array_equal(np.sort(order), np.arange(video.num_samples))
    np.testing.assert_array_equal(np.diff(video.frame_index[order]) >= 0, True)  # frames never go back
    np.testing.assert_array_equal(order, np.argsort(video.frame_index, kind="stable"))
    assert [len(b.indices) for b in rec.batches] == [3, 3, 3, 1]  # full batches spanning frames
    b = rec.batches[0]
    assert b.heatmaps.shape == (3, 3, 32, 24) and b.heatmaps.dtype == np.float32
    assert b.keypoints.shape == (3, 3, 3) and b.features.shape == (3, 128)
    assert b.features.dtype == np.float32
    for b in rec.batches:
        np.testing.assert_array_equal(result.keypoints[b.indices], b.keypoints)
        np.testing.assert_array_equal(result.features[b.indices], b.features)
    np.testing.assert_allclose(b.keypoints[..., 2], b.heatmaps.reshape(len(b.indices), 3, -1).max(axis=2))


def test_streamed_pass_equals_a_per_sample_reference_forward(tmp_path):
    video = shuffled_video(tmp_path, num_frames=4, num_tracks=3, seed=1)
    model = build_model("cpu_small", TINY_SET, seed=2)
    result = estimate(model, video, batch_size=5)
    for i in range(video.num_samples):
        keypoints, features = reference_forward(model, video, i)
        np.testing.assert_allclose(result.keypoints[i], keypoints, atol=1e-4)
        np.testing.assert_allclose(result.features[i], features, atol=1e-5)


def test_input_crops_are_those_of_the_context_cache_up_to_rounding(tmp_path):
    # the pass used to slice its inputs out of context crops; cutting them directly samples the same points
    video = shuffled_video(tmp_path, num_frames=3, num_tracks=2)
    cache = CropCache.build(video, (96, 128))
    for i in range(video.num_samples):
        diff = np.abs(cache.input_crops([i]).astype(int) - reference_crop(video, i, (96, 128)))
        assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


def test_each_frame_is_decoded_once_per_pass(tmp_path, monkeypatch):
    video = shuffled_video(tmp_path, num_frames=5, num_tracks=3)
    video.frames.append(Frame(path=tmp_path / "no_samples_here.png", image_id=99))  # never needed: never read
    loads = []
    original = Frame.load

    def counting_load(frame):
        loads.append(frame.image_id)
        return original(frame)

    monkeypatch.setattr(Frame, "load", counting_load)
    model = build_model("cpu_small", TINY_SET, seed=0)
    for batch_size in (2, 4, 64):  # batches that split frames, span frames, or hold the whole video
        loads.clear()
        estimate(model, video, batch_size=batch_size)
        assert loads == [0, 1, 2, 3, 4]


def test_thc_fed_by_the_pass_holds_one_heatmap_per_track_and_matches_a_single_batch(tmp_path):
    video = shuffled_video(tmp_path, num_frames=6, num_tracks=2, seed=3)
    model = ColourPeakModel(ModelConfig(), TINY_SET)  # heatmaps follow the drawn joints from frame to frame
    rec, thc = Recorder(), THCConsumer(video)
    estimate(model, video, [rec, thc], batch_size=4)
    # in frame order only the previous frame's heatmaps wait for their next neighbour
    assert 0 < thc.max_pending <= video.num_tracks and not thc.pending
    whole = PassBatch(indices=np.concatenate([b.indices for b in rec.batches]),
                      heatmaps=np.concatenate([b.heatmaps for b in rec.batches]),
                      keypoints=np.concatenate([b.keypoints for b in rec.batches]),
                      features=np.concatenate([b.features for b in rec.batches]))
    reference = THCConsumer(video)
    reference.consume(whole)
    np.testing.assert_allclose(thc.scores(), reference.scores(), rtol=1e-6)
    assert (thc.scores() > 0).all()


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
    x = model.prepare(np.concatenate([reference_crop(video, i, model.input_size) for i in idx]))
    with torch.no_grad():
        hf, _ = model.eval()(torch.flip(x, dims=[3]))
    # slot 1 (left hand) takes the mirrored slot 2 (right hand) of the mirrored crop, and vice versa
    back = torch.flip(hf[:, [0, 2, 1]], dims=[3]).numpy()
    np.testing.assert_allclose(flipped.batches[0].heatmaps, (plain.batches[0].heatmaps + back) / 2, atol=1e-5)


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


def test_missing_frame_image_names_the_video(tmp_path):
    video = tiny_video(tmp_path, num_frames=2, num_tracks=1)
    video.frames[1].path.unlink()
    with pytest.raises(FileNotFoundError, match=r"video 'tiny': cannot read image .*0001\.png.*frame images"):
        estimate(build_model("cpu_small", TINY_SET), video)


def reused_frames_video(folder, num_samples: int, per_frame: int = 5, files: int = 3) -> Video:
    """num_samples samples, ``per_frame`` boxes on each frame; the frames cycle over a few 160×120 images."""
    paths = []
    for j in range(files):
        paths.append(folder / f"img{j}.png")
        cv2.imwrite(str(paths[-1]), np.random.default_rng(j).integers(0, 256, (120, 160, 3), dtype=np.uint8))
    num_frames = -(-num_samples // per_frame)
    frames = [Frame(path=paths[f % files], image_id=f, width=160, height=120) for f in range(num_frames)]
    frame_index = np.arange(num_samples) // per_frame
    slot = np.arange(num_samples) % per_frame
    boxes = np.stack([5.0 + 25 * slot, 10.0 + frame_index % 7, np.full(num_samples, 30.0),
                      np.full(num_samples, 60.0)], axis=1)
    return Video(name="reused", keypoint_set=TINY_SET, frames=frames, frame_index=frame_index, track_id=slot,
                 boxes=boxes, keypoints=np.zeros((num_samples, 3, 3)), annotation_ids=np.arange(num_samples))


def traced_peak_of_pass(model: PoseModel, video: Video, batch_size: int) -> int:
    """Peak bytes traced by tracemalloc (numpy's buffers included) during one pass, above the start."""
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        estimate(model, video, batch_size=batch_size)
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def test_pass_memory_is_bounded_by_the_batch_not_the_video(tmp_path):
    model = build_model("cpu_small", TINY_SET, seed=0)
    small, large = reused_frames_video(tmp_path, 50), reused_frames_video(tmp_path, 400)
    estimate(model, small, batch_size=16)  # warm-up: lazy imports and caches are not the pass's memory
    peak_small = traced_peak_of_pass(model, small, 16)
    peak_large = traced_peak_of_pass(model, large, 16)
    # the results (keypoints + features, ~0.6 KB per sample) grow with N; the crops must not (a whole-video
    # crop cache would take 400 x 83 KB ≈ 33 MB against 4 MB at N = 50)
    assert peak_large < 1.5 * peak_small, (peak_small, peak_large)
    input_crop_bytes = 128 * 96 * 3
    assert peak_large < 0.25 * 400 * input_crop_bytes, peak_large


def test_real_video_pass():
    if not BONN_JSON.is_file():
        pytest.skip("bonn_posetrack data not available")
    from vatl.data.formats.posetrack21 import read_posetrack21

    video = read_posetrack21(BONN_JSON)
    model = build_model("cpu_small", video.keypoint_set, seed=0)
    rec = Recorder()
    result = estimate(model, video, [rec], batch_size=64)
    assert result.keypoints.shape == (164, 17, 3) and [len(b.indices) for b in rec.batches] == [64, 64, 36]
    order = np.concatenate([b.indices for b in rec.batches])
    np.testing.assert_array_equal(order, np.argsort(video.frame_index, kind="stable"))
    # every decoded keypoint lies inside its sample's 1.25× crop region
    boxes = video.boxes
    cx, cy = boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2
    half = np.maximum(boxes[:, 3], boxes[:, 2] / 0.75) * 1.25 / 2
    assert (np.abs(result.keypoints[..., 1] - cy[:, None]) <= half[:, None] + 1).all()
    assert (np.abs(result.keypoints[..., 0] - cx[:, None]) <= half[:, None] + 1).all()
