"""Transfer a pretrained estimator to another keypoint set: the backbone and decoder stay, a new output
layer is built for the target set, each of its slots starting from filters of the source slots.

:func:`plan_transfer` decides where each target slot starts from, in this order:

1. ``mapping`` (a mapping file, :func:`load_mapping_file`): the source slots named for it (their
   filters averaged), or ``[]`` for a fresh start;
2. ``name``: a source slot with the same name up to case, separators and the spelling of the side
   (``L_Shoulder`` = ``shoulderL`` = ``left shoulder``; :func:`vatl.skeletons.canonical_name`);
3. ``synonym``: the same after :data:`vatl.skeletons.SYNONYMS` (``neck`` = ``head_bottom``, ``hand`` =
   ``wrist``, ``foot`` = ``ankle``);
4. ``neighbours``: the mean of the filters of the source slots its neighbours in the target skeleton
   start from (a slot between matched joints, e.g. ``belly`` between the hips and the neck);
5. ``all``: the mean of all source filters (a body-wide prior, as BlazePose's converter uses for
   slots it cannot place).

Slots of kind 1–3 (with one source slot) are the *directly mapped* ones: their zero-shot predictions are
the source model's; the others are learned from the labels ATL collects. The mean of 1×1 filters gives
the mean of their heatmap logits, which peaks on or between those joints.

Every backend implements the same small hook (:class:`~vatl.estimator.contract.PoseEstimator`):
``with_keypoint_set(keypoint_set, mapping)``, ``mapping[i]`` being the source slot indices of target slot
i; most backends only replace their last 1×1 convolution with :func:`new_output_layer`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vatl.skeletons import KeypointSet, canonical_name

log = logging.getLogger(__name__)

HOW = ("mapping", "name", "synonym", "neighbours", "all", "new")
DIRECT = ("mapping", "name", "synonym")
FRESH_STD = 0.001  # fresh filters: N(0, 0.001²), bias 0 (SimpleBaseline's initialisation of its final layer)


@dataclass(frozen=True)
class TransferPlan:
    """Where each slot of ``target`` starts from.

    sources: (K_target,) tuples of source slot indices whose filters are averaged (empty: fresh start).
    how: (K_target,) one of :data:`HOW` per target slot (see the module docstring).
    """

    source: KeypointSet
    target: KeypointSet
    sources: tuple[tuple[int, ...], ...]
    how: tuple[str, ...]

    @property
    def mapping(self) -> list[list[int]]:
        """The hook's argument: per target slot, the source slot indices."""
        return [list(s) for s in self.sources]

    @property
    def direct(self) -> tuple[bool, ...]:
        """(K_target,) slots that start from exactly one source slot by name, synonym or the mapping file."""
        return tuple(h in DIRECT and len(s) == 1 for h, s in zip(self.how, self.sources))

    @property
    def is_identity(self) -> bool:
        return self.source.keypoints == self.target.keypoints

    def lines(self) -> list[str]:
        """One line per target slot: ``belly ← mean of neighbours (left_hip, right_hip, neck)``."""
        names = self.source.keypoints
        out = []
        for name, src, how in zip(self.target.keypoints, self.sources, self.how):
            if not src:
                what = f"fresh filters (N(0, {FRESH_STD}²))"
            elif len(src) == 1:
                what = names[src[0]]
            elif how == "all":
                what = f"mean of all {len(src)} source slots"
            else:
                what = f"mean of {', '.join(names[j] for j in src)}"
            label = {"name": "same name", "synonym": "synonym", "mapping": "mapping file",
                     "neighbours": "skeleton neighbours", "all": "no match", "new": "mapping file"}[how]
            out.append(f"{name} ← {what} ({label})")
        return out

    def summary(self) -> str:
        """One sentence: how many slots were mapped how (for the message of ``vatl run``)."""
        if self.is_identity:
            return f"the model predicts the video's {self.target.num_keypoints} keypoints already"
        direct = [t for t, d in zip(self.target.keypoints, self.direct) if d]
        rest = [t for t, d in zip(self.target.keypoints, self.direct) if not d]
        text = (f"new output layer for {self.target.name!r} ({self.target.num_keypoints} slots) from "
                f"{self.source.name!r} ({self.source.num_keypoints}): {len(direct)} mapped directly")
        if rest:
            text += f", {len(rest)} started from other filters ({', '.join(rest)})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source.name, "target": self.target.name,
                "slots": [{"target": t, "sources": [self.source.keypoints[j] for j in s], "how": h}
                          for t, s, h in zip(self.target.keypoints, self.sources, self.how)]}


def load_mapping_file(path: str | os.PathLike) -> dict[str, list[str]]:
    """A mapping file: JSON ``{"<target slot>": "<source slot>" | ["<source>", …] | [] | null}``.

    Several source names average their filters; ``[]`` or ``null`` start the slot fresh. Target slots not
    named are matched by name as usual. Errors name the file and the entry.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"mapping file {p} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"mapping file {p}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"mapping file {p}: expected an object {{\"target slot\": \"source slot\" or [names]}}")
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        if value is None:
            value = []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"mapping file {p}: entry {key!r}: expected a source slot name, a list of names, "
                             f"[] or null, got {value!r}")
        out[str(key)] = value
    return out


def plan_transfer(source: KeypointSet, target: KeypointSet,
                  mapping: Mapping[str, Sequence[str]] | None = None) -> TransferPlan:
    """Where each slot of ``target`` starts from (see the module docstring); ``mapping``: target slot name
    → source slot names (a mapping file), checked against both sets (a ValueError names a wrong entry)."""
    k = target.num_keypoints
    sources: list[tuple[int, ...] | None] = [None] * k
    how: list[str | None] = [None] * k
    for key, names in (mapping or {}).items():
        if key not in target.keypoints:
            raise ValueError(f"mapping: target slot {key!r} is not in keypoint set {target.name!r} "
                             f"({', '.join(target.keypoints)})")
        unknown = [n for n in names if n not in source.keypoints]
        if unknown:
            raise ValueError(f"mapping: source slot(s) {unknown} for {key!r} are not in the model's keypoint set "
                             f"{source.name!r} ({', '.join(source.keypoints)})")
        i = target.index(key)
        sources[i] = tuple(source.index(n) for n in names)
        how[i] = "mapping" if names else "new"
    for synonyms, kind in ((False, "name"), (True, "synonym")):
        by_name: dict[str, int] = {}
        for j, name in enumerate(source.keypoints):
            by_name.setdefault(canonical_name(name, synonyms), j)
        for i, name in enumerate(target.keypoints):
            j = by_name.get(canonical_name(name, synonyms))
            if how[i] is None and j is not None:
                sources[i], how[i] = (j,), kind
    matched = [h is not None for h in how]
    neighbours: list[set[int]] = [set() for _ in range(k)]
    for a, b in target.skeleton:
        neighbours[a].add(b)
        neighbours[b].add(a)
    for i in range(k):
        if how[i] is None:
            near = sorted({j for n in neighbours[i] if matched[n] for j in sources[n]})  # type: ignore[union-attr]
            if near:
                sources[i], how[i] = tuple(near), "neighbours"
            else:
                sources[i], how[i] = tuple(range(source.num_keypoints)), "all"
    return TransferPlan(source, target, tuple(sources), tuple(how))  # type: ignore[arg-type]


def new_output_layer(old: nn.Conv2d, mapping: Sequence[Sequence[int]], seed: int = 0) -> nn.Conv2d:
    """A 1×1 convolution to ``len(mapping)`` channels on ``old``'s input (:func:`mapped_output_conv`); an
    output layer with another kernel is refused."""
    if old.kernel_size != (1, 1):
        raise ValueError(f"the output layer has a {old.kernel_size} kernel; the transfer needs a 1×1 convolution")
    return mapped_output_conv(old, mapping, seed)


def mapped_output_conv(old: nn.Conv2d, mapping: Sequence[Sequence[int]], seed: int = 0) -> nn.Conv2d:
    """A convolution like ``old`` (its kernel, stride, padding) with ``len(mapping)`` outputs: output i is the
    mean of ``old``'s filters (weight and bias) ``mapping[i]``, or fresh (N(0, :data:`FRESH_STD`²), bias 0,
    drawn from ``seed``) when it is empty. Same device and dtype as ``old``; ``old`` is not changed."""
    n_old = old.out_channels
    bad = [int(j) for m in mapping for j in m if not 0 <= int(j) < n_old]
    if bad:
        raise ValueError(f"mapping refers to source slots {bad[:5]} outside 0..{n_old - 1}")
    new = nn.Conv2d(old.in_channels, len(mapping), old.kernel_size, old.stride, old.padding,
                    bias=old.bias is not None).to(old.weight.device, old.weight.dtype)
    gen = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        new.weight.copy_((torch.randn(new.weight.shape, generator=gen) * FRESH_STD).to(new.weight))
        if new.bias is not None:
            new.bias.zero_()
        for i, src in enumerate(mapping):
            if len(src):
                idx = torch.as_tensor([int(j) for j in src], device=old.weight.device)
                new.weight[i] = old.weight[idx].mean(dim=0)
                if new.bias is not None:
                    new.bias[i] = old.bias[idx].mean()
    return new


def transfer_model(model: Any, target: KeypointSet, mapping: Mapping[str, Sequence[str]] | None = None
                   ) -> tuple[Any, TransferPlan]:
    """``model`` (any backend) for ``target``: (the model from its ``with_keypoint_set`` hook, the plan).

    When the model already predicts the target's slots (same names, same order) it only takes the target
    set (its sigmas, skeleton and flip pairs) and keeps its weights. The returned model is in eval mode on
    the model's device; the model passed in must not be used afterwards (backends may change it in place).
    """
    plan = plan_transfer(model.keypoint_set, target, mapping)
    if plan.is_identity:
        model.keypoint_set = target
        return model, plan
    hook = getattr(model, "with_keypoint_set", None)
    if hook is None:
        raise ValueError(f"estimator backend {getattr(model, 'model_type', type(model).__name__)!r} cannot be "
                         "transferred to another keypoint set (it has no with_keypoint_set hook)")
    training = model.training
    new = hook(target, plan.mapping)
    if new.keypoint_set.keypoints != target.keypoints or new.num_keypoints != target.num_keypoints:
        raise ValueError(f"{type(new).__name__}.with_keypoint_set did not give a model for {target.name!r}")
    new.record = {**dict(getattr(model, "record", {}) or {}), "transfer": plan.to_dict()}
    log.info("transferred %s -> %s: %s", plan.source.name, target.name, "; ".join(plan.lines()))
    return new.train(training), plan
