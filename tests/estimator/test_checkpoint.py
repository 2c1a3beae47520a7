import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from vatl.estimator.backends import backend_names
from vatl.estimator.checkpoint import (
    REQUIRED_FIELDS,
    adapt_keypoint_set,
    default_checkpoint_path,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from vatl.estimator.dataset import Augmentation
from vatl.estimator.models import PoseModel, build_model
from vatl.estimator.train import Finetuner
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


# --- safe loading: checkpoints are data, not code -------------------------------------------------------

class RunsCodeWhenUnpickled:
    """Unpickling this calls ``exec``, as a hostile checkpoint would; here the code only writes ``marker``."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('pickled code ran')",)


def vatl_payload(model=None) -> dict:
    """What save_checkpoint writes for a small model, built by hand."""
    model = model or build_model("cpu_small", POSETRACK21, seed=0)
    return {"format": "vatl-pose", "version": 1, "model_config": model.config.to_dict(),
            "keypoint_set": model.keypoint_set.to_dict(), "state_dict": model.state_dict(), "training": {}}


def hostile_checkpoint(path, marker):
    """An otherwise valid vatl checkpoint whose training record runs code when unpickled."""
    torch.save({**vatl_payload(), "training": {"note": RunsCodeWhenUnpickled(marker)}}, path)
    return path


def test_a_checkpoint_that_would_run_code_is_refused_without_running_it(tmp_path):
    path, marker = hostile_checkpoint(tmp_path / "evil.pt", tmp_path / "marker"), tmp_path / "marker"
    for load in (load_checkpoint, read_checkpoint):
        with pytest.raises(ValueError, match=r"evil\.pt holds objects other than tensors and plain containers"
                                             r" \(exec\); it was not loaded") as err:
            load(path)
        assert "\n" not in str(err.value)
        assert not marker.exists()
    torch.load(path, weights_only=False)  # the file is hostile indeed: an unsafe load runs its code
    assert marker.read_text() == "pickled code ran"


@pytest.mark.parametrize("kind", ["truncated", "text", "empty"])
def test_truncated_and_non_torch_files_are_named(tmp_path, kind):
    good = save_checkpoint(tmp_path / "good.pt", build_model("cpu_small", POSETRACK21, seed=0))
    path = tmp_path / f"{kind}.pt"
    if kind == "truncated":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif kind == "text":
        path.write_text("model: resnet50\nweights: somewhere else\n")
    else:
        path.write_bytes(b"")
    with pytest.raises(ValueError, match=rf"cannot read checkpoint .*{kind}\.pt: not a PyTorch checkpoint, or the "
                                         "file is truncated or corrupt") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_a_vatl_checkpoint_without_a_required_field_names_it(tmp_path, field):
    payload = vatl_payload()
    del payload[field]
    torch.save(payload, tmp_path / "partial.pt")
    with pytest.raises(ValueError, match=rf"partial\.pt: required field '{field}' is missing"):
        load_checkpoint(tmp_path / "partial.pt")


def test_unknown_model_types_name_the_known_backends(tmp_path):
    torch.save({**vatl_payload(), "model_type": "transformer9000"}, tmp_path / "future.pt")
    known = ", ".join(backend_names())
    assert "simplebaseline" in known and "blazepose" in known
    with pytest.raises(ValueError, match=rf"future\.pt has model_type 'transformer9000'.*known backends: {known}"):
        load_checkpoint(tmp_path / "future.pt")

    class Unregistered(PoseModel):
        model_type = "transformer9000"

    model = Unregistered(build_model("cpu_small").config, POSETRACK21)
    with pytest.raises(ValueError, match=f"model_type 'transformer9000'.*known backends: {known}"):
        save_checkpoint(tmp_path / "never.pt", model)  # it could not be loaded back
    assert not (tmp_path / "never.pt").exists()


def test_checkpoints_without_model_type_are_simplebaseline(tmp_path):
    torch.save(vatl_payload(), tmp_path / "old.pt")
    assert type(load_checkpoint(tmp_path / "old.pt")) is PoseModel
    assert "model_type" not in read_checkpoint(default_checkpoint_path())  # the embedded one is such a file


def test_save_makes_records_and_resume_state_plain_so_they_load_weights_only(tmp_path):
    model = build_model("cpu_small", POSETRACK21, seed=0)
    finetuner = Finetuner(model)
    rng = np.random.default_rng(5)
    record = {"torch": torch.__version__, "ap": np.float64(0.25), "epochs": np.int64(3), "ok": np.bool_(True),
              "curve": np.array([0.5, 0.75]), "size": (np.int32(96), np.int32(128)), "out": Path("runs/x"),
              "augmentation": Augmentation(), "history": [{"loss": np.float32(0.5)}]}
    path = save_checkpoint(tmp_path / "m.pt", model, record,
                           resume={"finetuner": finetuner.state_dict(), "rng": rng.bit_generator.state})
    data = torch.load(path, map_location="cpu", weights_only=True)  # no allow-list needed
    training = data["training"]
    assert training == {"torch": str(torch.__version__), "ap": 0.25, "epochs": 3, "ok": True, "curve": [0.5, 0.75],
                        "size": (96, 128), "out": "runs/x", "augmentation": dataclasses.asdict(Augmentation()),
                        "history": [{"loss": 0.5}]}
    assert type(training["torch"]) is str and type(training["ap"]) is float and type(training["epochs"]) is int
    assert type(training["ok"]) is bool and all(type(v) is int for v in training["size"])
    resumed = Finetuner(build_model("cpu_small", POSETRACK21))
    resumed.load_state_dict(data["resume"]["finetuner"])
    assert resumed.learning_rates == finetuner.learning_rates
    again = np.random.default_rng(0)
    again.bit_generator.state = data["resume"]["rng"]
    assert again.random() == rng.random()


def test_save_refuses_objects_that_would_not_load_and_writes_nothing(tmp_path):
    model = build_model("cpu_small", POSETRACK21, seed=0)
    with pytest.raises(TypeError, match=r"checkpoint\.training\.history\[0\]\.callback holds a builtins\.function"):
        save_checkpoint(tmp_path / "m.pt", model, {"history": [{"callback": lambda: None}]})
    assert list(tmp_path.iterdir()) == []


def test_save_is_atomic_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    model = build_model("cpu_small", POSETRACK21, seed=0)
    path = save_checkpoint(tmp_path / "m.pt", model, {"note": "first"})
    before = path.read_bytes()

    def interrupted_save(obj, f):
        Path(f).write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model, {"note": "second"})
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_vatl_run_with_a_hostile_checkpoint_exits_2_with_one_line(tmp_path, capsys, tiny_video_path):
    from vatl.cli import main

    marker = tmp_path / "marker"
    evil = hostile_checkpoint(tmp_path / "evil.pt", marker)
    assert main(["run", str(tiny_video_path), "--out", str(tmp_path / "r"), "--checkpoint", str(evil)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vatl run: error: checkpoint") and str(evil) in err and "not loaded" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not marker.exists()
