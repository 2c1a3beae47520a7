import numpy as np
import pytest
import torch

from vatl.estimator.checkpoint import adapt_keypoint_set, load_checkpoint, save_checkpoint
from vatl.estimator.models import build_model
from vatl.skeletons import COCO17, POSETRACK21


def _bn(prefix: str, ch: int, gen: torch.Generator) -> dict:
    return {f"{prefix}.weight": torch.rand(ch, generator=gen) + 0.5, f"{prefix}.bias": torch.randn(ch, generator=gen),
            f"{prefix}.running_mean": torch.randn(ch, generator=gen) * 0.1,
            f"{prefix}.running_var": torch.rand(ch, generator=gen) + 0.5}


def published_resnet18_state_dict(k: int = 17, seed: int = 0) -> dict:
    """The tensor names and shapes of the public SimpleBaseline ResNet-18 (pose_resnet) checkpoint,
    written out from the architecture (not from our model)."""
    gen = torch.Generator().manual_seed(seed)
    conv = lambda *shape: torch.randn(*shape, generator=gen) * 0.05  # noqa: E731
    sd = {"conv1.weight": conv(64, 3, 7, 7), **_bn("bn1", 64, gen)}
    in_ch = 64
    for stage, ch in enumerate((64, 128, 256, 512), start=1):
        for block in range(2):
            p = f"layer{stage}.{block}"
            stride_in = in_ch if block == 0 else ch
            sd[f"{p}.conv1.weight"] = conv(ch, stride_in, 3, 3)
            sd.update(_bn(f"{p}.bn1", ch, gen))
            sd[f"{p}.conv2.weight"] = conv(ch, ch, 3, 3)
            sd.update(_bn(f"{p}.bn2", ch, gen))
            if block == 0 and stage > 1:
                sd[f"{p}.downsample.0.weight"] = conv(ch, in_ch, 1, 1)
                sd.update(_bn(f"{p}.downsample.1", ch, gen))
        in_ch = ch
    for i, c_in in zip((0, 3, 6), (512, 256, 256)):
        sd[f"deconv_layers.{i}.weight"] = conv(c_in, 256, 4, 4)  # ConvTranspose2d: (in, out, kh, kw), no bias
        sd.update(_bn(f"deconv_layers.{i + 1}", 256, gen))
    sd["final_layer.weight"] = conv(k, 256, 1, 1)
    sd["final_layer.bias"] = conv(k)
    return sd


def _outputs(model, seed: int = 0):
    x = torch.randn(2, 3, model.input_size[1], model.input_size[0], generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return model.eval()(x)


def test_save_load_gives_identical_outputs(tmp_path):
    model = build_model("cpu_small", POSETRACK21, seed=0)
    # make BN statistics non-trivial
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, 128, 96))
    record = {"command": "vatl pretrain --seed 0", "seed": 0}
    path = save_checkpoint(tmp_path / "m.pt", model, record)
    loaded = load_checkpoint(path)
    assert loaded.config == model.config and loaded.keypoint_set == POSETRACK21
    assert loaded.record == record and not loaded.training
    for a, b in zip(_outputs(model), _outputs(loaded)):
        assert torch.equal(a, b)


def test_half_precision_checkpoint_is_smaller_and_close(tmp_path):
    model = build_model("cpu_small", POSETRACK21, seed=0)
    full = save_checkpoint(tmp_path / "f.pt", model)
    half = save_checkpoint(tmp_path / "h.pt", model, half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = load_checkpoint(half)
    assert loaded.final_layer.weight.dtype == torch.float32
    torch.testing.assert_close(_outputs(loaded)[0], _outputs(model)[0], atol=1e-4, rtol=1e-2)


@pytest.mark.parametrize("layout", ["simplebaseline", "dataparallel", "mmpose", "mmpose1"])
def test_published_layouts_load_into_our_model(tmp_path, layout):
    sd = published_resnet18_state_dict()
    if layout == "dataparallel":
        sd = {f"module.{k}": v for k, v in sd.items()}
    elif layout == "mmpose":
        head = ("deconv_layers", "final_layer")
        sd = {"state_dict": {(f"keypoint_head.{k}" if k.startswith(head) else f"backbone.{k}"): v
                             for k, v in sd.items()}, "meta": {"epoch": 210}}
    elif layout == "mmpose1":
        head = ("deconv_layers", "final_layer")
        sd = {"state_dict": {(f"head.{k}" if k.startswith(head) else f"backbone.{k}"): v for k, v in sd.items()}}
    torch.save(sd, tmp_path / "pub.pth")
    model = load_checkpoint(tmp_path / "pub.pth")
    assert model.config.block == "basic" and model.config.layers == (2, 2, 2, 2)
    assert model.config.deconv_channels == (256, 256, 256) and model.input_size == (192, 256)
    assert model.keypoint_set == COCO17
    ref = published_resnet18_state_dict()
    assert torch.equal(model.backbone.layer3[0].downsample[0].weight, ref["layer3.0.downsample.0.weight"])
    assert torch.equal(model.deconv_layers[4].running_var, ref["deconv_layers.4.running_var"])
    assert torch.equal(model.final_layer.bias, ref["final_layer.bias"])
    if layout == "simplebaseline":  # one forward is enough (ResNet-18 at 256×192 costs a second here)
        heatmaps, features = _outputs(model)
        assert heatmaps.shape == (2, 17, 64, 48) and features.shape == (2, 512)


def test_wrong_shapes_and_foreign_files_are_named(tmp_path):
    sd = published_resnet18_state_dict()
    sd["layer2.0.conv1.weight"] = torch.zeros(128, 64, 5, 5)
    torch.save(sd, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match=r"bad\.pth.*backbone\.layer2\.0\.conv1\.weight"):
        load_checkpoint(tmp_path / "bad.pth")
    torch.save({"fc.weight": torch.zeros(3, 3)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not a supported top-down ResNet"):
        load_checkpoint(tmp_path / "other.pth")
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_checkpoint(tmp_path / "nope.pt")


def test_adapt_keypoint_set_keeps_shared_slot_weights():
    model = build_model("cpu_small", COCO17, seed=0)
    old_w = model.final_layer.weight.detach().clone()
    adapt_keypoint_set(model, POSETRACK21)
    assert model.keypoint_set == POSETRACK21 and model.final_layer.out_channels == 17
    # nose 0 -> 0, left_ankle 15 -> 15; PoseTrack's head_bottom (1) has no COCO slot: new weights
    assert torch.equal(model.final_layer.weight[0], old_w[0]) and torch.equal(model.final_layer.weight[15], old_w[15])
    assert not torch.equal(model.final_layer.weight[1], old_w[1])
    assert np.isfinite(_outputs(model)[0].numpy()).all()


def test_embedded_default_checkpoint_loads_with_its_recipe():
    from vatl.estimator.checkpoint import default_checkpoint_path

    path = default_checkpoint_path()
    assert path.stat().st_size < 5e6
    model = load_checkpoint(path)
    assert model.config.name == "cpu_small" and model.keypoint_set == POSETRACK21
    assert model.record["command"].startswith("vatl pretrain") and "--seed" in model.record["command"]
    assert model.record["seed"] == 0 and len(model.record["history"]) == model.record["epochs"]
