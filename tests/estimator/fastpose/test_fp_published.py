"""Published FastPose state dicts (AlphaPose / VATL4Pose layout) read through vatl's checkpoint loader."""

import logging

import numpy as np
import pytest
import torch
from fastpose_testdata import RES50, SMALL_BASIC, SMALL_BOTTLENECK, alphapose_layout, random_state, reference_forward

from vatl.estimator.checkpoint import load_checkpoint, save_checkpoint
from vatl.estimator.fastpose.model import FASTPOSE_PRESETS, FastPoseModel
from vatl.estimator.fastpose.published import infer_fastpose_config, is_fastpose_layout
from vatl.skeletons import COCO17, JRDB, POSETRACK21


def write(path, state):
    torch.save(state, path)
    return path


def crops(model, n=2, seed=0):
    w, h = model.input_size
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("arch", [SMALL_BASIC, SMALL_BOTTLENECK], ids=["basic", "bottleneck"])
@pytest.mark.parametrize("wrap", ["plain", "module.", "state_dict"])
def test_an_alphapose_file_loads_name_for_name_and_computes_alphaposes_forward(tmp_path, arch, wrap):
    shapes = alphapose_layout(**arch, num_joints=17)
    state = random_state(shapes, seed=1)
    stored = {f"module.{k}": v for k, v in state.items()} if wrap == "module." else state
    if wrap == "state_dict":
        stored = {"state_dict": state, "epoch": 140}
    model = load_checkpoint(write(tmp_path / "fastpose.pth", stored), keypoint_set=JRDB, input_size=(64, 96))
    assert isinstance(model, FastPoseModel) and not model.training
    assert model.keypoint_set == JRDB and model.input_size == (64, 96) and model.heatmap_size == (16, 24)
    assert model.record["layout"] == "published AlphaPose FastPose"
    own = model.state_dict()
    assert set(own) == set(shapes)  # the same tensors (loading is by name: order does not matter)
    for name, tensor in state.items():
        assert torch.equal(own[name], tensor), name
    rgb = crops(model)
    with torch.no_grad():
        heatmaps, features = model(model.prepare(rgb))
        ref_heatmaps, ref_features = reference_forward(state, torch.from_numpy(rgb).permute(0, 3, 1, 2), **arch)
    assert heatmaps.shape == (2, 17, 24, 16) and features.shape == (2, arch["widths"][-1] * (
        4 if arch["block"] == "bottleneck" else 1))
    torch.testing.assert_close(features, ref_features, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(heatmaps, ref_heatmaps, rtol=1e-4, atol=1e-5)
    assert heatmaps.std() > 1e-3  # random weights give non-trivial heatmaps: the comparison means something


def test_the_published_res50_layout_builds_fastpose_res50_with_every_tensor_in_place(tmp_path):
    shapes = alphapose_layout(**RES50, num_joints=17)
    state = random_state(shapes, seed=2)
    model = load_checkpoint(write(tmp_path / "fastpose_256x192.pth", state), keypoint_set=JRDB)  # not run
    assert model.config == FASTPOSE_PRESETS["fastpose_res50"]
    assert model.input_size == (192, 256) and model.heatmap_size == (48, 64) and model.feature_dim == 2048
    own = model.state_dict()
    assert set(own) == set(shapes)
    assert all(torch.equal(own[k], v) for k, v in state.items())
    trainable = sum(int(np.prod(s)) for k, s in shapes.items()
                    if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
    assert sum(p.numel() for p in model.parameters()) == trainable
    groups = model.parameter_groups()
    assert {id(p) for p in groups["backbone"]} == {id(p) for p in model.preact.parameters()}
    assert [tuple(p.shape) for p in groups["final"]] == [(17, 128, 3, 3), (17,)]
    assert [tuple(p.shape) for p in groups["head"]][::3] == [(1024, 512, 3, 3), (512, 256, 3, 3)]


def test_layout_detection_by_tensor_names():
    fastpose = random_state(alphapose_layout(**SMALL_BASIC, num_joints=3))
    assert is_fastpose_layout(fastpose) and is_fastpose_layout({f"module.{k}": v for k, v in fastpose.items()})
    simplebaseline = {"conv1.weight": torch.zeros(1), "layer1.0.conv1.weight": torch.zeros(1),
                      "deconv_layers.0.weight": torch.zeros(1), "final_layer.weight": torch.zeros(1)}
    assert not is_fastpose_layout(simplebaseline)
    assert not is_fastpose_layout({"backbone.conv1.weight": torch.zeros(1), "keypoint_head.final_layer.weight": 0})


def test_keypoint_set_of_a_published_file(tmp_path, caplog):
    path = write(tmp_path / "coco.pth", random_state(alphapose_layout(**SMALL_BASIC, num_joints=17)))
    with caplog.at_level(logging.WARNING):
        assert load_checkpoint(path, input_size=(64, 96)).keypoint_set == COCO17
    assert "assuming COCO-17" in caplog.text
    assert load_checkpoint(path, keypoint_set=POSETRACK21, input_size=(64, 96)).keypoint_set == POSETRACK21
    other = write(tmp_path / "k5.pth", random_state(alphapose_layout(**SMALL_BASIC, num_joints=5)))
    with pytest.raises(ValueError, match="predicts 5 keypoints: pass the keypoint set"):
        load_checkpoint(other, input_size=(64, 96))
    with pytest.raises(ValueError, match="predicts 5 keypoints but keypoint set 'jrdb'"):
        load_checkpoint(other, keypoint_set=JRDB, input_size=(64, 96))


def broken(change):
    """A small AlphaPose-layout state dict after ``change(state)``."""
    state = random_state(alphapose_layout(**SMALL_BOTTLENECK, num_joints=17))
    change(state)
    return state


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("preact.layer3.0.se.fc.2.bias"),
     r"missing tensor 'preact\.layer3\.0\.se\.fc\.2\.bias'; .* shape \(32,\)"),
    (lambda s: [s.pop("preact.layer2.1.bn2.running_var"), s.pop("duc2.bn.bias")],
     r"missing tensor 'preact\.layer2\.1\.bn2\.running_var' \(and 1 more\)"),
    (lambda s: s.update({"duc2.conv.weight": torch.zeros(16, 7, 3, 3)}),
     r"tensor 'duc2\.conv\.weight' has shape \(16, 7, 3, 3\); .* needs \(16, 8, 3, 3\)"),
    (lambda s: s.update({"preact.layer4.0.se.fc.0.weight": torch.zeros(64, 32)}),
     r"tensor 'preact\.layer4\.0\.se\.fc\.0\.weight' has shape \(64, 32\); .* needs \(64, 64\)"),
    (lambda s: s.update({"preact.fc.weight": torch.zeros(10, 64)}), r"unexpected tensor 'preact\.fc\.weight'"),
    (lambda s: s.pop("conv_out.weight"), r"no tensor 'conv_out\.weight'"),
    (lambda s: s.pop("preact.conv1.weight"), r"no tensor 'preact\.conv1\.weight'"),
    (lambda s: s.update({"conv_out.weight": torch.zeros(17, 4, 1, 1)}), r"3×3 convolution"),
    (lambda s: s.update({"preact.layer2.0.conv2.conv_offset.weight": torch.zeros(18, 8, 3, 3)}),
     r"deformable-convolution FastPose"),
    (lambda s: s.update({"preact.layer2.0.conv1.weight": [1, 2]}), r"'preact\.layer2\.0\.conv1\.weight'"),
], ids=["missing", "two-missing", "mis-shaped-duc", "mis-shaped-se", "unexpected", "no-conv-out", "no-stem",
        "conv-out-1x1", "dcn", "not-a-tensor"])
def test_a_broken_file_names_the_first_bad_tensor(tmp_path, change, message):
    path = write(tmp_path / "broken.pth", broken(change))
    with pytest.raises(ValueError, match=message) as info:
        load_checkpoint(path, keypoint_set=COCO17, input_size=(64, 96))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_inferred_config_keeps_the_preset_name_only_for_preset_shapes():
    res50 = {k: torch.empty(s) for k, s in alphapose_layout(**RES50, num_joints=17).items()}
    assert infer_fastpose_config(res50).name == "fastpose_res50"
    small = random_state(alphapose_layout(**SMALL_BASIC, num_joints=17))
    config = infer_fastpose_config(small, (64, 96))
    assert config.name == "fastpose_custom" and config.layers == (2, 1, 1, 1) and config.widths == (8, 16, 32, 64)
    assert config.duc_channels == (32, 32) and config.stem_kernel == 3 and config.se_reduction == 1
    with pytest.raises(ValueError, match="multiples of the trunk's stride 32"):
        infer_fastpose_config(small, (60, 96), "x.pth")


def test_published_file_round_trips_through_vatls_format(tmp_path):
    state = random_state(alphapose_layout(**SMALL_BOTTLENECK, num_joints=17), seed=4)
    published = load_checkpoint(write(tmp_path / "fp.pth", {f"module.{k}": v for k, v in state.items()}),
                                keypoint_set=POSETRACK21, input_size=(64, 96))
    rgb = crops(published, 3, seed=5)
    x = published.prepare(rgb)
    with torch.no_grad():
        expected = published(x)
    for half in (False, True):
        path = save_checkpoint(tmp_path / f"vatl_{half}.pt", published, half=half)
        assert torch.load(path, weights_only=True)["model_type"] == "fastpose"
        again = load_checkpoint(path)
        assert isinstance(again, FastPoseModel) and again.config == published.config
        assert again.keypoint_set == POSETRACK21 and again.record == published.record
        with torch.no_grad():
            got = again(x)
        for a, b in zip(got, expected):
            if half:
                torch.testing.assert_close(a, b, rtol=2e-2, atol=2e-2)
            else:
                assert torch.equal(a, b)


@pytest.mark.slow
def test_vatl_run_takes_a_published_fastpose_file(tmp_path, capsys, tiny_video_path):
    """A COCO-17 AlphaPose file (``module.`` names) on a PoseTrack21 video: recognised as FastPose by its names,
    moved to the video's keypoint set, and run to the end."""
    from vatl.cli import main

    # 16+ channels: torch 2.13's CPU backward of a 1×1 stride-2 convolution from 8 to 16 channels on a 64×48
    # channels-last input (SMALL_BASIC's layer2 shortcut at the runner's default 256×192) segfaults
    arch = {**SMALL_BASIC, "widths": (16, 32, 64, 128), "stem_channels": 16}
    state = random_state(alphapose_layout(**arch, num_joints=17), seed=6)
    path = write(tmp_path / "fastpose_256x192.pth", {f"module.{k}": v for k, v in state.items()})
    args = ["run", str(tiny_video_path), "--out", str(tmp_path / "run"), "--checkpoint", str(path),
            "--criterion", "coreset", "--schedule", "50,100", "--max-epochs", "1"]
    assert main(args) == 0
    assert "finished: every sample is labeled" in capsys.readouterr().out
    assert (tmp_path / "run" / "poses_posetrack21.json").is_file()
