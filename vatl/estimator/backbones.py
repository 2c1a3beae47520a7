"""ResNet backbones (our own, no torchvision/timm) with the parameter names of the public ResNets.

The module names (``conv1``, ``bn1``, ``layer1``..``layer4``, blocks ``conv1/bn1/conv2/bn2[/conv3/bn3]``,
``downsample.0/1``) are those of the public SimpleBaseline / MMPose ResNet checkpoints, so their state dicts
load by name. ``resnet(18)`` / ``resnet(50)`` are the standard networks; narrow ``widths`` and a smaller
stem give the CPU backbone.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with a residual connection (ResNet-18/34)."""

    expansion = 1

    def __init__(self, in_ch: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = nn.Conv2d(in_ch, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_ch, out_ch, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1×1 → 3×3 (stride) → 1×1 ×4 with a residual connection (ResNet-50/101/152)."""

    expansion = 4

    def __init__(self, in_ch: int, width: int, stride: int = 1) -> None:
        super().__init__()
        out_ch = width * self.expansion
        self.conv1 = nn.Conv2d(in_ch, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _shortcut(in_ch, out_ch, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module | None:
    if stride == 1 and in_ch == out_ch:
        return None
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}
DEPTHS: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


class ResNet(nn.Module):
    """A ResNet trunk: stem (conv1, bn1, ReLU, 3×3/2 max-pool) then stages ``layer1``..``layerS``.

    block: ``basic`` or ``bottleneck``. layers: blocks per stage. widths: base width per stage (the stage
    outputs width × expansion channels); the first stage has stride 1, the others stride 2.
    stem_kernel: 7 (standard, stride 2) or 3 (a cheaper stride-2 stem).
    Output stride = 4 · 2^(S-1). ``out_channels`` is the last stage's channel count.
    """

    def __init__(self, block: str = "basic", layers: Sequence[int] = (2, 2, 2, 2),
                 widths: Sequence[int] = (64, 128, 256, 512), stem_channels: int = 64, stem_kernel: int = 7) -> None:
        super().__init__()
        if len(layers) != len(widths) or not layers:
            raise ValueError(f"ResNet: layers {tuple(layers)} and widths {tuple(widths)} must be equally long")
        block_cls = BLOCKS[block]
        self.conv1 = nn.Conv2d(3, stem_channels, stem_kernel, 2, stem_kernel // 2, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        in_ch = stem_channels
        for s, (n_blocks, width) in enumerate(zip(layers, widths)):
            blocks = []
            for b in range(n_blocks):
                blocks.append(block_cls(in_ch, width, stride=2 if (b == 0 and s > 0) else 1))
                in_ch = width * block_cls.expansion
            self.add_module(f"layer{s + 1}", nn.Sequential(*blocks))
        self.num_stages = len(layers)
        self.out_channels = in_ch
        self.output_stride = 4 * 2 ** (len(layers) - 1)
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for s in range(self.num_stages):
            x = getattr(self, f"layer{s + 1}")(x)
        return x


def resnet(depth: int) -> ResNet:
    """The standard ResNet-``depth`` trunk (18, 34, 50, 101, 152)."""
    if depth not in DEPTHS:
        raise ValueError(f"unsupported ResNet depth {depth}; known: {sorted(DEPTHS)}")
    block, layers = DEPTHS[depth]
    return ResNet(block, layers)


def _init_weights(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    # Zero-init the last BN of each residual branch: blocks start as identities (trains faster).
    for m in module.modules():
        if isinstance(m, Bottleneck):
            nn.init.zeros_(m.bn3.weight)
        elif isinstance(m, BasicBlock):
            nn.init.zeros_(m.bn2.weight)
