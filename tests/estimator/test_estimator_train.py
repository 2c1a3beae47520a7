import numpy as np
import pytest
import torch
from estimator_testdata import TINY_SET, tiny_video

from vatl.data.video import Frame
from vatl.estimator.dataset import NO_AUGMENTATION, Augmentation, CropCache, training_batch
from vatl.estimator.heatmaps import decode_heatmaps
from vatl.estimator.models import build_model
from vatl.estimator.train import Finetuner, TrainConfig, masked_mse


@pytest.fixture
def video(tmp_path):
    return tiny_video(tmp_path)


@pytest.fixture
def frame_loads(monkeypatch):
    """The image_id of every Frame.load call, in order."""
    loads = []
    original = Frame.load

    def counting_load(frame):
        loads.append(frame.image_id)
        return original(frame)

    monkeypatch.setattr(Frame, "load", counting_load)
    return loads


def test_crop_cache_of_chosen_samples_has_their_rows_in_the_given_order(video, frame_loads):
    full = CropCache.build(video, (96, 128))
    assert len(full) == video.num_samples and frame_loads == [0, 1, 2, 3]
    frame_loads.clear()
    idx = np.array([5, 0, 5, 4])  # frames 2, 0, 2, 2; a repeat is a row of its own
    part = CropCache.build(video, (96, 128), idx)
    assert frame_loads == [0, 2]  # only the chosen samples' frames, each once
    assert len(part) == 4 and part.input_size == full.input_size and part.pad == full.pad
    np.testing.assert_array_equal(part.crops, full.crops[idx])
    np.testing.assert_array_equal(part.to_context, full.to_context[idx])
    np.testing.assert_array_equal(part.centers, full.centers[idx])
    np.testing.assert_array_equal(part.input_crops([1, 3]), full.input_crops([0, 4]))
    assert len(CropCache.build(video, (96, 128), np.array([], dtype=np.int64))) == 0


def test_train_epochs_cuts_only_its_samples_and_trains_as_on_the_whole_video_cache(video, frame_loads):
    def train(use_whole_cache: bool) -> torch.Tensor:
        model = build_model("cpu_small", TINY_SET, seed=1)
        ft = Finetuner(model, TrainConfig(lr=1e-3, batch_size=2))
        idx = np.array([6, 1, 7])  # frames 3, 0, 3
        if use_whole_cache:
            ft.train_cache(CropCache.build(video, model.input_size), idx, video.keypoints[idx], 2,
                           np.random.default_rng(3))
        else:
            ft.train_epochs(video, idx, video.keypoints[idx], 2, np.random.default_rng(3))
        return model.final_layer.weight.detach().clone()

    torch.testing.assert_close(train(False), train(True), rtol=0, atol=0)
    assert frame_loads[:2] == [0, 3]  # train_epochs decoded the frames of its samples only
    ft = Finetuner(build_model("cpu_small", TINY_SET, seed=1))
    frame_loads.clear()
    assert ft.train_epochs(video, np.arange(4), video.keypoints[:4], 0, np.random.default_rng(0)) == []
    assert frame_loads == []  # nothing to train: nothing decoded


def test_masked_mse_ignores_weighted_out_joints():
    pred = torch.zeros(1, 2, 2, 2)
    target = torch.ones(1, 2, 2, 2)
    assert masked_mse(pred, target, torch.tensor([[1.0, 0.0]])).item() == pytest.approx(0.5 * 1 / 2)
    assert masked_mse(pred, target, torch.tensor([[0.0, 0.0]])).item() == 0.0


def test_unaugmented_batch_targets_peak_at_the_labels(video):
    cache = CropCache.build(video, (96, 128))
    idx = np.array([0, 3])
    images, targets, weights = training_batch(cache, idx, video.keypoints[idx], TINY_SET.flip_index, (24, 32),
                                              np.random.default_rng(0), NO_AUGMENTATION)
    assert images.shape == (2, 128, 96, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, cache.input_crops(idx))
    coords, _ = decode_heatmaps(targets)
    back = np.einsum("nij,nkj->nki", cache.image_affine(idx, (24, 32))[..., :2], coords) \
        + cache.image_affine(idx, (24, 32))[:, None, :, 2]
    scale = cache.sizes[idx, None, :] / np.array([24, 32])
    assert (np.abs(back - video.keypoints[idx, :, :2]) <= 0.25 * scale + 1e-6).all()
    np.testing.assert_array_equal(weights, 1.0)


def test_flip_augmentation_swaps_left_and_right_slots(video):
    cache = CropCache.build(video, (96, 128))
    flip_only = Augmentation(flip_prob=1.0, rotation_prob=0.0, scale_sigma=0.0)
    idx = np.array([1])
    plain = training_batch(cache, idx, video.keypoints[idx], TINY_SET.flip_index, (24, 32),
                           np.random.default_rng(0), NO_AUGMENTATION)
    flipped = training_batch(cache, idx, video.keypoints[idx], TINY_SET.flip_index, (24, 32),
                             np.random.default_rng(0), flip_only)
    np.testing.assert_array_equal(flipped[0], plain[0][:, :, ::-1])  # the image is mirrored exactly
    # slot 1 (left_hand) of the flipped sample is the mirrored right hand (slot 2) of the plain one
    np.testing.assert_allclose(flipped[1][:, 1], plain[1][:, 2, :, ::-1], atol=1e-6)
    np.testing.assert_allclose(flipped[1][:, 0], plain[1][:, 0, :, ::-1], atol=1e-6)
    # the red disc (left hand, slot 1 colour) sits under the flipped sample's slot-2 peak
    (x, y), _ = decode_heatmaps(flipped[1])[0][0, 2], None
    cx, cy = int(round((x + 0.5) * 4 - 0.5)), int(round((y + 0.5) * 4 - 0.5))
    patch = flipped[0][0, cy - 3:cy + 4, cx - 3:cx + 4].reshape(-1, 3).astype(int)
    assert (patch[:, 0] > 200).any() and (patch[:, 2] < 50).all()


def test_one_finetuning_step_lowers_the_loss_on_a_tiny_batch(video):
    torch.manual_seed(0)
    model = build_model("cpu_small", TINY_SET, seed=0)
    cache = CropCache.build(video, model.input_size)
    idx = np.arange(4)
    images, targets, weights = training_batch(cache, idx, video.keypoints[idx], TINY_SET.flip_index,
                                              model.heatmap_size, np.random.default_rng(0), NO_AUGMENTATION)
    ft = Finetuner(model, TrainConfig(augmentation=NO_AUGMENTATION))  # published lr and multipliers
    first = ft.step(images, targets, weights)
    after_one_step = ft.step(images, targets, weights)  # the loss of the updated model, before its own update
    assert after_one_step < first


def test_train_epochs_decays_lr_per_epoch_and_zero_epochs_is_a_no_op(video):
    model = build_model("cpu_small", TINY_SET, seed=0)
    ft = Finetuner(model, TrainConfig(lr=1e-3, gamma=0.5, batch_size=3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert ft.train_epochs(video, np.array([0, 1]), video.keypoints[[0, 1]], 0, np.random.default_rng(0)) == []
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert ft.learning_rates == {"backbone": 1e-3, "head": 5e-3, "final": 1e-2}
    losses = ft.train_epochs(video, np.arange(5), video.keypoints[:5], 2, np.random.default_rng(0))
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert ft.learning_rates["backbone"] == pytest.approx(1e-3 * 0.25)
    assert ft.epochs_done == 2 and ft.steps_done == 4  # 5 samples, batches of 3 -> 2 steps per epoch
    with pytest.raises(ValueError, match=r"\(M, K, 3\)"):
        ft.train_epochs(video, np.arange(3), video.keypoints[:2], 1, np.random.default_rng(0))


def test_finetuner_state_round_trip_continues_identically(video):
    def run(split: bool) -> torch.Tensor:
        model = build_model("cpu_small", TINY_SET, seed=1)
        ft = Finetuner(model, TrainConfig(lr=1e-3, batch_size=4))
        rng = np.random.default_rng(5)
        ft.train_epochs(video, np.arange(8), video.keypoints, 1, rng)
        if split:  # rebuild optimizer + model from saved states
            state, weights = ft.state_dict(), {k: v.clone() for k, v in model.state_dict().items()}
            model = build_model("cpu_small", TINY_SET, seed=99)
            model.load_state_dict(weights)
            ft = Finetuner(model, TrainConfig(lr=1e-3, batch_size=4))
            ft.load_state_dict(state)
        ft.train_epochs(video, np.arange(8), video.keypoints, 1, rng)
        return model.final_layer.weight.detach().clone()

    torch.testing.assert_close(run(False), run(True))


def test_finetune_config_applies_overrides_and_rejects_unknown_settings():
    from vatl.estimator.train import FINETUNE_CONFIG, finetune_config

    model = build_model("cpu_small", TINY_SET)
    assert finetune_config(model) is FINETUNE_CONFIG and finetune_config(model, {}) is FINETUNE_CONFIG
    config = finetune_config(model, {"lr": 1e-3, "lr_multipliers": [1, 2, 3]})
    assert config.lr == 1e-3 and config.lr_multipliers == (1, 2, 3)
    assert config.augmentation == FINETUNE_CONFIG.augmentation and config.gamma == FINETUNE_CONFIG.gamma
    assert Finetuner(model, config).config == config
    with pytest.raises(ValueError, match=r"unknown fine-tuning setting\(s\) \['momentum'\]; known: lr, "):
        finetune_config(model, {"momentum": 0.9})


def test_a_frozen_group_keeps_its_weights_and_the_others_train(video):
    model = build_model("cpu_small", TINY_SET, seed=0)
    ft = Finetuner(model, TrainConfig(lr=1e-3, batch_size=4, freeze=("backbone",)))
    groups = model.parameter_groups()
    before = {name: [p.detach().clone() for p in params] for name, params in groups.items()}
    ft.train_epochs(video, np.arange(6), video.keypoints[:6], 2, np.random.default_rng(0))
    assert all(torch.equal(a, b) for a, b in zip(before["backbone"], groups["backbone"]))
    assert not all(torch.equal(a, b) for a, b in zip(before["head"], groups["head"]))
    assert {g["name"] for g in ft.optimizer.param_groups} == {"head", "final"}  # no weight decay on it either
    assert all(p.requires_grad for p in groups["backbone"])  # frozen only while training
    with pytest.raises(ValueError, match="freeze"):
        TrainConfig(freeze=("encoder",))
    with pytest.raises(ValueError, match="not all"):
        TrainConfig(freeze=("backbone", "head", "final"))


def test_packed_epochs_take_several_epochs_per_step_and_decay_the_lr_per_epoch(video):
    model = build_model("cpu_small", TINY_SET, seed=0)
    ft = Finetuner(model, TrainConfig(lr=1e-3, gamma=0.5, batch_size=12, pack_epochs=True))
    epochs = []
    losses = ft.train_epochs(video, np.arange(5), video.keypoints[:5], 5, np.random.default_rng(0),
                             on_epoch=lambda e, loss: epochs.append(e))
    # 5 samples, batches of 12: two epochs per step -> steps of 10, 10 and 5 samples
    assert ft.steps_done == 3 and ft.epochs_done == 5 and epochs == [1, 2, 3, 4, 5]
    assert len(losses) == 5 and losses[0] == losses[1] and losses[2] == losses[3]
    assert ft.learning_rates["backbone"] == pytest.approx(1e-3 * 0.5 ** 5)
    unpacked = Finetuner(build_model("cpu_small", TINY_SET, seed=0), TrainConfig(lr=1e-3, batch_size=12))
    unpacked.train_epochs(video, np.arange(5), video.keypoints[:5], 5, np.random.default_rng(0))
    assert unpacked.steps_done == 5  # one step per epoch without packing
