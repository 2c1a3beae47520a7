"""FastPose's network: presets, SE placement, the pooled feature, normalisation, parameter groups; the CLI path."""

import numpy as np
import pytest
import torch

from vatl.estimator.backends import build_preset, build_untrained, preset_names
from vatl.estimator.fastpose.model import (
    FASTPOSE_PRESETS,
    FastPoseConfig,
    FastPoseModel,
    build_fastpose,
    fastpose_config,
)
from vatl.estimator.train import FINETUNE_CONFIG, make_optimizer
from vatl.skeletons import JRDB, POSETRACK21


def se_blocks(model):
    return sorted(name for name, _ in model.named_modules() if name.endswith(".se"))


def test_published_preset_has_fastposes_shapes():
    model = build_fastpose("fastpose_res50", JRDB, seed=0)
    assert model.input_size == (192, 256) and model.heatmap_size == (48, 64) and model.feature_dim == 2048
    assert model.duc1.conv.weight.shape == (1024, 512, 3, 3) and model.duc2.conv.weight.shape == (512, 256, 3, 3)
    assert model.conv_out.weight.shape == (17, 128, 3, 3) and model.conv_out.bias.shape == (17,)
    # SE-ResNet-50: every stage opens with a projection shortcut and carries one SE layer there (C -> C)
    assert se_blocks(model) == [f"preact.layer{s}.0.se" for s in range(1, 5)]
    assert model.preact.layer4[0].se.fc[0].weight.shape == (2048, 2048)
    assert sum(p.numel() for p in model.parameters()) == 40_577_745  # 40.6 M, AlphaPose's FastPose-50 size


def test_resnet18_style_trunks_have_no_se_in_the_first_stage():
    for name in ("fastpose_res18", "fastpose_cpu_small"):
        model = build_fastpose(name, POSETRACK21, seed=0)
        assert se_blocks(model) == [f"preact.layer{s}.0.se" for s in (2, 3, 4)], name
    small = build_fastpose("fastpose_cpu_small", POSETRACK21, seed=0)
    assert small.input_size == (96, 128) and small.heatmap_size == (24, 32) and small.feature_dim == 128


def test_forward_gives_heatmaps_and_the_pooled_last_stage_of_the_same_pass():
    model = build_fastpose("fastpose_cpu_small", POSETRACK21, seed=0)
    with torch.no_grad():
        for p in model.parameters():  # move off the zero-initialised residual branches
            p.add_(torch.randn_like(p) * 0.05)
    model.eval()
    rgb = np.random.default_rng(0).integers(0, 256, (3, 128, 96, 3), dtype=np.uint8)
    x = model.prepare(rgb)
    calls = []
    hook = model.preact.register_forward_hook(lambda m, i, o: calls.append(o))
    with torch.no_grad():
        heatmaps, features = model(x)
    hook.remove()
    assert len(calls) == 1, "the trunk must run once per forward"
    assert heatmaps.shape == (3, 17, 32, 24) and features.shape == (3, 128)
    torch.testing.assert_close(features, calls[0].mean(dim=(2, 3)))
    assert calls[0].shape == (3, 128, 4, 3)


def test_prepare_normalises_as_alphapose():
    model = build_fastpose("fastpose_cpu_small", POSETRACK21)
    rgb = np.random.default_rng(1).integers(0, 256, (2, 128, 96, 3), dtype=np.uint8)
    x = model.prepare(rgb)
    expected = torch.from_numpy(rgb).permute(0, 3, 1, 2).float() / 255 - torch.tensor([0.406, 0.457, 0.480]).view(1, 3, 1, 1)
    torch.testing.assert_close(x, expected)
    assert x.shape == (2, 3, 128, 96) and x.dtype == torch.float32


def test_parameter_groups_are_the_published_atl_groups_with_lr_1_5_10():
    model = build_fastpose("fastpose_cpu_small", POSETRACK21, seed=0)
    groups = model.parameter_groups()
    ids = {g: {id(p) for p in ps} for g, ps in groups.items()}
    assert ids["backbone"] == {id(p) for p in model.preact.parameters()}
    assert ids["head"] == {id(p) for m in (model.suffle1, model.duc1, model.duc2) for p in m.parameters()}
    assert ids["final"] == {id(p) for p in model.conv_out.parameters()}
    lrs = {g["name"]: g["lr"] for g in make_optimizer(model, FINETUNE_CONFIG).param_groups}
    lr = FINETUNE_CONFIG.lr
    assert lrs == pytest.approx({"backbone": lr, "head": 5 * lr, "final": 10 * lr})


def test_presets_are_offered_next_to_simplebaselines_and_rebuild_from_their_config():
    names = preset_names()
    assert {"cpu_small", "simplebaseline_res50"} <= set(names) and set(FASTPOSE_PRESETS) <= set(names)
    a, b = build_preset("fastpose_cpu_small", JRDB, seed=3), build_preset("fastpose_cpu_small", JRDB, seed=3)
    assert isinstance(a, FastPoseModel) and a.keypoint_set == JRDB
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    payload = {"model_type": "fastpose", "model_config": a.config.to_dict(), "keypoint_set": JRDB.to_dict()}
    rebuilt = build_untrained(payload)
    assert isinstance(rebuilt, FastPoseModel) and rebuilt.config == a.config
    with pytest.raises(ValueError, match="unknown model 'fastpose_res7'"):
        build_preset("fastpose_res7")
    with pytest.raises(ValueError, match="do not describe a fastpose model"):
        build_untrained({**payload, "model_config": {**payload["model_config"], "depth": 50}}, "x.pt")


@pytest.mark.parametrize("overrides, message", [
    ({"input_size": (100, 128)}, "multiples of the trunk's stride 32"),
    ({"duc_channels": (130, 128)}, "multiples of 4"),
    ({"duc_channels": (128, 128, 128, 128, 128)}, "upsample more than"),
    ({"block": "dense"}, "block 'dense'"),
    ({"layers": (2, 2, 2)}, "equally long"),
    ({"se_reduction": 0}, "se_reduction 0"),
])
def test_config_refuses_networks_that_cannot_be_built(overrides, message):
    with pytest.raises(ValueError, match=message):
        fastpose_config("fastpose_cpu_small", **overrides)


def test_config_round_trips_as_plain_data():
    config = FASTPOSE_PRESETS["fastpose_res50"]
    assert FastPoseConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown fields"):
        FastPoseConfig.from_dict({**config.to_dict(), "dcn": True})


@pytest.mark.slow
def test_pretrain_and_run_commands_with_the_cpu_variant(tmp_path, capsys, tiny_video_path):
    from vatl.cli import main
    from vatl.estimator.checkpoint import load_checkpoint

    exported = tmp_path / "fastpose.pt"
    assert main(["pretrain", str(tiny_video_path), "--model", "fastpose_cpu_small", "--no-val", "--epochs", "1",
                 "--batch-size", "16", "--out", str(tmp_path / "pre"), "--export", str(exported),
                 "--export-half"]) == 0
    model = load_checkpoint(exported)
    assert isinstance(model, FastPoseModel) and model.config.name == "fastpose_cpu_small"
    assert "--model fastpose_cpu_small" in model.record["command"] and len(model.record["history"]) == 1
    capsys.readouterr()
    run = ["run", str(tiny_video_path), "--out", str(tmp_path / "run"), "--checkpoint", str(exported),
           "--criterion", "thc+wpu+duw", "--schedule", "50,100", "--max-epochs", "1"]
    assert main(run) == 0
    assert "finished: every sample is labeled" in capsys.readouterr().out
    assert (tmp_path / "run" / "poses_posetrack21.json").is_file()
