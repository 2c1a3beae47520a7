"""FastPose (AlphaPose): an SE-ResNet trunk, a PixelShuffle and DUC upsampling, a 3×3 convolution to K heatmaps.

Architecture (AlphaPose's ``FastPose``; facts from its public source, code our own)::

    crop (N, 3, H, W) ─ preact: SE-ResNet ─ (N, C, H/32, W/32) ─┬─ global average pool ─ features (N, C)
                                                                 └─ suffle1: PixelShuffle(2) ─ (N, C/4, H/16, W/16)
        ─ duc1: 3×3 conv → D1, BN, ReLU, PixelShuffle(2) ─ (N, D1/4, H/8, W/8)
        ─ duc2: 3×3 conv → D2, BN, ReLU, PixelShuffle(2) ─ (N, D2/4, H/4, W/4)
        ─ conv_out: 3×3 conv (bias) → heatmaps (N, K, H/4, W/4)

The SE-ResNet is a ResNet (``conv1, bn1, layer1..4``, torchvision block layout: the stride sits on the 3×3
convolution) whose *first block of each stage that has a projection shortcut* (``downsample``) carries a
squeeze-and-excitation layer ``se`` on its residual branch, after the last BN and before the addition:
``x · sigmoid(fc.2(relu(fc.0(avgpool(x)))))`` with reduction ratio 1 (both linear layers C → C, with bias).
In SE-ResNet-50 that is block 0 of every stage; in the ResNet-18 variant layer1 has no shortcut and no SE.
PixelShuffle is torch's ordering: ``out[n, c, h·r + i, w·r + j] = in[n, c·r² + i·r + j, h, w]``.

Module names are AlphaPose's (``preact``, ``suffle1`` — sic —, ``duc1.conv``/``duc1.bn``, ``duc2``, ``conv_out``),
so its state dicts load by name (:mod:`vatl.estimator.fastpose.published`).

Input normalisation is AlphaPose's: RGB / 255 minus the per-channel mean (0.406, 0.457, 0.480), no division by
a standard deviation.

Presets (:data:`FASTPOSE_PRESETS`):
    ``fastpose_res50``: the published FastPose (SE-ResNet-50, DUC 512→1024, 256→512, 256×192 input, 64×48
    heatmaps, 2048-d feature), as AlphaPose and the VATL4Pose releases ship it (GPU-sized);
    ``fastpose_res152``: the same head on SE-ResNet-152;
    ``fastpose_res18``: AlphaPose's ResNet-18 variant (DUC 128→256, 64→128, 32 channels into conv_out);
    ``fastpose_cpu_small``: the same architecture for two CPU cores: a ResNet-18-style SE trunk 4× narrower
    (16..128 channels, 3×3 stem), DUCs 32→128, 32→128, 128×96 input, 32×24 heatmaps, 128-d feature.

Another keypoint set (the contract's transfer hook ``with_keypoint_set``): a new 3×3 ``conv_out`` whose
slots start from means of the current filters (:func:`vatl.estimator.transfer.mapped_output_conv`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from vatl.estimator.backbones import BasicBlock, Bottleneck
from vatl.skeletons import KeypointSet

MODEL_TYPE = "fastpose"
ALPHAPOSE_MEAN = (0.406, 0.457, 0.480)  # subtracted from RGB / 255 (AlphaPose's SimpleTransform)
ALPHAPOSE_STD = (1.0, 1.0, 1.0)
EXPANSION = {"basic": BasicBlock.expansion, "bottleneck": Bottleneck.expansion}  # block -> output / width


@dataclass(frozen=True)
class FastPoseConfig:
    """Everything needed to rebuild a FastPose network (stored in checkpoints as ``model_config``).

    block / layers / widths / stem_*: the SE-ResNet trunk (as :class:`vatl.estimator.models.ModelConfig`);
    duc_channels: output channels of each DUC's 3×3 convolution (each DUC then quarters them by
    PixelShuffle(2)); se_reduction: C → C / r in the SE layers (AlphaPose: 1); input_size: (W, H), multiples
    of the trunk stride; pixel_mean / pixel_std: per RGB channel, in [0, 1] units (input = (rgb/255 − mean) / std).
    """

    name: str = "fastpose_cpu_small"
    block: str = "basic"
    layers: tuple[int, ...] = (2, 2, 2, 2)
    widths: tuple[int, ...] = (16, 32, 64, 128)
    stem_channels: int = 16
    stem_kernel: int = 3
    duc_channels: tuple[int, ...] = (128, 128)
    se_reduction: int = 1
    input_size: tuple[int, int] = (96, 128)
    pixel_mean: tuple[float, float, float] = ALPHAPOSE_MEAN
    pixel_std: tuple[float, float, float] = ALPHAPOSE_STD

    def __post_init__(self) -> None:
        if self.block not in EXPANSION:
            raise ValueError(f"FastPose block {self.block!r}: expected one of {', '.join(EXPANSION)}")
        if not self.layers or len(self.layers) != len(self.widths) or min(self.layers) < 1 or min(self.widths) < 1:
            raise ValueError(f"FastPose trunk: layers {tuple(self.layers)} and widths {tuple(self.widths)} must be "
                             "equally long, non-empty and positive")
        if not self.duc_channels or self.output_stride < 1 or self.trunk_stride % (2 ** (len(self.duc_channels) + 1)):
            raise ValueError(f"FastPose: {len(self.duc_channels)} DUCs after the PixelShuffle upsample more than the "
                             f"trunk's stride {self.trunk_stride} downsamples")
        channels = (self.trunk_channels, *self.duc_channels)
        if any(int(c) <= 0 or int(c) % 4 for c in channels):
            raise ValueError(f"FastPose: the trunk's output ({self.trunk_channels}) and every DUC's channels "
                             f"{tuple(self.duc_channels)} must be positive multiples of 4 (PixelShuffle(2))")
        smallest = min(self.widths) * EXPANSION[self.block]
        if not 1 <= int(self.se_reduction) <= smallest:
            raise ValueError(f"FastPose: se_reduction {self.se_reduction} must be between 1 and the smallest stage "
                             f"width {smallest}")
        if len(self.input_size) != 2 or any(int(v) <= 0 or int(v) % self.trunk_stride for v in self.input_size):
            raise ValueError(f"model input size {tuple(self.input_size)} (W, H): both sides must be positive "
                             f"multiples of the trunk's stride {self.trunk_stride}")
        if len(self.pixel_mean) != 3 or len(self.pixel_std) != 3 or min(self.pixel_std) <= 0:
            raise ValueError("FastPose: pixel_mean and pixel_std need 3 values (R, G, B), std > 0")

    @property
    def trunk_stride(self) -> int:
        return 4 * 2 ** (len(self.layers) - 1)

    @property
    def trunk_channels(self) -> int:
        """C: channels of the trunk's last stage (= the feature length)."""
        return int(self.widths[-1]) * EXPANSION[self.block]

    @property
    def output_stride(self) -> int:
        return self.trunk_stride // 2 ** (len(self.duc_channels) + 1)

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """(w, h) of the heatmaps."""
        s = self.output_stride
        return int(self.input_size[0]) // s, int(self.input_size[1]) // s

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FastPoseConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"FastPose config has unknown fields {sorted(unknown)}; known: {sorted(known)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def _resnet_preset(name: str, depth: int, duc_channels: tuple[int, int]) -> FastPoseConfig:
    block, layers = {18: ("basic", (2, 2, 2, 2)), 50: ("bottleneck", (3, 4, 6, 3)),
                     101: ("bottleneck", (3, 4, 23, 3)), 152: ("bottleneck", (3, 8, 36, 3))}[depth]
    return FastPoseConfig(name=name, block=block, layers=layers, widths=(64, 128, 256, 512), stem_channels=64,
                          stem_kernel=7, duc_channels=duc_channels, input_size=(192, 256))


FASTPOSE_PRESETS: dict[str, FastPoseConfig] = {
    "fastpose_cpu_small": FastPoseConfig(),
    "fastpose_res18": _resnet_preset("fastpose_res18", 18, (256, 128)),
    "fastpose_res50": _resnet_preset("fastpose_res50", 50, (1024, 512)),
    "fastpose_res152": _resnet_preset("fastpose_res152", 152, (1024, 512)),
}


def fastpose_config(name: str, **overrides: Any) -> FastPoseConfig:
    """A preset by name, optionally with fields replaced (e.g. ``input_size=(64, 96)``)."""
    if name not in FASTPOSE_PRESETS:
        raise ValueError(f"unknown FastPose model {name!r}; known: {', '.join(FASTPOSE_PRESETS)}")
    return replace(FASTPOSE_PRESETS[name], **overrides) if overrides else FASTPOSE_PRESETS[name]


class SqueezeExcitation(nn.Module):
    """Channel gating (N, C, h, w) -> same: x · sigmoid(fc.2(relu(fc.0(mean over h, w of x)))).

    ``fc`` = Linear(C, C/r), ReLU, Linear(C/r, C), Sigmoid (biases on): AlphaPose's ``SELayer`` names.
    """

    def __init__(self, channels: int, reduction: int = 1) -> None:
        super().__init__()
        hidden = channels // reduction
        self.fc = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels),
                                nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.fc(x.mean(dim=(2, 3)))
        return x * gate[:, :, None, None]


class SEBasicBlock(BasicBlock):
    """:class:`~vatl.estimator.backbones.BasicBlock` with an optional SE layer before the residual addition."""

    def __init__(self, in_ch: int, width: int, stride: int = 1, se_reduction: int | None = None) -> None:
        super().__init__(in_ch, width, stride)
        self.se = SqueezeExcitation(width * self.expansion, se_reduction) if se_reduction else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.se is not None:
            out = self.se(out)
        return self.relu(out + identity)


class SEBottleneck(Bottleneck):
    """:class:`~vatl.estimator.backbones.Bottleneck` with an optional SE layer before the residual addition."""

    def __init__(self, in_ch: int, width: int, stride: int = 1, se_reduction: int | None = None) -> None:
        super().__init__(in_ch, width, stride)
        self.se = SqueezeExcitation(width * self.expansion, se_reduction) if se_reduction else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.se is not None:
            out = self.se(out)
        return self.relu(out + identity)


_BLOCKS: dict[str, type[SEBasicBlock] | type[SEBottleneck]] = {"basic": SEBasicBlock, "bottleneck": SEBottleneck}


class SEResNet(nn.Module):
    """The trunk: stem (conv1, bn1, ReLU, 3×3/2 max-pool), stages ``layer1``..``layerS``; (N, 3, H, W) ->
    (N, C, H/stride, W/stride). A stage's first block has a projection shortcut (``downsample``) when it
    changes stride or channels, and then also an SE layer; the other blocks have neither."""

    def __init__(self, config: FastPoseConfig) -> None:
        super().__init__()
        block_cls = _BLOCKS[config.block]
        k = int(config.stem_kernel)
        self.conv1 = nn.Conv2d(3, config.stem_channels, k, 2, k // 2, bias=False)
        self.bn1 = nn.BatchNorm2d(config.stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        in_ch = int(config.stem_channels)
        for s, (n_blocks, width) in enumerate(zip(config.layers, config.widths)):
            stride = 1 if s == 0 else 2
            out_ch = int(width) * block_cls.expansion
            se = int(config.se_reduction) if (stride != 1 or in_ch != out_ch) else None
            blocks = [block_cls(in_ch, int(width), stride, se_reduction=se)]
            blocks += [block_cls(out_ch, int(width)) for _ in range(int(n_blocks) - 1)]
            self.add_module(f"layer{s + 1}", nn.Sequential(*blocks))
            in_ch = out_ch
        self.num_stages = len(config.layers)
        self.out_channels = in_ch
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for m in self.modules():  # residual branches start at zero: every block starts as its shortcut
            if isinstance(m, SEBottleneck):
                nn.init.zeros_(m.bn3.weight)
            elif isinstance(m, SEBasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for s in range(self.num_stages):
            x = getattr(self, f"layer{s + 1}")(x)
        return x


class DUC(nn.Module):
    """Dense upsampling convolution: (N, C_in, h, w) -> (N, C_out / 4, 2h, 2w) by a 3×3 convolution to C_out
    (no bias), BN, ReLU and PixelShuffle(2). Names ``conv`` / ``bn`` as AlphaPose's."""

    def __init__(self, in_ch: int, out_ch: int, upscale: int = 2) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.pixel_shuffle = nn.PixelShuffle(upscale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pixel_shuffle(self.relu(self.bn(self.conv(x))))


class FastPoseModel(nn.Module):
    """FastPose behind :class:`vatl.estimator.contract.PoseEstimator` (backend ``fastpose``).

    Parameter groups as the published ATL code builds its optimizer: ``backbone`` = the trunk ``preact``
    (lr ×1), ``head`` = ``suffle1`` (no parameters) and the DUCs (×5), ``final`` = ``conv_out`` (×10).
    """

    model_type = MODEL_TYPE

    def __init__(self, config: FastPoseConfig, keypoint_set: KeypointSet) -> None:
        super().__init__()
        self.config = config
        self.keypoint_set = keypoint_set
        self.record: dict[str, Any] = {}  # training record (command, seed, data, history), kept in checkpoints
        self.preact = SEResNet(config)
        self.suffle1 = nn.PixelShuffle(2)  # AlphaPose's attribute name
        in_ch = self.preact.out_channels // 4
        self.duc_names: tuple[str, ...] = tuple(f"duc{i + 1}" for i in range(len(config.duc_channels)))
        for name, ch in zip(self.duc_names, config.duc_channels):
            self.add_module(name, DUC(in_ch, int(ch)))
            in_ch = int(ch) // 4
        self.conv_out = nn.Conv2d(in_ch, keypoint_set.num_keypoints, 3, padding=1)
        nn.init.normal_(self.conv_out.weight, std=0.001)  # as AlphaPose's _initialize
        nn.init.zeros_(self.conv_out.bias)
        self.register_buffer("pixel_mean", torch.tensor(config.pixel_mean).view(1, 3, 1, 1) * 255, persistent=False)
        self.register_buffer("pixel_std", torch.tensor(config.pixel_std).view(1, 3, 1, 1) * 255, persistent=False)

    @property
    def num_keypoints(self) -> int:
        return self.keypoint_set.num_keypoints

    @property
    def input_size(self) -> tuple[int, int]:
        """(W, H) of the network input."""
        return int(self.config.input_size[0]), int(self.config.input_size[1])

    @property
    def heatmap_size(self) -> tuple[int, int]:
        """(w, h) of the heatmaps."""
        return self.config.heatmap_size

    @property
    def feature_dim(self) -> int:
        return self.preact.out_channels

    @property
    def device(self) -> torch.device:
        return self.conv_out.weight.device

    def head(self, trunk: torch.Tensor) -> torch.Tensor:
        """Trunk output (N, C, h', w') -> heatmaps (N, K, h, w): PixelShuffle, DUCs, conv_out."""
        x = self.suffle1(trunk)
        for name in self.duc_names:
            x = getattr(self, name)(x)
        return self.conv_out(x)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images (N, 3, H, W) from :meth:`prepare` -> heatmaps (N, K, h, w), features (N, C) (the trunk's
        last stage, average-pooled: same pass)."""
        trunk = self.preact(images)
        return self.head(trunk), trunk.mean(dim=(2, 3))

    def prepare(self, crops: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Crops (N, H, W, 3) uint8 RGB -> (N, 3, H, W) float32 on the model's device, (rgb − mean) / std."""
        x = torch.as_tensor(crops).to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).float()
        return (x - self.pixel_mean) / self.pixel_std

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """``backbone``: preact; ``head``: suffle1 + DUCs; ``final``: conv_out."""
        head = list(self.suffle1.parameters())
        for name in self.duc_names:
            head += list(getattr(self, name).parameters())
        return {"backbone": list(self.preact.parameters()), "head": head,
                "final": list(self.conv_out.parameters())}

    def with_keypoint_set(self, keypoint_set: KeypointSet, mapping: Sequence[Sequence[int]]) -> FastPoseModel:
        """This model for ``keypoint_set`` (the contract's transfer hook): a new 3×3 ``conv_out`` whose output
        i is the mean of the current filters ``mapping[i]`` (weights and bias; fresh N(0, 0.001²) when
        empty); trunk and DUCs stay. Changes and returns ``self``."""
        from vatl.estimator.transfer import mapped_output_conv

        self.conv_out = mapped_output_conv(self.conv_out, mapping)
        self.keypoint_set = keypoint_set
        return self


def build_fastpose(name_or_config: str | FastPoseConfig = "fastpose_cpu_small",
                   keypoint_set: KeypointSet | None = None, seed: int | None = None) -> FastPoseModel:
    """A freshly initialised FastPose from a preset name or a config (default keypoint set: PoseTrack21);
    ``seed`` makes the initialisation reproducible."""
    from vatl.skeletons import POSETRACK21

    config = fastpose_config(name_or_config) if isinstance(name_or_config, str) else name_or_config
    if seed is None:
        return FastPoseModel(config, keypoint_set or POSETRACK21)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return FastPoseModel(config, keypoint_set or POSETRACK21)


def model_from_checkpoint_payload(payload: Mapping[str, Any]) -> FastPoseModel:
    """The untrained model of a vatl checkpoint payload (``model_config`` + ``keypoint_set`` dicts)."""
    return FastPoseModel(FastPoseConfig.from_dict(payload["model_config"]),
                         KeypointSet.from_dict(payload["keypoint_set"]))
