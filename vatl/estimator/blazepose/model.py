"""BlazePose GHUM full as a vatl pose model, with a keypoint-set transfer head.

The converted graph (:mod:`.convert`) is pruned to what the estimator interface needs: the 64×64×48
decoder tensor that BlazePose's ``output_heatmap`` 1×1 convolution reads, and its deepest encoder tensor
(global-average-pooled: the feature for Core-Set/DUW). The ``output_heatmap`` layer itself is replaced by
:attr:`BlazePoseModel.final_layer`, a 1×1 convolution to the K slots of the target keypoint set:

* slots BlazePose has (nose, shoulders, elbows, wrists, hips, knees, ankles, ears) copy its filter;
* slots it lacks start from the *mean of the logit filters* of anatomical neighbours (a product of
  their probability maps, peaking between them): PoseTrack's ``head_bottom`` from nose + both
  shoulders, ``head_top`` from the eyes/ears centre and BlazePose's point 34 above the head. They are
  then learned from the labels ATL collects.

Heatmaps are ``sigmoid(logits)`` (values in [0, 1], confidence = maximum). Input: the 256×256 RGB crop
scaled to [0, 1] (BlazePose's convention); vatl's crops are square (box × 1.25), unrotated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from torch import nn

from vatl.estimator.blazepose.convert import GraphModule, _ancestors, graph_to_spec, load_weights
from vatl.estimator.blazepose.tflite_reader import Graph
from vatl.estimator.train import FINETUNE_CONFIG
from vatl.skeletons import KeypointSet

MODEL_TYPE = "blazepose"
HEATMAP_TENSOR = "Identity_3"
LANDMARKS_TENSOR = "Identity"

# BlazePose's 33 landmarks (person's left/right), then its auxiliary points 33..38 (heatmap channels).
BLAZEPOSE_LANDMARKS = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index")
NUM_CHANNELS = 39
# Target slots BlazePose lacks -> groups of source channels; the new filter is the mean over groups of the
# mean filter of each group.
DERIVED_SLOTS: dict[str, tuple[tuple[int, ...], ...]] = {
    "head_bottom": ((0,), (11,), (12,)),
    "neck": ((0,), (11,), (12,)),
    "head_top": ((1, 2, 3, 4, 5, 6, 7, 8), (34,)),
}
_ALIASES = {"left_foot": "left_foot_index", "right_foot": "right_foot_index"}


def channel_mapping(keypoint_set: KeypointSet) -> list[list[list[int]]]:
    """For each target slot, groups of BlazePose channels whose filters it starts from.

    A slot named like a BlazePose landmark maps to that one channel ([[j]]); slots in
    :data:`DERIVED_SLOTS` use their groups; any other slot starts from all 33 landmark channels' mean
    (a weak, body-wide prior) — pass ``mapping`` to :func:`build_from_graph` to choose better.
    """
    out = []
    for name in keypoint_set.keypoints:
        name = _ALIASES.get(name, name)
        if name in BLAZEPOSE_LANDMARKS:
            out.append([[BLAZEPOSE_LANDMARKS.index(name)]])
        elif name in DERIVED_SLOTS:
            out.append([list(g) for g in DERIVED_SLOTS[name]])
        else:
            out.append([list(range(33))])
    return out


def transfer_filters(weight: np.ndarray, bias: np.ndarray, mapping: Sequence[Sequence[Sequence[int]]]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Target 1×1 filters from BlazePose's: weight (39, C), bias (39,) -> (K, C), (K,), each slot the mean
    over its groups of the group's mean filter."""
    w = np.stack([np.mean([weight[list(g)].mean(0) for g in groups], axis=0) for groups in mapping])
    b = np.array([np.mean([bias[list(g)].mean() for g in groups]) for groups in mapping])
    return w.astype(np.float32), b.astype(np.float32)


class BlazePoseConfig:
    """What rebuilds the network (kept in checkpoints): the converted graph spec and the slot mapping.

    input_size (W, H) comes from the graph's input, heatmap_size (w, h) from its decoder tensor.
    """

    name = MODEL_TYPE

    def __init__(self, spec: Mapping[str, Any], mapping: Sequence[Sequence[Sequence[int]]]) -> None:
        self.spec = dict(spec)
        self.mapping = [[list(g) for g in groups] for groups in mapping]
        _, h, w, _ = self.spec["input_shape"]
        self.input_size = (int(w), int(h))
        hm = self.spec.get("heatmap_shape", [h // 4, w // 4])
        self.heatmap_size = (int(hm[1]), int(hm[0]))

    def to_dict(self) -> dict[str, Any]:
        return {"model_type": MODEL_TYPE, "spec": self.spec, "mapping": self.mapping}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BlazePoseConfig:
        if d.get("model_type") != MODEL_TYPE:
            raise ValueError(f"model config is of type {d.get('model_type')!r}, not {MODEL_TYPE!r}")
        return cls(d["spec"], d["mapping"])


class BlazePoseModel(nn.Module):
    """``forward(images) -> (heatmaps (N, K, 64, 64) in [0, 1], features (N, D))`` for 256×256 crops.

    Satisfies :class:`~vatl.estimator.contract.PoseEstimator`; the ``blazepose`` backend of
    :mod:`vatl.estimator.backends` rebuilds it from checkpoints.
    """

    model_type = MODEL_TYPE  # backend name in checkpoints
    # Fine-tuning a converted, BN-folded network: the default ATL steps (lr 2.5e-4, ×5 head, ×10 final)
    # wreck it within a few epochs on the Bonn video; lr 1e-5 (×10 for the transfer head) improves it.
    finetune_config = replace(FINETUNE_CONFIG, lr=1e-5, lr_multipliers=(1.0, 1.0, 10.0))

    def __init__(self, config: BlazePoseConfig, keypoint_set: KeypointSet) -> None:
        super().__init__()
        if len(config.mapping) != keypoint_set.num_keypoints:
            raise ValueError(f"mapping has {len(config.mapping)} slots, keypoint set {keypoint_set.name!r} "
                             f"{keypoint_set.num_keypoints}")
        self.config = config
        self.keypoint_set = keypoint_set
        self.record: dict[str, Any] = {}
        self.graph = GraphModule(config.spec)
        outs = config.spec["outputs"]
        self._decoder_id, self._feature_id = outs["decoder"], outs["feature"]
        channels = _channels_of(config.spec, self._decoder_id)
        self.final_layer = nn.Conv2d(channels, keypoint_set.num_keypoints, 1)
        backbone_ops = set(_op_positions_upto(config.spec, self._feature_id))
        self._backbone_params = [p for i, op in enumerate(self.graph.ops) if i in backbone_ops for p in op.parameters()]
        self._head_params = [p for i, op in enumerate(self.graph.ops) if i not in backbone_ops for p in op.parameters()]

    @property
    def num_keypoints(self) -> int:
        return self.keypoint_set.num_keypoints

    @property
    def input_size(self) -> tuple[int, int]:
        return self.config.input_size

    @property
    def heatmap_size(self) -> tuple[int, int]:
        return self.config.heatmap_size

    @property
    def feature_dim(self) -> int:
        return _channels_of(self.config.spec, self._feature_id)

    @property
    def device(self) -> torch.device:
        return self.final_layer.weight.device

    def logits(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Heatmap logits (N, K, h, w) and pooled features (N, D)."""
        values = self.graph.run(images)
        return self.final_layer(values[self._decoder_id]), values[self._feature_id].mean(dim=(2, 3))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images: (N, 3, 256, 256) in [0, 1] (see :meth:`prepare`)."""
        logits, features = self.logits(images)
        return torch.sigmoid(logits), features

    def prepare(self, crops: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Crops (N, H, W, 3) uint8 RGB -> (N, 3, H, W) float32 in [0, 1] on the model's device."""
        x = torch.as_tensor(crops).to(self.device, non_blocking=True)
        return x.permute(0, 3, 1, 2).float().div_(255.0)

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """``backbone``: the encoder up to the feature tensor; ``head``: the rest of the converted graph
        (decoder); ``final``: the transfer head."""
        return {"backbone": list(self._backbone_params), "head": list(self._head_params),
                "final": list(self.final_layer.parameters())}

    def with_keypoint_set(self, keypoint_set: KeypointSet, mapping: Sequence[Sequence[int]]) -> BlazePoseModel:
        """This model for ``keypoint_set`` (the transfer hook of the contract): a new transfer head whose
        slot i is the mean of the current head's slots ``mapping[i]`` (logit filters; fresh when empty).
        ``config.mapping`` then records, per new slot, the BlazePose channel groups of the slots it started
        from (all 33 landmarks for a fresh slot). Changes and returns ``self``."""
        from vatl.estimator.transfer import new_output_layer

        self.final_layer = new_output_layer(self.final_layer, mapping)
        old = self.config.mapping
        groups = [[g for j in src for g in old[j]] if len(src) else [list(range(33))] for src in mapping]
        self.config = BlazePoseConfig(self.config.spec, groups)
        self.keypoint_set = keypoint_set
        return self


def _channels_of(spec: Mapping[str, Any], tensor: int) -> int:
    """Channels of a rank-4 tensor produced in ``spec`` (walks back through channel-preserving ops)."""
    by_out = {s["output"]: s for s in spec["ops"]}
    t = tensor
    while t in by_out:
        s = by_out[t]
        if s["type"] == "conv":
            return int(s["out_channels"])
        if s["type"] == "add" and "const_shape" in s:
            return int(s["const_shape"][1])
        t = s["inputs"][0]
    if t == spec["input"]:
        return int(spec["input_shape"][3])
    raise ValueError(f"cannot infer the channels of tensor {tensor}")


def _op_positions_upto(spec: Mapping[str, Any], tensor: int) -> list[int]:
    """Positions in ``spec["ops"]`` of the ops that ``tensor`` depends on."""
    by_out = {s["output"]: i for i, s in enumerate(spec["ops"])}
    needed, stack = set(), [tensor]
    while stack:
        i = by_out.get(stack.pop())
        if i is None or i in needed:
            continue
        needed.add(i)
        stack.extend(spec["ops"][i]["inputs"])
    return sorted(needed)


def _graph_parts(graph: Graph) -> tuple[int, int, int]:
    """(heatmap conv index, decoder tensor, feature tensor) of BlazePose's graph: the 1×1 conv producing
    the heatmap output, its input, and the encoder tensor of lowest resolution (most channels, latest)
    among the decoder's ancestors."""
    hm = graph.tensor_by_name(HEATMAP_TENSOR).index
    k = next(i for i, op in enumerate(graph.operators) if hm in op.outputs)
    op = graph.operators[k]
    if op.op != "CONV_2D" or graph.tensors[op.inputs[1]].shape[1:3] != (1, 1):
        raise ValueError(f"expected {HEATMAP_TENSOR} to come from a 1×1 CONV_2D, found {op.op}")
    decoder = op.inputs[0]
    best = None
    for i in _ancestors(graph, [decoder]):
        if graph.operators[i].op == "DEQUANTIZE":
            continue
        t = graph.operators[i].outputs[0]
        shape = graph.tensors[t].shape
        if len(shape) == 4:
            key = (-shape[1] * shape[2], shape[3], i)
            if best is None or key > best[0]:
                best = (key, t)
    return k, decoder, best[1]


def build_from_graph(graph: Graph, keypoint_set: KeypointSet,
                     mapping: Sequence[Sequence[Sequence[int]]] | None = None,
                     extra_outputs: Mapping[str, int | str] | None = None) -> BlazePoseModel:
    """A :class:`BlazePoseModel` for ``keypoint_set`` with BlazePose's weights (see :func:`channel_mapping`).

    ``extra_outputs``: further graph outputs kept in the module (e.g. ``{"landmarks": "Identity"}`` for
    checks; read them with ``model.graph(x)``)."""
    k, decoder, feature = _graph_parts(graph)
    outputs = {"decoder": decoder, "feature": feature, **(extra_outputs or {})}
    spec, weights = graph_to_spec(graph, outputs)
    spec["heatmap_shape"] = list(graph.tensors[decoder].shape[1:3])
    mapping = mapping if mapping is not None else channel_mapping(keypoint_set)
    model = BlazePoseModel(BlazePoseConfig(spec, mapping), keypoint_set)
    load_weights(model.graph, weights)
    op = graph.operators[k]
    w = _constant(graph, op.inputs[1]).reshape(NUM_CHANNELS, -1)
    b = _constant(graph, op.inputs[2]).reshape(-1)
    fw, fb = transfer_filters(w, b, mapping)
    with torch.no_grad():
        model.final_layer.weight.copy_(torch.from_numpy(fw)[:, :, None, None])
        model.final_layer.bias.copy_(torch.from_numpy(fb))
    model.record = {"source": "mediapipe pose_landmark_full.tflite", "mapping": model.config.mapping}
    return model.eval()


def _constant(graph: Graph, tensor: int) -> np.ndarray:
    """A constant tensor's values as float32, following DEQUANTIZE."""
    t = graph.tensors[tensor]
    if t.data is not None:
        return t.data.astype(np.float32)
    for op in graph.operators:
        if tensor in op.outputs and op.op == "DEQUANTIZE":
            return _constant(graph, op.inputs[0])
    raise ValueError(f"tensor {tensor} ({t.name}) is not constant")


def model_from_checkpoint_payload(data: Mapping[str, Any]) -> BlazePoseModel:
    """Rebuild a model from a vatl checkpoint dict with ``model_type == "blazepose"`` (weights not loaded):
    the builder of the ``blazepose`` backend (:mod:`vatl.estimator.backends`)."""
    return BlazePoseModel(BlazePoseConfig.from_dict(data["model_config"]), KeypointSet.from_dict(data["keypoint_set"]))
