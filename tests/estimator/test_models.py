import numpy as np
import pytest
import torch

from vatl.estimator.models import PRESETS, ModelConfig, build_model, model_config
from vatl.skeletons import JRDB, POSETRACK21


def test_cpu_default_gives_heatmaps_and_pooled_features_from_one_forward():
    model = build_model("cpu_small", POSETRACK21, seed=0).eval()
    assert model.input_size == (96, 128) and model.heatmap_size == (24, 32)
    with torch.no_grad():
        heatmaps, features = model(torch.zeros(2, 3, 128, 96))
    assert heatmaps.shape == (2, 17, 32, 24)
    assert features.shape == (2, model.feature_dim) == (2, 128)


def test_simplebaseline_res18_is_the_published_architecture():
    model = build_model("simplebaseline_res18", JRDB, seed=0).eval()
    assert model.heatmap_size == (48, 64)
    n_params = sum(p.numel() for p in model.parameters())
    # ResNet-18 trunk without fc (11.18 M) + deconvs 512·256·16 + 2·256·256·16 + BN + 1×1 conv (JRDB: 17)
    trunk = 11_689_512 - (512 * 1000 + 1000)
    head = (512 + 256 + 256) * 256 * 16 + 3 * 2 * 256 + 256 * 17 + 17
    assert n_params == trunk + head
    with torch.no_grad():
        heatmaps, features = model(torch.zeros(1, 3, 256, 192))
    assert heatmaps.shape == (1, 17, 64, 48) and features.shape == (1, 512)


def test_resnet50_preset_is_bottleneck_with_2048_features():
    cfg = model_config("simplebaseline_res50")
    assert cfg.block == "bottleneck" and cfg.layers == (3, 4, 6, 3) and cfg.heatmap_size == (48, 64)
    model = build_model(cfg, POSETRACK21)
    assert model.feature_dim == 2048


def test_parameter_groups_partition_the_parameters():
    model = build_model("cpu_small", POSETRACK21)
    groups = model.parameter_groups()
    ids = [id(p) for g in groups.values() for p in g]
    assert len(ids) == len(set(ids)) == len(list(model.parameters()))
    assert all(id(p) in {id(q) for q in groups["final"]} for p in model.final_layer.parameters())


def test_config_round_trip_and_overrides():
    cfg = model_config("cpu_small", input_size=(64, 96))
    assert cfg.heatmap_size == (16, 24)
    model = build_model(cfg).eval()
    heatmaps, _ = model(torch.zeros(1, 3, 96, 64))
    assert tuple(heatmaps.shape[2:]) == (24, 16)  # (h, w) as the config says
    with pytest.raises(ValueError, match=r"input size \(72, 96\).*multiples of the trunk's stride 32"):
        model_config("cpu_small", input_size=(72, 96))
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown model"):
        model_config("resnet9000")
    assert set(PRESETS) >= {"cpu_small", "simplebaseline_res18", "simplebaseline_res50"}


def test_prepare_normalises_uint8_crops():
    model = build_model("cpu_small", POSETRACK21)
    crops = np.full((1, 128, 96, 3), 255, dtype=np.uint8)
    x = model.prepare(crops)
    assert x.shape == (1, 3, 128, 96)
    np.testing.assert_allclose(x[0, :, 0, 0].numpy(), (1 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225],
                               rtol=1e-5)


def test_seeded_builds_are_identical():
    a, b = build_model(seed=3), build_model(seed=3)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
