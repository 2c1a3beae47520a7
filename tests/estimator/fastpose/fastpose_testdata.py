"""AlphaPose's FastPose, described independently of vatl's model: its state-dict layout and its forward pass.

:func:`alphapose_layout` lists the tensor names and shapes AlphaPose's ``FastPose(NUM_LAYERS=…)`` module has
(written from the architecture of ``alphapose/models/fastpose.py``, ``layers/SE_Resnet.py``, ``layers/DUC.py``
and ``layers/SE_module.py``: ``preact`` SE-ResNet whose stage-opening blocks with a ``downsample`` carry
``se.fc.{0,2}`` Linear(C, C) layers, ``suffle1`` PixelShuffle(2), ``duc1``/``duc2`` = conv (no bias) + BN +
ReLU + PixelShuffle(2), ``conv_out`` 3×3 with bias). :func:`reference_forward` computes that network with
``torch.nn.functional`` straight from such a state dict (eval-mode BN; PixelShuffle written out from its
definition), so a test can compare vatl's model with it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# AlphaPose's FastPose with NUM_LAYERS = 50 (the VATL4Pose JRDB-Pose / PoseTrack21 releases).
RES50 = {"block": "bottleneck", "layers": (3, 4, 6, 3), "widths": (64, 128, 256, 512), "stem_channels": 64,
         "stem_kernel": 7, "ducs": (1024, 512)}
# The same layout at toy widths: basic blocks, layer1 without a shortcut (as in AlphaPose's ResNet-18 variant) …
SMALL_BASIC = {"block": "basic", "layers": (2, 1, 1, 1), "widths": (8, 16, 32, 64), "stem_channels": 8,
               "stem_kernel": 3, "ducs": (32, 32)}
# … and bottlenecks (every stage opens with a shortcut and an SE layer).
SMALL_BOTTLENECK = {"block": "bottleneck", "layers": (1, 2, 1, 1), "widths": (4, 8, 8, 16), "stem_channels": 8,
                    "stem_kernel": 7, "ducs": (32, 16)}
ALPHAPOSE_MEAN = (0.406, 0.457, 0.480)


def _bn(prefix: str, channels: int) -> dict[str, tuple[int, ...]]:
    return {f"{prefix}.weight": (channels,), f"{prefix}.bias": (channels,), f"{prefix}.running_mean": (channels,),
            f"{prefix}.running_var": (channels,), f"{prefix}.num_batches_tracked": ()}


def alphapose_layout(block: str, layers: tuple[int, ...], widths: tuple[int, ...], stem_channels: int,
                     stem_kernel: int, ducs: tuple[int, ...], num_joints: int) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape of AlphaPose's FastPose ``state_dict()`` (in module order)."""
    expansion = 4 if block == "bottleneck" else 1
    shapes: dict[str, tuple[int, ...]] = {"preact.conv1.weight": (stem_channels, 3, stem_kernel, stem_kernel)}
    shapes.update(_bn("preact.bn1", stem_channels))
    inplanes = stem_channels
    for s, (blocks, planes) in enumerate(zip(layers, widths), start=1):
        stride = 1 if s == 1 else 2
        for b in range(blocks):
            p = f"preact.layer{s}.{b}"
            if block == "bottleneck":
                shapes[f"{p}.conv1.weight"] = (planes, inplanes, 1, 1)
                shapes.update(_bn(f"{p}.bn1", planes))
                shapes[f"{p}.conv2.weight"] = (planes, planes, 3, 3)
                shapes.update(_bn(f"{p}.bn2", planes))
                shapes[f"{p}.conv3.weight"] = (planes * 4, planes, 1, 1)
                shapes.update(_bn(f"{p}.bn3", planes * 4))
            else:
                shapes[f"{p}.conv1.weight"] = (planes, inplanes, 3, 3)
                shapes.update(_bn(f"{p}.bn1", planes))
                shapes[f"{p}.conv2.weight"] = (planes, planes, 3, 3)
                shapes.update(_bn(f"{p}.bn2", planes))
            out = planes * expansion
            if b == 0 and (stride != 1 or inplanes != out):  # make_layer: downsample -> reduction=True
                se = {f"{p}.se.fc.0.weight": (out, out), f"{p}.se.fc.0.bias": (out,),
                      f"{p}.se.fc.2.weight": (out, out), f"{p}.se.fc.2.bias": (out,)}
                downsample = {f"{p}.downsample.0.weight": (out, inplanes, 1, 1), **_bn(f"{p}.downsample.1", out)}
                # registration order: BasicBlock assigns downsample before se, Bottleneck se before downsample
                shapes.update({**se, **downsample} if block == "bottleneck" else {**downsample, **se})
            inplanes = out
    channels = inplanes // 4  # suffle1
    for i, d in enumerate(ducs, start=1):
        shapes[f"duc{i}.conv.weight"] = (d, channels, 3, 3)
        shapes.update(_bn(f"duc{i}.bn", d))
        channels = d // 4
    shapes["conv_out.weight"] = (num_joints, channels, 3, 3)
    shapes["conv_out.bias"] = (num_joints,)
    return shapes


def random_state(shapes: dict[str, tuple[int, ...]], seed: int = 0, prefix: str = "") -> dict[str, torch.Tensor]:
    """Random tensors of these shapes (BN variances positive, step counters int64), names optionally prefixed."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for name, shape in shapes.items():
        if name.endswith("num_batches_tracked"):
            t = torch.tensor(7, dtype=torch.int64)
        elif name.endswith("running_var"):
            t = torch.rand(shape, generator=gen) + 0.5
        elif name.endswith(".weight") and len(shape) == 1:  # BN scale
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen)
        else:
            fan_in = max(1, int(torch.tensor(shape[1:]).prod())) if len(shape) > 1 else 1
            t = torch.randn(shape, generator=gen) * (0.7 / fan_in ** 0.5 if len(shape) > 1 else 0.1)
        state[prefix + name] = t
    return state


def pixel_shuffle(x: torch.Tensor, r: int) -> torch.Tensor:
    """(N, C·r², H, W) -> (N, C, H·r, W·r) with out[n, c, h·r + i, w·r + j] = x[n, c·r² + i·r + j, h, w]."""
    n, c, h, w = x.shape
    return x.view(n, c // (r * r), r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // (r * r), h * r, w * r)


def reference_forward(state: dict[str, torch.Tensor], rgb: torch.Tensor, block: str, layers: tuple[int, ...],
                      stem_kernel: int, **_: object) -> tuple[torch.Tensor, torch.Tensor]:
    """AlphaPose's FastPose on uint8-valued RGB crops (N, 3, H, W): heatmaps (N, K, H/4, W/4) and the pooled
    last-stage feature, computed functionally from ``state`` (AlphaPose names, no prefix)."""
    def bn(x, p):
        return F.batch_norm(x, state[f"{p}.running_mean"], state[f"{p}.running_var"], state[f"{p}.weight"],
                            state[f"{p}.bias"], training=False, eps=1e-5)

    x = rgb.float() / 255 - torch.tensor(ALPHAPOSE_MEAN).view(1, 3, 1, 1)
    x = F.relu(bn(F.conv2d(x, state["preact.conv1.weight"], stride=2, padding=stem_kernel // 2), "preact.bn1"))
    x = F.max_pool2d(x, 3, 2, 1)
    for s, blocks in enumerate(layers, start=1):
        for b in range(blocks):
            p = f"preact.layer{s}.{b}"
            stride = 2 if (s > 1 and b == 0) else 1
            if block == "bottleneck":
                out = F.relu(bn(F.conv2d(x, state[f"{p}.conv1.weight"]), f"{p}.bn1"))
                out = F.relu(bn(F.conv2d(out, state[f"{p}.conv2.weight"], stride=stride, padding=1), f"{p}.bn2"))
                out = bn(F.conv2d(out, state[f"{p}.conv3.weight"]), f"{p}.bn3")
            else:
                out = F.relu(bn(F.conv2d(x, state[f"{p}.conv1.weight"], stride=stride, padding=1), f"{p}.bn1"))
                out = bn(F.conv2d(out, state[f"{p}.conv2.weight"], padding=1), f"{p}.bn2")
            if f"{p}.se.fc.0.weight" in state:
                y = F.relu(F.linear(out.mean(dim=(2, 3)), state[f"{p}.se.fc.0.weight"], state[f"{p}.se.fc.0.bias"]))
                y = torch.sigmoid(F.linear(y, state[f"{p}.se.fc.2.weight"], state[f"{p}.se.fc.2.bias"]))
                out = out * y[:, :, None, None]
            identity = x
            if f"{p}.downsample.0.weight" in state:
                identity = bn(F.conv2d(x, state[f"{p}.downsample.0.weight"], stride=stride), f"{p}.downsample.1")
            x = F.relu(out + identity)
    feature = x.mean(dim=(2, 3))
    x = pixel_shuffle(x, 2)
    i = 1
    while f"duc{i}.conv.weight" in state:
        x = pixel_shuffle(F.relu(bn(F.conv2d(x, state[f"duc{i}.conv.weight"], padding=1), f"duc{i}.bn")), 2)
        i += 1
    heatmaps = F.conv2d(x, state["conv_out.weight"], state["conv_out.bias"], padding=1)
    return heatmaps, feature
