"""Checkpoints: ours (config + keypoint set + weights + training record) and published SimpleBaseline ones.

Our format is a ``torch.save`` dict of tensors and plain data only::

    {"format": "vatl-pose", "version": 1, "model_type": "simplebaseline" | "blazepose" | ...,
     "model_config": {...}, "keypoint_set": {...}, "state_dict": {...}, "training": {...},
     "resume": {...} (optional: optimizer, rng, epoch)}

``model_type`` names the backend that rebuilds the network (:mod:`vatl.estimator.backends`); files
without it are ``simplebaseline``.

Files are read with ``torch.load(weights_only=True)``: tensors and plain containers (dict, list, tuple,
numbers, strings) only, so a checkpoint from someone else cannot run code when loaded; a file that needs
other pickled objects is refused with a ValueError. :func:`save_checkpoint` turns numpy scalars and
arrays, dataclasses, paths and str/int/float subclasses in the payload into plain data, so that what vatl
writes always loads.

:func:`load_checkpoint` also reads plain state dicts in the layouts of the public SimpleBaseline
(``conv1``, ``layer1``.., ``deconv_layers.*``, ``final_layer.*``; optionally under ``module.``) and of
MMPose top-down ResNets (``backbone.*`` + ``keypoint_head.*`` or ``head.*``), and AlphaPose's FastPose
(``preact.*``, ``duc1.*``, ``duc2.*``, ``conv_out.*``: AlphaPose and the VATL4Pose releases, read by
:mod:`vatl.estimator.fastpose.published`), wrapped or not in ``state_dict``/``model``; the layout is
recognised by the tensor names and the architecture inferred from their shapes.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import pickle
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.torch_version import TorchVersion

from vatl.estimator.backends import build_untrained, get_backend
from vatl.estimator.contract import PoseEstimator
from vatl.estimator.device import resolve_device
from vatl.estimator.fastpose.published import fastpose_from_state_dict, fastpose_num_keypoints, is_fastpose_layout
from vatl.estimator.models import ModelConfig, PoseModel
from vatl.fileio import atomic_path
from vatl.skeletons import COCO17, KeypointSet

log = logging.getLogger(__name__)

FORMAT = "vatl-pose"
VERSION = 1
REQUIRED_FIELDS = ("model_config", "keypoint_set", "state_dict")
ASSETS = Path(__file__).resolve().parents[1] / "assets"
DEFAULT_CHECKPOINT = ASSETS / "default_cpu_small.pt"
# The one non-container class allowed when reading: the torch version string (a str subclass) that
# checkpoints written before payloads were made plain hold in their training record (e.g. the embedded
# default checkpoint).
_SAFE_CLASSES = (TorchVersion,)


def default_checkpoint_path() -> Path:
    """The embedded CPU checkpoint pretrained on the synthetic source domain."""
    if not DEFAULT_CHECKPOINT.is_file():
        raise FileNotFoundError(f"the embedded default checkpoint {DEFAULT_CHECKPOINT} is missing "
                                "(produce it with `vatl pretrain`, see docs/domain_gap.md)")
    return DEFAULT_CHECKPOINT


def save_checkpoint(path: str | os.PathLike, model: PoseEstimator, training: Mapping[str, Any] | None = None,
                    resume: Mapping[str, Any] | None = None, half: bool = False) -> Path:
    """Write ``model`` with its config, keypoint set and ``training`` record (command, seed, history…).

    ``resume``: optimizer / rng state for resuming training (left out of shipped checkpoints).
    ``half``: store floating-point weights as float16 (half the size; loaded back as float32).
    The payload is made plain data (see the module docstring; anything else is a TypeError naming the
    field) and written atomically (:func:`vatl.fileio.atomic_path`).
    """
    get_backend(getattr(model, "model_type", None), f"model {type(model).__name__}")  # else it cannot be loaded
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    payload = {"format": FORMAT, "version": VERSION, "model_type": model.model_type,
               "model_config": model.config.to_dict(), "keypoint_set": model.keypoint_set.to_dict(),
               "state_dict": state, "training": dict(training or model.record)}
    if resume is not None:
        payload["resume"] = dict(resume)
    payload = plain_data(payload)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def plain_data(obj: Any, where: str = "checkpoint") -> Any:
    """``obj`` as tensors and plain data (what ``torch.load(weights_only=True)`` reads back).

    Dicts, lists and tuples are rebuilt with plain contents; numpy scalars become Python numbers, numpy
    arrays lists, dataclasses dicts, paths strings, subclasses of str/int/float/bool their base type
    (e.g. ``torch.__version__``), tensors detached CPU tensors. Anything else is a TypeError naming
    ``where`` (the field, e.g. ``checkpoint.training.history[3]``).
    """
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, np.generic):
        return plain_data(obj.item(), where)
    if isinstance(obj, np.ndarray):
        return plain_data(obj.tolist(), where)
    for base in (bool, int, float, str):
        if isinstance(obj, base):
            return base(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {plain_data(k, f"{where} key"): plain_data(v, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, list):
        return [plain_data(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, tuple):
        return tuple(plain_data(v, f"{where}[{i}]") for i, v in enumerate(obj))
    raise TypeError(f"{where} holds a {type(obj).__module__}.{type(obj).__qualname__}; a checkpoint holds only "
                    "tensors, numbers, strings, None and dicts/lists/tuples of them")


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The raw contents of a checkpoint file (any supported layout), on the CPU.

    Loaded with ``torch.load(weights_only=True)``: a file holding other pickled objects than tensors and
    plain containers is refused (ValueError, nothing of it is run), as is a truncated or non-torch file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        data = _load_weights_only(path)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a bad file
        blocked = re.search(r"GLOBAL ([\w.]+)", str(exc)) if isinstance(exc, pickle.UnpicklingError) else None
        if blocked:
            raise ValueError(f"checkpoint {path} holds objects other than tensors and plain containers "
                             f"({blocked.group(1)}); it was not loaded, as unpickling them could run code. "
                             "If you trust the file, save its tensors alone (e.g. its state dict) with "
                             "torch.save and load that") from None
        # the weights-only unpickler's own messages suggest loading unsafely: not repeated here
        detail = "" if isinstance(exc, pickle.UnpicklingError) else f" ({_first_line(exc)})"
        raise ValueError(f"cannot read checkpoint {path}: not a PyTorch checkpoint, or the file is truncated "
                         f"or corrupt{detail}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"checkpoint {path} holds a {type(data).__name__}, expected a dict (state dict)")
    return dict(data)


def _load_weights_only(path: Path) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, allowing :data:`_SAFE_CLASSES` too."""
    allow = getattr(torch.serialization, "safe_globals", None)
    with warnings.catch_warnings():  # a plain pickle file is refused below; torch's protocol warning is noise
        warnings.filterwarnings("ignore", message="Detected pickle protocol")
        if allow is None:  # torch < 2.5: no per-call allow-list
            return torch.load(path, map_location="cpu", weights_only=True)
        with allow(list(_SAFE_CLASSES)):
            return torch.load(path, map_location="cpu", weights_only=True)


def _first_line(exc: BaseException, limit: int = 120) -> str:
    """``Type: first sentence of the message`` (at most ``limit`` characters), for one-line errors."""
    lines = str(exc).strip().splitlines()
    if not lines:
        return type(exc).__name__
    line = lines[0].split(". ")[0]
    line = line if len(line) <= limit else line[:limit] + "…"
    return f"{type(exc).__name__}: {line}"


def load_checkpoint(path: str | os.PathLike, device: str | torch.device | None = "cpu",
                    keypoint_set: KeypointSet | None = None, input_size: tuple[int, int] = (192, 256)
                    ) -> PoseEstimator:
    """A model ready for :func:`~vatl.estimator.estimate.estimate` (eval mode, on ``device``).

    Our checkpoints restore the model of their backend (``model_type``) with config, keypoint set and
    ``model.record`` (the training record). Published state dicts: ``keypoint_set`` names the K output
    slots (default: COCO-17 when K = 17); ``input_size`` (W, H) is the resolution the network was
    trained at (default 192×256).
    """
    data = read_checkpoint(path)
    if data.get("format") == FORMAT:
        model = _vatl_model(data, path)
        if keypoint_set is not None and keypoint_set.keypoints != model.keypoint_set.keypoints:
            raise ValueError(f"checkpoint {path} predicts {model.keypoint_set.name} keypoints, not {keypoint_set.name}")
    elif is_fastpose_layout(raw := _unwrap(data)):
        k = fastpose_num_keypoints(raw, f"checkpoint {path}")
        model = fastpose_from_state_dict(raw, _published_keypoint_set(k, keypoint_set, path), input_size,
                                         f"checkpoint {path}")
        model.record = {"source": str(path), "layout": "published AlphaPose FastPose"}
    else:
        state = convert_public_state_dict(raw, path)
        config = infer_config(state, input_size, path)
        k = state["final_layer.weight"].shape[0]
        keypoint_set = _published_keypoint_set(k, keypoint_set, path)
        model = PoseModel(config, keypoint_set)
        _load_state(model, state, path)
        model.record = {"source": str(path), "layout": "published SimpleBaseline/MMPose"}
    return model.to(resolve_device(device)).eval()


def _published_keypoint_set(k: int, keypoint_set: KeypointSet | None, path: Any) -> KeypointSet:
    """The keypoint set of a published state dict with K = ``k`` outputs: ``keypoint_set`` if given (K must
    match), else COCO-17 when K = 17 (with a warning)."""
    if keypoint_set is None:
        if k != COCO17.num_keypoints:
            raise ValueError(f"checkpoint {path} predicts {k} keypoints: pass the keypoint set it was trained on")
        log.warning("checkpoint %s: assuming COCO-17 keypoints (pass keypoint_set otherwise)", path)
        keypoint_set = COCO17
    if keypoint_set.num_keypoints != k:
        raise ValueError(f"checkpoint {path} predicts {k} keypoints but keypoint set {keypoint_set.name!r} "
                         f"has {keypoint_set.num_keypoints}")
    return keypoint_set


def _vatl_model(data: Mapping[str, Any], path: Any) -> PoseEstimator:
    """The model of one of our checkpoints: rebuilt by its backend, weights (as float32) and record loaded."""
    for name in REQUIRED_FIELDS:
        if not isinstance(data.get(name), Mapping):
            found = "is missing" if name not in data else f"is a {type(data[name]).__name__}, not a dict"
            raise ValueError(f"checkpoint {path}: required field {name!r} {found} "
                             f"(a vatl checkpoint holds {', '.join(REQUIRED_FIELDS)})")
    model = build_untrained(data, f"checkpoint {path}")
    state = {k: v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() else v
             for k, v in data["state_dict"].items()}  # half-precision files load as float32
    _load_state(model, state, path)
    training = data.get("training", {})
    model.record = dict(training) if isinstance(training, Mapping) else {}
    return model


def _unwrap(data: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    for key in ("state_dict", "model", "model_state_dict"):
        inner = data.get(key)
        if isinstance(inner, Mapping) and any(isinstance(v, torch.Tensor) for v in inner.values()):
            return dict(inner)
    return {k: v for k, v in data.items() if isinstance(v, torch.Tensor)}


_HEAD_PREFIXES = ("keypoint_head.", "head.")


def convert_public_state_dict(state: Mapping[str, torch.Tensor], path: Any = "state dict") -> dict[str, torch.Tensor]:
    """Rename a SimpleBaseline / MMPose state dict to our names (``backbone.*``, ``deconv_layers.*``,
    ``final_layer.*``). Our own names pass through unchanged."""
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        key = name[len("module."):] if name.startswith("module.") else name
        for prefix in _HEAD_PREFIXES:
            if key.startswith(prefix + "deconv_layers.") or key.startswith(prefix + "final_layer."):
                key = key[len(prefix):]
                break
        if re.match(r"^(conv1|bn1|layer\d+)\.", key):
            key = "backbone." + key
        if key.startswith(("backbone.", "deconv_layers.", "final_layer.")):
            out[key] = tensor
        else:
            log.debug("%s: ignoring tensor %s", path, name)
    for required in ("backbone.conv1.weight", "final_layer.weight", "deconv_layers.0.weight"):
        if required not in out:
            raise ValueError(f"{path}: no tensor named like {required!r} (or its SimpleBaseline/MMPose form); "
                             "not a supported top-down ResNet checkpoint")
    return out


def infer_config(state: Mapping[str, torch.Tensor], input_size: tuple[int, int], path: Any = "state dict") -> ModelConfig:
    """The :class:`ModelConfig` of a state dict in our names (see :func:`convert_public_state_dict`)."""
    stages = sorted({int(m.group(1)) for k in state if (m := re.match(r"backbone\.layer(\d+)\.", k))})
    if not stages or stages != list(range(1, len(stages) + 1)):
        raise ValueError(f"{path}: backbone stages {stages} are not layer1..layerS")
    layers, widths = [], []
    bottleneck = "backbone.layer1.0.conv3.weight" in state
    for s in stages:
        blocks = {int(m.group(1)) for k in state if (m := re.match(rf"backbone\.layer{s}\.(\d+)\.", k))}
        layers.append(len(blocks))
        widths.append(int(state[f"backbone.layer{s}.0.conv1.weight"].shape[0]))
    stem = state["backbone.conv1.weight"]
    deconv = sorted(int(m.group(1)) for k in state if (m := re.match(r"deconv_layers\.(\d+)\.weight$", k))
                    and state[k].ndim == 4)
    final = state["final_layer.weight"]
    if final.shape[2:] != (1, 1):
        raise ValueError(f"{path}: final_layer has a {tuple(final.shape[2:])} kernel; only 1×1 is supported")
    return ModelConfig(name="simplebaseline_custom", block="bottleneck" if bottleneck else "basic",
                       layers=tuple(layers), widths=tuple(widths), stem_channels=int(stem.shape[0]),
                       stem_kernel=int(stem.shape[2]),
                       deconv_channels=tuple(int(state[f"deconv_layers.{i}.weight"].shape[1]) for i in deconv),
                       input_size=(int(input_size[0]), int(input_size[1])))


def _load_state(model: torch.nn.Module, state: Mapping[str, Any], path: Any) -> None:
    """Load by name; every model tensor must be present with its shape (BN step counters may be absent)."""
    not_tensors = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise ValueError(f"{path}: state dict entries {not_tensors[:5]} are not tensors")
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    wrong = [f"{k} {tuple(state[k].shape)} (model: {tuple(own[k].shape)})"
             for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        parts = [f"missing {missing[:5]}" if missing else "", f"unexpected {unexpected[:5]}" if unexpected else "",
                 f"shape mismatch {wrong[:5]}" if wrong else ""]
        raise ValueError(f"{path}: state dict does not fit the model: " + "; ".join(p for p in parts if p))
    model.load_state_dict(dict(state), strict=False)


def adapt_keypoint_set(model: PoseEstimator, keypoint_set: KeypointSet,
                       mapping: Mapping[str, Any] | None = None) -> PoseEstimator:
    """``model`` with a new output layer for ``keypoint_set`` (any backend, through its
    ``with_keypoint_set`` hook): slots named like a model slot (up to case, separators, side spellings and
    synonyms) keep its filters, the others start from skeleton neighbours or all slots, as
    :func:`vatl.estimator.transfer.plan_transfer` says; ``mapping`` (target → source names) overrides.

    E.g. a COCO-17 checkpoint for PoseTrack21 keeps nose, shoulders … ankles; ``head_bottom`` starts from
    its neighbours' filters (nose, shoulders) and ``head_top`` (no matched neighbour) from all slots.
    Returns the model (it may be ``model`` itself, changed).
    """
    from vatl.estimator.transfer import transfer_model

    return transfer_model(model, keypoint_set, mapping)[0]
