"""BlazePose as a vatl pose model, on a tiny graph with BlazePose's output layout (39 heatmap channels
from a 1×1 convolution of a decoder tensor); one test uses the real cached model when present."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from bp_testgraphs import GraphBuilder

from vatl.data.formats import load_video
from vatl.estimator.blazepose.convert import SUPPORTED_OPS, convert
from vatl.estimator.blazepose.fetch import cached_model_path
from vatl.estimator.blazepose.model import (
    HEATMAP_TENSOR,
    LANDMARKS_TENSOR,
    NUM_CHANNELS,
    build_from_graph,
    channel_mapping,
)
from vatl.estimator.blazepose.tflite_reader import read_tflite
from vatl.estimator.checkpoint import load_checkpoint, save_checkpoint
from vatl.estimator.dataset import CropCache
from vatl.estimator.heatmaps import decode_heatmaps
from vatl.estimator.train import Finetuner
from vatl.skeletons import POSETRACK21


def tiny_blazepose(seed=0):
    """(1,16,16,3) -> conv/2 (8×8×4) -> conv/2 (4×4×8, the deepest) -> 1×1 (4) -> resize ×2 + skip ->
    decoder (8×8×4) -> 1×1 conv -> Identity_3 (8×8×39)."""
    rng = np.random.default_rng(seed)
    g = GraphBuilder()
    x = g.tensor((1, 16, 16, 3), "input_1")
    conv = dict(padding="SAME", dilation=(1, 1))
    a = g.op("CONV_2D", [x, g.const(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), fp16=True),
                         g.const(rng.normal(size=4).astype(np.float32))], (1, 8, 8, 4),
             stride=(2, 2), activation="RELU6", **conv)
    deep = g.op("CONV_2D", [a, g.const(rng.normal(size=(8, 3, 3, 4)).astype(np.float32)),
                            g.const(np.zeros(8, np.float32))], (1, 4, 4, 8), stride=(2, 2), activation="RELU6", **conv)
    r = g.op("CONV_2D", [deep, g.const(rng.normal(size=(4, 1, 1, 8)).astype(np.float32)), -1], (1, 4, 4, 4),
             stride=(1, 1), activation="NONE", **conv)
    up = g.op("RESIZE_BILINEAR", [r, g.const(np.array([8, 8], np.int32))], (1, 8, 8, 4),
              align_corners=False, half_pixel_centers=True)
    dec = g.op("ADD", [up, a], (1, 8, 8, 4), activation="NONE")
    w = rng.normal(size=(NUM_CHANNELS, 1, 1, 4)).astype(np.float32)
    b = rng.normal(size=NUM_CHANNELS).astype(np.float32)
    hm = g.op("CONV_2D", [dec, g.const(w), g.const(b)], (1, 8, 8, NUM_CHANNELS), HEATMAP_TENSOR,
              stride=(1, 1), activation="NONE", **conv)
    return g.graph([x], [hm]), w.reshape(NUM_CHANNELS, 4), b


def test_posetrack_mapping_copies_direct_joints_and_derives_head_slots():
    m = channel_mapping(POSETRACK21)
    names = POSETRACK21.keypoints
    assert m[names.index("nose")] == [[0]]
    assert m[names.index("left_shoulder")] == [[11]] and m[names.index("right_ankle")] == [[28]]
    assert m[names.index("left_ear")] == [[7]]
    assert m[names.index("head_bottom")] == [[0], [11], [12]]
    assert m[names.index("head_top")] == [[1, 2, 3, 4, 5, 6, 7, 8], [34]]


def test_transfer_head_initialisation_and_outputs():
    graph, w, b = tiny_blazepose()
    model = build_from_graph(graph, POSETRACK21)
    assert model.input_size == (16, 16) and model.heatmap_size == (8, 8) and model.feature_dim == 8
    fw = model.final_layer.weight.detach().numpy()[:, :, 0, 0]
    fb = model.final_layer.bias.detach().numpy()
    names = POSETRACK21.keypoints
    ls, hb, ht = names.index("left_shoulder"), names.index("head_bottom"), names.index("head_top")
    np.testing.assert_allclose(fw[ls], w[11], rtol=1e-6)
    np.testing.assert_allclose(fw[hb], (w[0] + w[11] + w[12]) / 3, rtol=1e-5)
    np.testing.assert_allclose(fw[ht], (w[1:9].mean(0) + w[34]) / 2, rtol=1e-5)
    np.testing.assert_allclose(fb[ht], (b[1:9].mean() + b[34]) / 2, rtol=1e-5)
    # mapped slots reproduce sigmoid(BlazePose's own heatmap channel); features are the pooled deep tensor
    crops = np.random.default_rng(0).integers(0, 256, size=(2, 16, 16, 3), dtype=np.uint8)
    x = model.prepare(crops)
    assert float(x.max()) <= 1.0 and x.shape == (2, 3, 16, 16)
    heatmaps, features = model(x)
    reference = convert(graph, {"hm": HEATMAP_TENSOR})(x)["hm"]
    assert heatmaps.shape == (2, 17, 8, 8) and features.shape == (2, 8)
    torch.testing.assert_close(heatmaps[:, ls], torch.sigmoid(reference[:, 11]), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(heatmaps[:, names.index("right_knee")], torch.sigmoid(reference[:, 26]),
                               rtol=1e-5, atol=1e-6)


def test_parameter_groups_partition_the_parameters():
    model = build_from_graph(tiny_blazepose()[0], POSETRACK21)
    groups = model.parameter_groups()
    ids = {k: {id(p) for p in v} for k, v in groups.items()}
    assert set(groups) == {"backbone", "head", "final"}
    assert not (ids["backbone"] & ids["head"]) and not (ids["head"] & ids["final"])
    assert set().union(*ids.values()) == {id(p) for p in model.parameters()}
    # the two strided convolutions (with biases) lead to the feature tensor: the backbone
    assert sorted(tuple(p.shape) for p in groups["backbone"]) == [(4,), (4, 3, 3, 3), (8,), (8, 4, 3, 3)]
    assert [tuple(p.shape) for p in groups["final"]] == [(17, 4, 1, 1), (17,)]


def test_checkpoint_round_trip_through_the_common_loader(tmp_path):
    model = build_from_graph(tiny_blazepose()[0], POSETRACK21)
    with torch.no_grad():
        model.final_layer.bias += 0.5  # as after fine-tuning
    path = save_checkpoint(tmp_path / "bp.pt", model, training={"note": "test"})
    assert torch.load(path, weights_only=False)["model_type"] == "blazepose"
    loaded = load_checkpoint(path)
    assert type(loaded).__name__ == "BlazePoseModel" and loaded.keypoint_set == POSETRACK21
    assert loaded.record == {"note": "test"} and not loaded.training
    x = torch.rand(2, 3, 16, 16)
    model.eval()
    torch.testing.assert_close(loaded(x)[0], model(x)[0])
    torch.testing.assert_close(loaded(x)[1], model(x)[1])


def test_finetuning_steps_lower_the_loss_on_a_batch():
    model = build_from_graph(tiny_blazepose()[0], POSETRACK21)
    assert Finetuner(model).config == model.finetune_config  # the model's own small steps by default
    # the tiny random graph needs larger steps than the real one to move in 30 steps
    tuner = Finetuner(model, replace(model.finetune_config, lr=1e-3))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(4, 16, 16, 3), dtype=np.uint8)
    targets = np.zeros((4, 17, 8, 8), np.float32)
    targets[:, :, 3, 4] = 1.0
    weights = np.ones((4, 17), np.float32)
    losses = [tuner.step(images, targets, weights) for _ in range(30)]
    assert losses[-1] < 0.9 * losses[0]


BONN_JSON = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "bonn_posetrack" / "posetrack_data"
             / "val" / "060470979.json")


@pytest.mark.skipif(not cached_model_path().is_file(), reason="BlazePose model not cached (vatl blazepose fetch)")
@pytest.mark.skipif(not BONN_JSON.is_file(), reason="Bonn PoseTrack video not available")
def test_real_model_heatmaps_agree_with_its_regressed_landmarks_on_real_crops():
    graph = read_tflite(cached_model_path())
    assert {op.op for op in graph.operators} <= set(SUPPORTED_OPS)
    model = build_from_graph(graph, POSETRACK21, extra_outputs={"landmarks": LANDMARKS_TENSOR})
    assert model.input_size == (256, 256) and model.heatmap_size == (64, 64)
    video = load_video(BONN_JSON)
    idx = np.arange(0, video.num_samples, 41)[:4]  # one sample per track
    with torch.inference_mode():
        x = model.prepare(CropCache.build(video, model.input_size, idx).input_crops(np.arange(len(idx))))
        landmarks = model.graph(x)["landmarks"].numpy().reshape(len(idx), 39, 5)[:, :, :2]
        heat, _ = model(x)
    coords, _ = decode_heatmaps(heat.numpy())
    names = POSETRACK21.keypoints
    body = [names.index(n) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee",
                                     "right_knee", "left_ankle", "right_ankle")]
    src = [11, 12, 23, 24, 25, 26, 27, 28]
    # heatmap px -> input px (stride 4, pixel-centre convention): x_in = 4·x_hm + 1.5
    dist = np.linalg.norm(coords[:, body] * 4 + 1.5 - landmarks[:, src], axis=-1)
    assert np.median(dist) < 8.0  # input pixels of 256: two heatmap pixels
