"""The contract every registered estimator backend must meet (one template, parametrised over the registry).

Each backend's example model comes from backend_examples.EXAMPLES; a registered backend without one fails
here with a message saying where to add it.
"""

import json

import numpy as np
import pytest
import torch
from backend_examples import EXAMPLES

from vatl.estimator.backends import backend_names
from vatl.estimator.checkpoint import load_checkpoint, save_checkpoint
from vatl.estimator.contract import PARAMETER_GROUPS, PoseEstimator
from vatl.estimator.crops import apply_affine, box_to_center_size, crop_affine, invert_affine
from vatl.estimator.heatmaps import decode_heatmaps, gaussian_targets, rescale_points
from vatl.estimator.train import Finetuner, TrainConfig, finetune_config
from vatl.skeletons import KeypointSet

BACKENDS = backend_names()


def example(name: str) -> PoseEstimator:
    if name not in EXAMPLES:
        pytest.fail(f"estimator backend {name!r} has no test example: add a factory for it to EXAMPLES in "
                    "tests/estimator/backend_examples.py")
    torch.manual_seed(0)
    return EXAMPLES[name]().eval()


def random_crops(model: PoseEstimator, n: int, seed: int = 0) -> np.ndarray:
    """(n, H, W, 3) uint8 network input crops."""
    w, h = model.input_size
    return np.random.default_rng(seed).integers(0, 256, size=(n, h, w, 3), dtype=np.uint8)


def heatmap_points(model: PoseEstimator, n: int, seed: int = 0) -> np.ndarray:
    """(n, K, 2) points inside the heatmap, one pixel away from its border."""
    w, h = model.heatmap_size
    return np.random.default_rng(seed).uniform([1.0, 1.0], [w - 2.0, h - 2.0], size=(n, model.num_keypoints, 2))


def perturb(model: torch.nn.Module, seed: int = 0, scale: float = 0.05) -> None:
    """Move every parameter off its initial value (as training would), deterministically."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * scale)


def test_every_example_is_a_registered_backend():
    assert set(EXAMPLES) <= set(BACKENDS), f"examples of unregistered backends: {set(EXAMPLES) - set(BACKENDS)}"


@pytest.mark.parametrize("name", BACKENDS)
def test_satisfies_the_contract(name):
    model = example(name)
    assert isinstance(model, torch.nn.Module) and isinstance(model, PoseEstimator)
    assert model.model_type == name
    assert isinstance(model.keypoint_set, KeypointSet)
    assert model.num_keypoints == len(model.keypoint_set.keypoints) > 0
    for size in (model.input_size, model.heatmap_size):
        assert isinstance(size, tuple) and len(size) == 2 and all(type(v) is int and v > 0 for v in size)
    assert type(model.feature_dim) is int and model.feature_dim > 0
    assert isinstance(model.device, torch.device)
    config = model.config.to_dict()
    assert isinstance(config, dict) and json.loads(json.dumps(config)) == config  # plain data
    assert isinstance(model.record, dict)
    own = getattr(model, "finetune_config", None)
    assert own is None or isinstance(own, TrainConfig)


@pytest.mark.parametrize("name", BACKENDS)
def test_forward_of_prepared_crops_gives_heatmaps_and_features(name):
    model = example(name)
    crops = random_crops(model, 3)
    x = model.prepare(crops)
    w, h = model.input_size
    assert x.shape == (3, 3, h, w) and x.dtype == torch.float32 and x.device == model.device
    assert torch.equal(model.prepare(torch.from_numpy(crops)), x)
    with torch.no_grad():
        heatmaps, features = model(x)
        single_heatmaps, single_features = model(x[1:2])
    hw, hh = model.heatmap_size
    assert heatmaps.shape == (3, model.num_keypoints, hh, hw) and heatmaps.dtype == torch.float32
    assert features.shape == (3, model.feature_dim) and features.dtype == torch.float32
    assert torch.isfinite(heatmaps).all() and torch.isfinite(features).all()
    # in eval mode a sample's outputs do not depend on the rest of its batch
    torch.testing.assert_close(single_heatmaps, heatmaps[1:2], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(single_features, features[1:2], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", BACKENDS)
def test_gaussian_targets_decode_back_through_the_crop_affines(name):
    model = example(name)
    k = model.num_keypoints
    points = heatmap_points(model, 2)
    targets, weights = gaussian_targets(points, np.ones((2, k), bool), model.heatmap_size)
    assert targets.shape == (2, k, model.heatmap_size[1], model.heatmap_size[0]) and weights.all()
    decoded, _ = decode_heatmaps(targets)
    assert np.abs(decoded - points).max() <= 0.5

    # image points -> heatmap (the crop region of a person box) -> decoded -> image points
    boxes = np.array([[40.0, 30.0, 60.0, 120.0], [100.0, 50.0, 90.0, 40.0]])  # xywh: tall and wide
    centers, sizes = box_to_center_size(boxes, model.input_size[0] / model.input_size[1])
    to_heatmap = crop_affine(centers, sizes, model.heatmap_size)
    image_points = boxes[:, None, :2] + np.random.default_rng(1).uniform(0.1, 0.9, (2, k, 2)) * boxes[:, None, 2:]
    on_heatmap = apply_affine(to_heatmap, image_points)
    # the heatmap covers the region of the network input
    on_input = apply_affine(crop_affine(centers, sizes, model.input_size), image_points)
    np.testing.assert_allclose(rescale_points(on_input, model.input_size, model.heatmap_size), on_heatmap, atol=1e-9)
    targets, weights = gaussian_targets(on_heatmap, np.ones((2, k), bool), model.heatmap_size)
    assert weights.all()
    back = apply_affine(invert_affine(to_heatmap), decode_heatmaps(targets)[0])
    image_px_per_heatmap_px = sizes / np.asarray(model.heatmap_size, dtype=np.float64)  # (2, 2)
    assert (np.abs(back - image_points) <= 0.5 * image_px_per_heatmap_px[:, None, :] + 1e-9).all()


@pytest.mark.parametrize("name", BACKENDS)
def test_parameter_groups_partition_the_trainable_parameters(name):
    model = example(name)
    groups = model.parameter_groups()
    assert sorted(groups) == sorted(PARAMETER_GROUPS)
    ids = {g: [id(p) for p in params] for g, params in groups.items()}
    assert all(isinstance(p, torch.nn.Parameter) for params in groups.values() for p in params)
    flat = [i for g in PARAMETER_GROUPS for i in ids[g]]
    assert len(flat) == len(set(flat)), "a parameter is in two groups (or twice in one)"
    assert set(flat) == {id(p) for p in model.parameters() if p.requires_grad}
    assert groups["final"], "the final (keypoint) layer has no parameters"
    # `final` makes the heatmaps from what the features are pooled from: moving it changes heatmaps only
    x = model.prepare(random_crops(model, 2))
    with torch.no_grad():
        heatmaps, features = model(x)
        for p in groups["final"]:
            p.add_(0.5)
        moved_heatmaps, moved_features = model(x)
    assert torch.equal(moved_features, features) and not torch.allclose(moved_heatmaps, heatmaps)


@pytest.mark.parametrize("name", BACKENDS)
def test_finetuning_steps_lower_the_loss_on_a_fixed_batch(name):
    model = example(name)
    tuner = Finetuner(model, finetune_config(model))  # the backend's own fine-tuning settings
    n = 4
    images = random_crops(model, n, seed=1)
    targets, weights = gaussian_targets(heatmap_points(model, n, seed=2), np.ones((n, model.num_keypoints), bool),
                                        model.heatmap_size)
    losses = [tuner.step(images, targets, weights) for _ in range(4)]  # each: the loss before its update
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0], f"loss did not decrease over 3 updates: {losses}"


@pytest.mark.parametrize("name", BACKENDS)
def test_checkpoint_round_trip_gives_the_same_model(name, tmp_path):
    model = example(name)
    perturb(model)
    crops = random_crops(model, 4, seed=3)
    model.train()
    with torch.no_grad():  # non-trivial normalisation statistics, where the backend has any
        model(model.prepare(crops))
    model.eval()
    model.record = {"note": "template test", "seed": 0, "history": [{"epoch": 1, "loss": 0.5}]}
    path = save_checkpoint(tmp_path / f"{name}.pt", model)
    assert torch.load(path, map_location="cpu", weights_only=True)["model_type"] == name
    loaded = load_checkpoint(path)
    assert type(loaded) is type(model) and not loaded.training
    assert loaded.keypoint_set == model.keypoint_set and loaded.config.to_dict() == model.config.to_dict()
    assert loaded.record == model.record
    x = model.prepare(crops)
    with torch.no_grad():
        for a, b in zip(model(x), loaded(x)):
            assert torch.equal(a, b)


def _transfer_target(model: PoseEstimator) -> KeypointSet:
    """The model's slots in reverse order, respelled (``left_hand`` -> ``Hand_L``), plus one new slot."""
    def respell(name: str) -> str:
        for side, letter in (("left_", "L"), ("right_", "R")):
            if name.startswith(side):
                return f"{name[len(side):].capitalize()}_{letter}"
        return name.upper()

    names = [respell(n) for n in reversed(model.keypoint_set.keypoints)] + ["extra_point"]
    return KeypointSet("transfer_target", tuple(names), (0.05,) * len(names), skeleton=((0, len(names) - 1),))


@pytest.mark.parametrize("name", BACKENDS)
def test_transfer_hook_gives_a_model_for_another_keypoint_set(name, tmp_path):
    """``with_keypoint_set`` (the transfer hook): directly mapped slots predict what the source slots did, the
    features do not change, the new model meets the contract and survives a checkpoint."""
    from vatl.estimator.transfer import transfer_model

    model = example(name)
    if not callable(getattr(model, "with_keypoint_set", None)):
        pytest.fail(f"estimator backend {name!r} has no with_keypoint_set(keypoint_set, mapping) hook: see "
                    "vatl/estimator/contract.py (most backends replace their last 1x1 convolution with "
                    "vatl.estimator.transfer.new_output_layer)")
    perturb(model)
    model.eval()
    k = model.num_keypoints
    x = model.prepare(random_crops(model, 2, seed=4))
    with torch.no_grad():
        heatmaps, features = model(x)
    target = _transfer_target(model)
    new, plan = transfer_model(model, target)
    assert plan.how[:k] == ("name",) * k and plan.how[k] == "neighbours" and plan.sources[k] == (k - 1,)
    assert isinstance(new, PoseEstimator) and new.model_type == name and not new.training
    assert new.keypoint_set == target and new.num_keypoints == k + 1
    with torch.no_grad():
        new_heatmaps, new_features = new(new.prepare(random_crops(new, 2, seed=4)))
    assert new_heatmaps.shape[1] == k + 1 and torch.equal(new_features, features)
    torch.testing.assert_close(new_heatmaps[:, :k], heatmaps.flip(1), rtol=1e-5, atol=1e-6)
    # the new slot starts from its skeleton neighbour (target slot 0 = the model's last slot)
    torch.testing.assert_close(new_heatmaps[:, k], heatmaps[:, k - 1], rtol=1e-5, atol=1e-6)
    groups = new.parameter_groups()
    assert {id(p) for g in groups.values() for p in g} == {id(p) for p in new.parameters() if p.requires_grad}
    path = save_checkpoint(tmp_path / f"{name}_transferred.pt", new)
    loaded = load_checkpoint(path)
    assert loaded.keypoint_set == target and loaded.record["transfer"]["target"] == "transfer_target"
    with torch.no_grad():
        assert torch.equal(loaded(x)[0], new(x)[0])
