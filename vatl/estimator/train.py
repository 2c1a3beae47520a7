"""Training: masked heatmap MSE, AdamW with backbone/head/final parameter groups, exponential decay.

:class:`Finetuner` is the fine-tuning API of the ATL loop: it keeps one optimizer and learning-rate
schedule for the whole run (continual ACFT) and trains on labeled samples of a video for a number of
epochs. :mod:`vatl.estimator.pretrain` builds pretraining on whole datasets on top of it.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch

from vatl.data.video import Video
from vatl.estimator.dataset import Augmentation, CropCache, training_batch
from vatl.estimator.device import check_amp, mixed_precision
from vatl.estimator.heatmaps import SIGMA
from vatl.estimator.models import PoseModel

log = logging.getLogger(__name__)

GROUPS = ("backbone", "head", "final")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. Defaults: the published ATL fine-tuning (AdamW, lr 2.5e-4 for the backbone,
    ×5 for the deconvolution head, ×10 for the final layer, decoupled weight decay 0.7, lr × 0.99 per
    epoch, batch 32, σ = 2 heatmap px, flip / rotation / scale augmentation).

    freeze: parameter groups left as they are (not in the optimizer, no gradients computed: freezing
    ``backbone`` skips the encoder's backward pass).
    pack_epochs: when the training set is smaller than a batch, one optimizer step takes as many whole
    epochs' samples as fit in a batch (fewer, fuller steps; the lr still decays once per epoch).
    """

    lr: float = 2.5e-4
    lr_multipliers: tuple[float, float, float] = (1.0, 5.0, 10.0)
    weight_decay: float = 0.7
    gamma: float = 0.99
    batch_size: int = 32
    sigma: float = SIGMA
    augmentation: Augmentation = field(default_factory=Augmentation)
    freeze: tuple[str, ...] = ()
    pack_epochs: bool = False

    def __post_init__(self) -> None:
        numbers = (self.lr, self.weight_decay, self.gamma, self.sigma, *self.lr_multipliers)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in numbers) or self.weight_decay < 0:
            raise ValueError(f"invalid training config {self}: lr, weight_decay, gamma, sigma and the lr "
                             "multipliers must be finite numbers, weight_decay >= 0")
        if self.lr <= 0 or self.batch_size < 1 or not 0 < self.gamma <= 1 or len(self.lr_multipliers) != 3:
            raise ValueError(f"invalid training config {self}: need lr > 0, batch_size >= 1, 0 < gamma <= 1 "
                             "and three lr multipliers (backbone, head, final)")
        unknown = sorted(set(self.freeze) - set(GROUPS))
        if unknown or set(self.freeze) >= set(GROUPS):
            raise ValueError(f"freeze {list(self.freeze)}: name some of the groups {', '.join(GROUPS)}, not all")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["lr_multipliers"] = list(self.lr_multipliers)
        d["freeze"] = list(self.freeze)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        d = dict(d)
        d["lr_multipliers"] = tuple(d.get("lr_multipliers", cls.lr_multipliers))
        d["freeze"] = tuple(d.get("freeze", ()))
        d["augmentation"] = Augmentation(**d.get("augmentation", {}))
        return cls(**d)


FINETUNE_CONFIG = TrainConfig()
# the settings a run may override (ATLConfig.finetune)
FINETUNE_OVERRIDES = ("lr", "lr_multipliers", "weight_decay", "gamma", "batch_size", "freeze", "pack_epochs")
# Pretraining from scratch on a source dataset: a larger learning rate, conventional weight decay.
PRETRAIN_CONFIG = replace(FINETUNE_CONFIG, lr=2e-3, lr_multipliers=(1.0, 1.0, 1.0), weight_decay=1e-4,
                          gamma=0.95, batch_size=32)


def finetune_config(model: PoseModel, overrides: Mapping[str, Any] | None = None) -> TrainConfig:
    """The model's fine-tuning settings with ``overrides`` (keys of :data:`FINETUNE_OVERRIDES`).

    Base: the model's own ``finetune_config`` attribute when it has one (e.g. a converted pretrained
    network that needs smaller steps), else :data:`FINETUNE_CONFIG` (the published ATL settings).
    """
    base = getattr(model, "finetune_config", None) or FINETUNE_CONFIG
    if not overrides:
        return base
    unknown = sorted(set(overrides) - set(FINETUNE_OVERRIDES))
    if unknown:
        raise ValueError(f"unknown fine-tuning setting(s) {unknown}; known: {', '.join(FINETUNE_OVERRIDES)}")
    return TrainConfig.from_dict({**asdict(base), **overrides})


def masked_mse(pred: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """½ · mean over (B, K) of weight · mean-squared heatmap error; (B, K, h, w), (B, K, h, w), (B, K)."""
    per_joint = (pred - target).pow(2).mean(dim=(2, 3))
    return 0.5 * (per_joint * weights).mean()


def make_optimizer(model: PoseModel, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW with one parameter group per part (backbone, head, final) at lr × its multiplier; frozen
    groups (``config.freeze``) are left out."""
    groups = model.parameter_groups()
    return torch.optim.AdamW(
        [{"params": groups[name], "lr": config.lr * mult, "name": name}
         for name, mult in zip(GROUPS, config.lr_multipliers) if name not in config.freeze],
        lr=config.lr, weight_decay=config.weight_decay)


@contextlib.contextmanager
def frozen(model: PoseModel, names: tuple[str, ...]):
    """Within the block, the parameters of groups ``names`` need no gradient (autograd skips them)."""
    params = [p for name in names for p in model.parameter_groups()[name]]
    before = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, before):
            p.requires_grad_(flag)


class Finetuner:
    """Trains a model on labeled samples, keeping the optimizer and lr schedule across calls.

    The learning rate decays by ``gamma`` after every epoch over the whole life of the Finetuner (a
    continual schedule across ATL cycles). ``state_dict``/``load_state_dict`` save and restore it (with
    the model's own state saved separately) for resumable runs. The optimizer is made when it is first
    needed: torch's first optimizer imports ``torch._dynamo`` (seconds), which a run then pays after its
    first selection rather than before its first cycle.

    ``amp`` (off by default): mixed precision on CUDA, the forward pass under float16 autocast, the loss in
    float32 and a ``torch.amp.GradScaler`` scaling it for the backward pass (its state is part of
    :meth:`state_dict`). A model not on CUDA is refused with a ValueError. Without ``amp`` training is float32.
    """

    def __init__(self, model: PoseModel, config: TrainConfig | None = None, amp: bool = False) -> None:
        """``config``: default :func:`finetune_config` of the model. ``amp``: mixed precision (CUDA only)."""
        check_amp(amp, model.device)
        config = config or finetune_config(model)
        self.model = model
        self.config = config
        self.amp = amp
        self._scaler = torch.amp.GradScaler("cuda") if amp else None
        self._optimizer: torch.optim.AdamW | None = None
        self._scheduler: torch.optim.lr_scheduler.ExponentialLR | None = None
        self.epochs_done = 0
        self.steps_done = 0

    def _build(self) -> None:
        if self._optimizer is None:
            self._optimizer = make_optimizer(self.model, self.config)
            self._scheduler = torch.optim.lr_scheduler.ExponentialLR(self._optimizer, gamma=self.config.gamma)

    @property
    def optimizer(self) -> torch.optim.AdamW:
        self._build()
        return self._optimizer

    @property
    def scheduler(self) -> torch.optim.lr_scheduler.ExponentialLR:
        self._build()
        return self._scheduler

    @property
    def learning_rates(self) -> dict[str, float]:
        """Current lr of each parameter group."""
        return {g["name"]: g["lr"] for g in self.optimizer.param_groups}

    def step(self, images: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> float:
        """One optimisation step on a batch: images (B, H, W, 3) uint8, targets (B, K, h, w), weights (B, K).
        Returns the batch loss before the update."""
        device = self.model.device
        self.model.train()
        with frozen(self.model, self.config.freeze):
            x = self.model.prepare(images)
            with mixed_precision(self.amp, device):
                heatmaps, _ = self.model(x)
            heatmaps = heatmaps.float()  # float16 under amp (the loss is float32); a no-op in float32
            loss = masked_mse(heatmaps, torch.from_numpy(targets).to(device), torch.from_numpy(weights).to(device))
            self.optimizer.zero_grad(set_to_none=True)
            (loss if self._scaler is None else self._scaler.scale(loss)).backward()
        if self._scaler is None:
            self.optimizer.step()
        else:  # skips the update when the scaled gradients overflowed, then adapts the scale
            self._scaler.step(self.optimizer)
            self._scaler.update()
        self.steps_done += 1
        return float(loss.detach())

    def train_cache(self, cache: CropCache, indices: np.ndarray, keypoints: np.ndarray, epochs: int,
                    rng: np.random.Generator, on_epoch=None, on_batch=None) -> list[float]:
        """``epochs`` epochs over samples ``indices`` of ``cache`` with labels ``keypoints`` (M, K, 3).

        Each epoch visits the M samples once in a random order (batches of ``batch_size``, the last one
        smaller), then decays the lr; with ``pack_epochs`` and M < ``batch_size``, the samples of
        floor(batch_size / M) epochs (each in its own random order) form one step. ``on_batch(samples_done,
        samples_total)`` is called after each step and ``on_epoch(epoch, loss)`` after each epoch (``epoch``
        counts all epochs of this Finetuner). Returns the mean loss of each epoch (a packed step's loss for
        each of its epochs; empty when ``epochs`` is 0 or there are no samples).
        """
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        keypoints = np.asarray(keypoints, dtype=np.float64)
        if keypoints.shape != (len(indices), self.model.num_keypoints, 3):
            raise ValueError(f"label keypoints must be (M, K, 3) = ({len(indices)}, {self.model.num_keypoints}, 3) "
                             f"for {len(indices)} indices; got {keypoints.shape}")
        if epochs < 0:
            raise ValueError(f"epochs must be >= 0, got {epochs}")
        if epochs == 0 or len(indices) == 0:
            return []
        was_training = self.model.training
        flip_index = self.model.keypoint_set.flip_index
        bs, m = self.config.batch_size, len(indices)
        per_step = max(1, bs // m) if self.config.pack_epochs else 1
        losses: list[float] = []
        try:
            while len(losses) < epochs:
                packed = min(per_step, epochs - len(losses))
                order = np.concatenate([rng.permutation(m) for _ in range(packed)])
                total = 0.0
                for start in range(0, len(order), bs):
                    sel = order[start:start + bs]
                    images, targets, weights = training_batch(
                        cache, indices[sel], keypoints[sel], flip_index, self.model.heatmap_size, rng,
                        self.config.augmentation, self.config.sigma)
                    total += self.step(images, targets, weights) * len(sel)
                    if on_batch is not None:
                        on_batch(start + len(sel), len(order))
                for _ in range(packed):
                    self.scheduler.step()
                    self.epochs_done += 1
                    losses.append(total / len(order))
                    if on_epoch is not None:
                        on_epoch(self.epochs_done, losses[-1])
        finally:
            self.model.train(was_training)
        return losses

    def train_epochs(self, video: Video, indices: np.ndarray, label_keypoints: np.ndarray, epochs: int,
                     rng: np.random.Generator, on_epoch=None) -> list[float]:
        """Fine-tune on samples ``indices`` of ``video`` labeled with ``label_keypoints`` (M, K, 3) (x, y in
        image pixels, v > 0 where labeled) for ``epochs`` epochs. Returns the mean loss per epoch ([] for
        0 epochs); ``on_epoch(epoch, loss)`` as :meth:`train_cache` calls it.

        The context crops of these M samples only are cut (decoding only their frames), kept for the
        epochs and dropped: memory is bounded by the training set, not by the video."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        needed = indices if epochs > 0 else indices[:0]  # 0 epochs: check the arguments, decode nothing
        cache = CropCache.build(video, self.model.input_size, needed)  # row i: sample indices[i]
        return self.train_cache(cache, np.arange(len(indices)), label_keypoints, epochs, rng, on_epoch=on_epoch)

    def state_dict(self) -> dict[str, Any]:
        state = {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                 "epochs_done": self.epochs_done, "steps_done": self.steps_done, "config": self.config.to_dict()}
        if self._scaler is not None:
            state["grad_scaler"] = self._scaler.state_dict()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.epochs_done = int(state["epochs_done"])
        self.steps_done = int(state.get("steps_done", 0))
        if self._scaler is not None and "grad_scaler" in state:
            self._scaler.load_state_dict(state["grad_scaler"])
