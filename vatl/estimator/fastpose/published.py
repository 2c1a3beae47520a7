"""Published FastPose state dicts (AlphaPose, VATL4Pose releases) read into :class:`FastPoseModel`.

AlphaPose saves ``FastPose.state_dict()`` (or that of its ``DataParallel`` wrapper, every name prefixed
``module.``); the VATL4Pose releases (``pretrained_models/jrdb/fastpose_256x192.pth`` for JRDB-Pose,
``pretrained_models/posetrack21/fastpose_256x192.pth``) are the same layout::

    preact.conv1.weight, preact.bn1.*, preact.layer{1..4}.{b}.conv{1,2[,3]}.weight, ….bn{1,2[,3]}.*,
    preact.layer{s}.0.downsample.{0,1}.*, preact.layer{s}.0.se.fc.{0,2}.{weight,bias},
    duc1.conv.weight, duc1.bn.*, duc2.conv.weight, duc2.bn.*, conv_out.{weight,bias}

(``suffle1``, a PixelShuffle, holds no tensors). :func:`is_fastpose_layout` recognises such a dict by its
names; :func:`infer_fastpose_config` reads the architecture off the tensor shapes (depth, widths, stem, SE
ratio, DUC channels, K); :func:`fastpose_from_state_dict` builds the model and loads every tensor, or raises a
ValueError naming the first tensor that is missing, unexpected or of the wrong shape. Deformable-convolution
variants (AlphaPose's ``*_dcn_*`` configs) are refused with a message saying so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import torch

from vatl.estimator.fastpose.model import FASTPOSE_PRESETS, FastPoseConfig, FastPoseModel
from vatl.skeletons import KeypointSet

LAYOUT = "AlphaPose FastPose (preact.*, duc1.*, duc2.*, conv_out.*)"
REQUIRED = ("preact.conv1.weight", "preact.layer1.0.conv1.weight", "duc1.conv.weight", "conv_out.weight",
            "conv_out.bias")


def strip_module_prefix(state: Mapping[str, Any]) -> dict[str, Any]:
    """``module.x`` -> ``x`` (a ``DataParallel`` state dict); other names unchanged."""
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def is_fastpose_layout(state: Mapping[str, Any]) -> bool:
    """Whether a state dict (``module.`` prefixes allowed) has AlphaPose FastPose names: a ``preact.`` trunk
    and a ``duc1.`` / ``conv_out.`` head."""
    names = strip_module_prefix(state)
    return any(k.startswith("preact.") for k in names) and any(k.startswith(("duc1.", "conv_out.")) for k in names)


def fastpose_num_keypoints(state: Mapping[str, Any], source: object = "state dict") -> int:
    """K, the output channels of ``conv_out`` (``module.`` prefixes allowed); a ValueError naming the tensor
    when it is missing or not a convolution weight."""
    weight = strip_module_prefix(state).get("conv_out.weight")
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4:
        found = "has no tensor 'conv_out.weight'" if not isinstance(weight, torch.Tensor) else \
            f"tensor 'conv_out.weight' has shape {tuple(weight.shape)}"
        raise ValueError(f"{source}: {found}; a {LAYOUT} state dict has a (K, C, 3, 3) one")
    return int(weight.shape[0])


def infer_fastpose_config(state: Mapping[str, torch.Tensor], input_size: tuple[int, int] = (192, 256),
                          source: object = "state dict") -> FastPoseConfig:
    """The :class:`FastPoseConfig` of a state dict in AlphaPose's names (no ``module.`` prefix).

    ``input_size`` (W, H): the resolution the network was trained at (not in the file; AlphaPose's and
    VATL4Pose's FastPose: 192×256). When shapes and input size are those of a preset, it is that preset.
    """
    for name in REQUIRED:
        if name not in state:
            raise ValueError(f"{source}: no tensor {name!r}; a {LAYOUT} state dict has one")
    dcn = next((k for k in state if "conv2_offset" in k or "conv_offset" in k), None)
    if dcn is not None:
        raise ValueError(f"{source}: tensor {dcn!r} belongs to a deformable-convolution FastPose (AlphaPose's DCN "
                         "configs), which vatl does not support; use a FastPose without DCN")
    stages = sorted({int(m.group(1)) for k in state if (m := re.match(r"preact\.layer(\d+)\.", k))})
    if stages != list(range(1, len(stages) + 1)):
        raise ValueError(f"{source}: trunk stages {stages} are not preact.layer1..layerS")
    bottleneck = "preact.layer1.0.conv3.weight" in state
    layers, widths = [], []
    for s in stages:
        blocks = sorted({int(m.group(1)) for k in state if (m := re.match(rf"preact\.layer{s}\.(\d+)\.", k))})
        first = f"preact.layer{s}.0.conv1.weight"
        if blocks != list(range(len(blocks))) or first not in state:
            raise ValueError(f"{source}: stage preact.layer{s} has blocks {blocks} (expected 0..n-1 with "
                             f"{first!r})")
        layers.append(len(blocks))
        widths.append(int(state[first].shape[0]))
    stem = state["preact.conv1.weight"]
    if stem.ndim != 4 or stem.shape[1] != 3 or stem.shape[2] != stem.shape[3]:
        raise ValueError(f"{source}: tensor 'preact.conv1.weight' has shape {tuple(stem.shape)}; expected "
                         "(C, 3, k, k) (an RGB stem)")
    ducs = []
    while f"duc{len(ducs) + 1}.conv.weight" in state:
        ducs.append(int(state[f"duc{len(ducs) + 1}.conv.weight"].shape[0]))
    se = next((state[k] for k in sorted(state) if re.match(r"preact\.layer\d+\.0\.se\.fc\.0\.weight$", k)), None)
    reduction = 1 if se is None or se.ndim != 2 or se.shape[0] == 0 else max(1, int(se.shape[1]) // int(se.shape[0]))
    out = state["conv_out.weight"]
    if out.ndim != 4 or tuple(out.shape[2:]) != (3, 3):
        raise ValueError(f"{source}: tensor 'conv_out.weight' has shape {tuple(out.shape)}; FastPose's output "
                         "layer is a 3×3 convolution (K, C, 3, 3)")
    try:
        config = FastPoseConfig(name="fastpose_custom", block="bottleneck" if bottleneck else "basic",
                                layers=tuple(layers), widths=tuple(widths), stem_channels=int(stem.shape[0]),
                                stem_kernel=int(stem.shape[2]), duc_channels=tuple(ducs), se_reduction=reduction,
                                input_size=(int(input_size[0]), int(input_size[1])))
    except ValueError as exc:
        raise ValueError(f"{source}: its tensors do not describe a FastPose: {exc}") from None
    for preset in FASTPOSE_PRESETS.values():
        if replace(preset, name=config.name) == config:
            return preset
    return config


def check_state_fits(model: torch.nn.Module, state: Mapping[str, Any], source: object = "state dict") -> None:
    """ValueError naming the first tensor of ``model`` that ``state`` lacks or holds with another shape (in
    the model's order), else the first tensor ``state`` has and the model does not. BN step counters
    (``num_batches_tracked``) may be absent."""
    own = model.state_dict()
    not_tensors = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise ValueError(f"{source}: entry {not_tensors[0]!r} is a {type(state[not_tensors[0]]).__name__}, not a tensor")
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    for name, tensor in own.items():
        if name in missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise ValueError(f"{source}: missing tensor {name!r}{more}; the {LAYOUT} network its other tensors "
                             f"describe has it, shape {tuple(tensor.shape)}")
        if name in state and tuple(state[name].shape) != tuple(tensor.shape):
            raise ValueError(f"{source}: tensor {name!r} has shape {tuple(state[name].shape)}; the FastPose its "
                             f"other tensors describe needs {tuple(tensor.shape)}")
    unexpected = [k for k in state if k not in own]
    if unexpected:
        more = f" (and {len(unexpected) - 1} more)" if len(unexpected) > 1 else ""
        raise ValueError(f"{source}: unexpected tensor {unexpected[0]!r}{more}: not part of a {LAYOUT} network")


def fastpose_from_state_dict(state: Mapping[str, Any], keypoint_set: KeypointSet,
                             input_size: tuple[int, int] = (192, 256), source: object = "state dict") -> FastPoseModel:
    """A :class:`FastPoseModel` holding the weights of an AlphaPose-layout state dict (``module.`` prefixes
    allowed); ``keypoint_set`` names its K output channels (K must match ``conv_out``)."""
    state = strip_module_prefix(state)
    config = infer_fastpose_config(state, input_size, source)
    k = int(state["conv_out.weight"].shape[0])
    if keypoint_set.num_keypoints != k:
        raise ValueError(f"{source} predicts {k} keypoints but keypoint set {keypoint_set.name!r} has "
                         f"{keypoint_set.num_keypoints}")
    model = FastPoseModel(config, keypoint_set)
    check_state_fits(model, state, source)
    model.load_state_dict(dict(state), strict=False)
    return model
