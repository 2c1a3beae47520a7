"""Top-down heatmap models behind one interface: ``forward(images) -> (heatmaps, features)``.

Every model is a :class:`PoseModel` in the SimpleBaseline family: a ResNet trunk, a stack of 4×4
stride-2 transposed convolutions (each + BN + ReLU) and a 1×1 convolution to K heatmaps. One forward pass
gives both the heatmaps (N, K, h, w) and the pooled feature (N, D) (global average pool of the trunk's
last stage) used by diversity criteria.

Presets (:data:`PRESETS`):
    ``simplebaseline_res50`` / ``simplebaseline_res18``: the published SimpleBaseline at 256×192 (GPU).
    ``cpu_small``: the CPU default: 128×96 input, 32×24 heatmaps, four narrow residual stages and a
    64-channel head, fast enough to run ATL cycles on two CPU cores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from vatl.estimator.backbones import DEPTHS, ResNet
from vatl.skeletons import KeypointSet

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a model (stored in checkpoints).

    input_size: (W, H) of the network input, multiples of the trunk's stride (32 for four stages: each
    stride-2 layer rounds an odd side up, and the heatmap would no longer cover the crop exactly); the
    heatmap size follows from the strides.
    """

    name: str = "cpu_small"
    block: str = "basic"
    layers: tuple[int, ...] = (1, 1, 1, 1)
    widths: tuple[int, ...] = (16, 32, 64, 128)
    stem_channels: int = 16
    stem_kernel: int = 3
    deconv_channels: tuple[int, ...] = (64, 64, 64)
    input_size: tuple[int, int] = (96, 128)

    def __post_init__(self) -> None:
        stride = 4 * 2 ** (len(self.layers) - 1)
        if any(int(v) <= 0 or int(v) % stride for v in self.input_size):
            raise ValueError(f"model input size {tuple(self.input_size)} (W, H): both sides must be positive "
                             f"multiples of the trunk's stride {stride}")

    @property
    def output_stride(self) -> int:
        return 4 * 2 ** (len(self.layers) - 1) // 2 ** len(self.deconv_channels)

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """(w, h) of the heatmaps."""
        s = self.output_stride
        return self.input_size[0] // s, self.input_size[1] // s

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"model config has unknown fields {sorted(unknown)}; known: {sorted(known)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def _simplebaseline(depth: int) -> ModelConfig:
    block, layers = DEPTHS[depth]
    return ModelConfig(name=f"simplebaseline_res{depth}", block=block, layers=layers,
                       widths=(64, 128, 256, 512), stem_channels=64, stem_kernel=7,
                       deconv_channels=(256, 256, 256), input_size=(192, 256))


PRESETS: dict[str, ModelConfig] = {
    "cpu_small": ModelConfig(),
    "simplebaseline_res18": _simplebaseline(18),
    "simplebaseline_res50": _simplebaseline(50),
    "simplebaseline_res101": _simplebaseline(101),
    "simplebaseline_res152": _simplebaseline(152),
}
DEFAULT_PRESET = "cpu_small"


def model_config(name: str, **overrides: Any) -> ModelConfig:
    """A preset by name, optionally with fields replaced (e.g. ``input_size=(96, 72)``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides) if overrides else PRESETS[name]


class PoseModel(nn.Module):
    """ResNet trunk + deconvolution head + 1×1 final layer (SimpleBaseline); satisfies
    :class:`vatl.estimator.contract.PoseEstimator` (backend ``simplebaseline``).

    Module names: ``backbone`` (conv1, bn1, layer1..4), ``deconv_layers`` (ConvTranspose2d, BN, ReLU per
    stage), ``final_layer``. ``keypoint_set`` (K slots, flip pairs) travels with the model.
    """

    model_type = "simplebaseline"

    def __init__(self, config: ModelConfig, keypoint_set: KeypointSet) -> None:
        super().__init__()
        self.config = config
        self.keypoint_set = keypoint_set
        self.record: dict[str, Any] = {}  # training record (command, seed, data, history), kept in checkpoints
        self.backbone = ResNet(config.block, config.layers, config.widths, config.stem_channels,
                               config.stem_kernel)
        layers: list[nn.Module] = []
        in_ch = self.backbone.out_channels
        for ch in config.deconv_channels:
            layers += [nn.ConvTranspose2d(in_ch, ch, 4, 2, 1, output_padding=0, bias=False),
                       nn.BatchNorm2d(ch), nn.ReLU(inplace=True)]
            in_ch = ch
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(in_ch, keypoint_set.num_keypoints, 1)
        for m in self.deconv_layers.modules():
            if isinstance(m, nn.ConvTranspose2d):
                nn.init.normal_(m.weight, std=0.001)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.final_layer.weight, std=0.001)
        nn.init.zeros_(self.final_layer.bias)
        self.register_buffer("pixel_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255, persistent=False)
        self.register_buffer("pixel_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255, persistent=False)

    @property
    def num_keypoints(self) -> int:
        return self.keypoint_set.num_keypoints

    @property
    def input_size(self) -> tuple[int, int]:
        """(W, H) of the network input."""
        return tuple(self.config.input_size)  # type: ignore[return-value]

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """(w, h) of the heatmaps."""
        return self.config.heatmap_size

    @property
    def feature_dim(self) -> int:
        return self.backbone.out_channels

    @property
    def device(self) -> torch.device:
        return self.final_layer.weight.device

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images: (N, 3, H, W) normalised (see :meth:`prepare`). Returns heatmaps (N, K, h, w) and
        features (N, D)."""
        trunk = self.backbone(images)
        features = trunk.mean(dim=(2, 3))
        heatmaps = self.final_layer(self.deconv_layers(trunk))
        return heatmaps, features

    def prepare(self, crops: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Crops (N, H, W, 3) uint8 RGB -> normalised (N, 3, H, W) float32 on the model's device."""
        x = torch.as_tensor(crops).to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).float()
        return (x - self.pixel_mean) / self.pixel_std

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters by group: ``backbone``, ``head`` (deconvolutions), ``final`` (1×1 layer)."""
        return {"backbone": list(self.backbone.parameters()),
                "head": list(self.deconv_layers.parameters()),
                "final": list(self.final_layer.parameters())}

    def with_keypoint_set(self, keypoint_set: KeypointSet, mapping: list[list[int]]) -> PoseModel:
        """This model for ``keypoint_set`` (the transfer hook of the contract): a new ``final_layer`` whose
        slot i is the mean of the current slots ``mapping[i]`` (fresh when empty); the trunk and the
        deconvolutions stay. Changes and returns ``self``."""
        from vatl.estimator.transfer import new_output_layer

        self.final_layer = new_output_layer(self.final_layer, mapping)
        self.keypoint_set = keypoint_set
        return self


def build_model(name_or_config: str | ModelConfig = DEFAULT_PRESET, keypoint_set: KeypointSet | None = None,
                seed: int | None = None) -> PoseModel:
    """A freshly initialised model from a preset name or a :class:`ModelConfig` (default keypoint set:
    PoseTrack21). ``seed`` makes the initialisation reproducible."""
    from vatl.skeletons import POSETRACK21

    config = model_config(name_or_config) if isinstance(name_or_config, str) else name_or_config
    if seed is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return PoseModel(config, keypoint_set or POSETRACK21)
    return PoseModel(config, keypoint_set or POSETRACK21)
