"""The contract of a pose estimator: what the ATL loop, the criteria and fine-tuning rely on.

An estimator is a ``torch.nn.Module`` (the loop calls it, moves it with ``.to``, switches ``train`` /
``eval`` and saves its ``state_dict``) that also satisfies :class:`PoseEstimator`:

* ``prepare(crops)``: uint8 RGB crops (N, H, W, 3) with (W, H) = ``input_size`` -> the network input
  (N, 3, H, W) float32 on ``device``, normalised the way the network was trained.
* ``forward(images) -> (heatmaps, features)`` from **one** forward pass:
  heatmaps (N, K, h, w) float32 with K = ``num_keypoints`` in the order of ``keypoint_set.keypoints``
  and (w, h) = ``heatmap_size``; a keypoint is the channel's peak (:func:`~vatl.estimator.heatmaps.
  decode_heatmaps`) and its confidence the peak value. The training target is a Gaussian of peak 1 on
  zero (:func:`~vatl.estimator.heatmaps.gaussian_targets`), so values are about [0, 1] (exactly so when
  the backend ends in a sigmoid). features (N, D) float32 with D = ``feature_dim``: a pooled feature
  of the same pass (no second network run), used by the diversity criteria (Core-Set, k-means, DUW).
  In eval mode each sample's outputs depend on its own crop only.
* The heatmap covers the same region as the input crop: :func:`~vatl.estimator.crops.crop_affine` at
  ``heatmap_size`` maps image points onto it (pixel-centre convention of :mod:`vatl.estimator.crops`).
* ``parameter_groups()``: ``{"backbone", "head", "final"}`` (:data:`PARAMETER_GROUPS`), disjoint lists
  covering every trainable parameter. ``final`` is the layer producing the K heatmaps (the slots of the
  keypoint set; the features do not depend on it), ``head`` what lies between it and the backbone.
  Fine-tuning (:func:`vatl.estimator.train.make_optimizer`) gives each group its own learning rate,
  lr × the config's ``lr_multipliers`` (ATL default ×1 / ×5 / ×10: the layers nearest the output move
  fastest); every group is trained, none is frozen.
* ``config.to_dict()``: plain data (numbers, strings, lists, dicts) that, with ``keypoint_set.to_dict()``,
  rebuilds the untrained network; checkpoints store it as ``model_config`` and the backend named by
  ``model_type`` rebuilds from it (:mod:`vatl.estimator.backends`). ``record``: the training record
  (plain data), stored as ``training``.
* ``with_keypoint_set(keypoint_set, mapping)``: the transfer hook (:mod:`vatl.estimator.transfer`). The
  model for another keypoint set: the backbone and decoder stay, a new ``final`` layer has one slot per
  keypoint of ``keypoint_set``, slot i starting from the mean of the current slots ``mapping[i]`` (a list
  of indices into the current ``keypoint_set``; empty: a fresh start). ``keypoint_set`` and, where it
  describes the slots, ``config`` follow, so that a saved checkpoint rebuilds the new model. A backend
  whose last layer is a 1×1 convolution replaces it with :func:`~vatl.estimator.transfer.new_output_layer`
  (three lines; see ``PoseModel.with_keypoint_set``). It may change and return ``self``.
* Optional ``finetune_config``: a :class:`~vatl.estimator.train.TrainConfig` the model prefers over the
  published ATL settings (read with ``getattr``; not part of the runtime check).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from vatl.skeletons import KeypointSet

PARAMETER_GROUPS = ("backbone", "head", "final")


@runtime_checkable
class EstimatorConfig(Protocol):
    """What rebuilds a network of a backend; ``to_dict()`` is plain data (stored as ``model_config``)."""

    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class PoseEstimator(Protocol):
    """A top-down heatmap pose estimator (see the module docstring for the full contract)."""

    model_type: str
    """Name of the backend that rebuilds it from a checkpoint (:mod:`vatl.estimator.backends`)."""
    keypoint_set: KeypointSet
    """The K output slots, in heatmap channel order."""
    config: EstimatorConfig
    """Architecture settings (``to_dict()`` is stored in checkpoints)."""
    record: dict[str, Any]
    """Training record (command, seed, data, history), stored in checkpoints."""

    @property
    def num_keypoints(self) -> int:
        """K = ``keypoint_set.num_keypoints``."""
        ...

    @property
    def input_size(self) -> tuple[int, int]:
        """(W, H) of the network input crops."""
        ...

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """(w, h) of the heatmaps."""
        ...

    @property
    def feature_dim(self) -> int:
        """D, the length of the pooled feature."""
        ...

    @property
    def device(self) -> torch.device:
        """Where the parameters live (``prepare`` puts its output there)."""
        ...

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images (N, 3, H, W) from :meth:`prepare` -> heatmaps (N, K, h, w) and features (N, D)."""
        ...

    def prepare(self, crops: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Crops (N, H, W, 3) uint8 RGB -> network input (N, 3, H, W) float32 on :attr:`device`."""
        ...

    def parameter_groups(self) -> dict[str, list[torch.nn.Parameter]]:
        """``backbone`` / ``head`` / ``final`` parameters: disjoint, together every trainable one."""
        ...

    def with_keypoint_set(self, keypoint_set: KeypointSet, mapping: list[list[int]]) -> PoseEstimator:
        """The model for ``keypoint_set``: new output slot i from the mean of current slots ``mapping[i]``
        (fresh when empty); backbone and decoder kept (see the module docstring)."""
        ...
