"""TFLite :class:`~.tflite_reader.Graph` -> PyTorch module.

Conversion happens in two steps so that checkpoints need no TFLite file:

1. :func:`graph_to_spec` folds constants (fp16 weights through ``DEQUANTIZE``, pad amounts, reshape
   shapes, resize sizes) and describes every operator needed for the requested outputs as a JSON-able
   dict (a *spec*), plus :func:`graph_weights` with the weights in PyTorch layout;
2. :class:`GraphModule` rebuilds the network from a spec (weights become trainable parameters).

Supported operators: CONV_2D, DEPTHWISE_CONV_2D, ADD, MAX_POOL_2D, PAD, RESHAPE, RESIZE_BILINEAR,
LOGISTIC, DEPTH_TO_SPACE (TensorFlow's depth-column-row order), CONCATENATION (any rank), DEQUANTIZE and
DENSIFY (of constants; the reader has densified sparse constants already), with fused NONE / RELU / RELU6
activations. Rank-4 tensors are NHWC in TFLite and NCHW in the module (a rank-4 concatenation axis is
mapped accordingly); SAME padding becomes explicit (TFLite puts the extra pixel of an odd total at the
bottom/right).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vatl.estimator.blazepose.tflite_reader import Graph

SUPPORTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MAX_POOL_2D", "PAD", "RESHAPE", "RESIZE_BILINEAR",
                 "LOGISTIC", "DEPTH_TO_SPACE", "CONCATENATION", "DEQUANTIZE", "DENSIFY")
_CONSTANT_OPS = ("DEQUANTIZE", "DENSIFY")  # folded into the constants they produce
_NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def _same_pad(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding of TFLite SAME for one spatial axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _ancestors(graph: Graph, outputs: Sequence[int]) -> list[int]:
    """Indices of the operators needed to compute tensors ``outputs``, in graph order."""
    producer = {t: i for i, op in enumerate(graph.operators) for t in op.outputs}
    needed, stack = set(), list(outputs)
    while stack:
        t = stack.pop()
        i = producer.get(t)
        if i is None or i in needed:
            continue
        needed.add(i)
        stack.extend(graph.operators[i].inputs)
    return sorted(needed)


def _constants(graph: Graph) -> dict[int, np.ndarray]:
    """Constant tensors, with DENSIFY (the reader stores sparse constants dense already: identity) and
    DEQUANTIZE (fp16 -> fp32) folded."""
    const = {t.index: t.data for t in graph.tensors if t.data is not None}
    for op in graph.operators:
        if op.op == "DENSIFY" and op.inputs[0] in const:
            const[op.outputs[0]] = const[op.inputs[0]]
        elif op.op == "DEQUANTIZE" and op.inputs[0] in const:
            const[op.outputs[0]] = const[op.inputs[0]].astype(np.float32)
    return const


def _activation(op) -> str:
    act = op.options.get("activation", "NONE")
    if act not in ("NONE", "RELU", "RELU6"):
        raise NotImplementedError(f"fused activation {act} is not supported")
    return act


def graph_to_spec(graph: Graph, outputs: Mapping[str, int | str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Describe the subgraph computing ``outputs`` (name -> tensor index or name).

    Returns the spec ``{"input": id, "input_shape": [...] (NHWC), "outputs": {name: id}, "ranks": {id: rank},
    "ops": [...]}`` and the weights ``{"ops.<i>.<param>": array}`` in PyTorch layout (float32).
    """
    out_ids = {k: (v if isinstance(v, int) else graph.tensor_by_name(v).index) for k, v in outputs.items()}
    const = _constants(graph)
    if len(graph.inputs) != 1:
        raise NotImplementedError(f"graphs with {len(graph.inputs)} inputs are not supported")
    shapes = {t.index: t.shape for t in graph.tensors}
    ops: list[dict[str, Any]] = []
    weights: dict[str, np.ndarray] = {}
    for k in _ancestors(graph, list(out_ids.values())):
        op = graph.operators[k]
        if op.op not in SUPPORTED_OPS:
            raise NotImplementedError(f"operator {k} ({op.op}) is not supported; supported: {', '.join(SUPPORTED_OPS)}")
        if op.op in _CONSTANT_OPS:
            if op.inputs[0] not in const:
                raise NotImplementedError(f"operator {k}: {op.op} of a non-constant tensor is not supported")
            continue
        x, y = op.inputs[0], op.outputs[0]
        prefix = f"ops.{len(ops)}."
        s: dict[str, Any] = {"type": None, "inputs": [x], "output": y, "tflite_index": k}
        if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w = const[op.inputs[1]].astype(np.float32)  # CONV: (O, kh, kw, I); DEPTHWISE: (1, kh, kw, C·m)
            _, h_in, w_in, c_in = shapes[x]
            kh, kw = w.shape[1:3]
            stride, dilation = op.options["stride"], op.options.get("dilation", (1, 1))
            if op.options["padding"] == "SAME":
                pt, pb = _same_pad(h_in, kh, stride[0], dilation[0])
                pl, pr = _same_pad(w_in, kw, stride[1], dilation[1])
            else:
                pt = pb = pl = pr = 0
            if op.op == "CONV_2D":
                weight, groups = w.transpose(0, 3, 1, 2), 1
            else:
                weight, groups = w.transpose(3, 0, 1, 2), c_in
            s.update(type="conv", in_channels=int(c_in), out_channels=int(weight.shape[0]), kernel=[int(kh), int(kw)],
                     stride=list(stride), dilation=list(dilation), groups=int(groups), pad=[pl, pr, pt, pb],
                     activation=_activation(op), bias=len(op.inputs) > 2 and op.inputs[2] >= 0)
            weights[prefix + "weight"] = np.ascontiguousarray(weight)
            if s["bias"]:
                weights[prefix + "bias"] = const[op.inputs[2]].astype(np.float32).reshape(-1)
        elif op.op == "ADD":
            a, b = op.inputs
            if a in const and b in const:
                raise NotImplementedError(f"operator {k}: ADD of two constants")
            s.update(type="add", activation=_activation(op))
            if a in const or b in const:
                c = const[a if a in const else b].astype(np.float32)
                if len(shapes[y]) == 4:
                    c = c.reshape((1,) * (4 - c.ndim) + c.shape).transpose(0, 3, 1, 2)
                s.update(inputs=[b if a in const else a], const_shape=list(c.shape))
                weights[prefix + "const"] = np.ascontiguousarray(c)
            else:
                s["inputs"] = [a, b]
        elif op.op == "MAX_POOL_2D":
            _, h_in, w_in, _ = shapes[x]
            (fh, fw), stride = op.options["filter"], op.options["stride"]
            if op.options["padding"] == "SAME":
                pt, pb = _same_pad(h_in, fh, stride[0])
                pl, pr = _same_pad(w_in, fw, stride[1])
            else:
                pt = pb = pl = pr = 0
            s.update(type="maxpool", kernel=[fh, fw], stride=list(stride), pad=[pl, pr, pt, pb],
                     activation=_activation(op))
        elif op.op == "PAD":
            p = const[op.inputs[1]].astype(np.int64)  # (rank, 2) before/after per axis
            if len(shapes[x]) == 4:
                if p[0].any():
                    raise NotImplementedError(f"operator {k}: PAD of the batch axis")
                pads = [p[2, 0], p[2, 1], p[1, 0], p[1, 1], p[3, 0], p[3, 1]]  # W, H, C of NCHW
            else:
                pads = [int(v) for v in p[::-1].reshape(-1)]
            s.update(type="pad", pad=[int(v) for v in pads])
        elif op.op == "RESHAPE":
            s.update(type="reshape", shape=[int(v) for v in shapes[y]], in_rank=len(shapes[x]))
        elif op.op == "RESIZE_BILINEAR":
            size = const[op.inputs[1]].astype(np.int64)
            if not (op.options.get("align_corners") or op.options.get("half_pixel_centers")):
                raise NotImplementedError(f"operator {k}: RESIZE_BILINEAR without half_pixel_centers or "
                                          "align_corners (legacy TF sampling) is not supported")
            s.update(type="resize", size=[int(size[0]), int(size[1])],
                     align_corners=bool(op.options.get("align_corners")))
        elif op.op == "LOGISTIC":
            s.update(type="sigmoid")
        elif op.op == "DEPTH_TO_SPACE":
            if len(shapes[x]) != 4:
                raise NotImplementedError(f"operator {k}: DEPTH_TO_SPACE of a rank-{len(shapes[x])} tensor")
            s.update(type="depth_to_space", block=int(op.options["block_size"]))
        elif op.op == "CONCATENATION":
            if any(t in const for t in op.inputs):
                raise NotImplementedError(f"operator {k}: CONCATENATION with a constant input is not supported")
            rank = len(shapes[y])
            axis = int(op.options["axis"]) % rank
            s.update(type="concat", inputs=list(op.inputs), activation=_activation(op),
                     axis=_NHWC_TO_NCHW_AXIS[axis] if rank == 4 else axis)
        ops.append(s)
    spec = {"input": int(graph.inputs[0]), "input_shape": list(shapes[graph.inputs[0]]),
            "outputs": {k: int(v) for k, v in out_ids.items()},
            "ranks": {str(t): len(shapes[t]) for t in {s["output"] for s in ops} | {graph.inputs[0]}},
            "ops": ops}
    return spec, weights


def _activate(x: torch.Tensor, act: str) -> torch.Tensor:
    if act == "RELU":
        return F.relu(x)
    if act == "RELU6":
        return F.relu6(x)
    return x


class ConvOp(nn.Module):
    def __init__(self, s: Mapping[str, Any]) -> None:
        super().__init__()
        pl, pr, pt, pb = s["pad"]
        symmetric = pl == pr and pt == pb  # the convolution pads itself (no padded copy, no pad backward)
        self.pad = (0, 0, 0, 0) if symmetric else (pl, pr, pt, pb)
        self.activation = s["activation"]
        self.conv = nn.Conv2d(s["in_channels"], s["out_channels"], tuple(s["kernel"]), tuple(s["stride"]),
                              padding=(pt, pl) if symmetric else 0, dilation=tuple(s["dilation"]),
                              groups=s["groups"], bias=s["bias"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.pad):
            x = F.pad(x, self.pad)
        return _activate(self.conv(x), self.activation)


class AddOp(nn.Module):
    def __init__(self, s: Mapping[str, Any]) -> None:
        super().__init__()
        self.activation = s["activation"]
        self.const = nn.Parameter(torch.zeros(s["const_shape"])) if "const_shape" in s else None

    def forward(self, a: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        return _activate(a + (self.const if b is None else b), self.activation)


class MaxPoolOp(nn.Module):
    def __init__(self, s: Mapping[str, Any]) -> None:
        super().__init__()
        self.kernel, self.stride, self.pad = tuple(s["kernel"]), tuple(s["stride"]), tuple(s["pad"])
        self.activation = s["activation"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if any(self.pad):
            x = F.pad(x, self.pad, value=float("-inf"))
        return _activate(F.max_pool2d(x, self.kernel, self.stride), self.activation)


class PadOp(nn.Module):
    def __init__(self, s: Mapping[str, Any]) -> None:
        super().__init__()
        self.pad = tuple(s["pad"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pad)


class ReshapeOp(nn.Module):
    """TFLite reshape on NHWC order: rank-4 inputs/outputs are permuted around the reshape."""

    def __init__(self, s: Mapping[str, Any]) -> None:
        super().__init__()
        self.shape, self.in_rank = tuple(s["shape"]), s["in_rank"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.in_rank == 4:
            x = x.permute(0, 2, 3, 1)
        x = x.reshape((x.shape[0],) + self.shape[1:])
        return x.permute(0, 3, 1, 2) if len(self.shape) == 4 else x


class ResizeOp(nn.Module):
    def __init__(self, s: Mapping[str, Any]) -> None:
        super().__init__()
        self.size, self.align_corners = tuple(s["size"]), s["align_corners"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=self.size, mode="bilinear", align_corners=self.align_corners)


class SigmoidOp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x)


class DepthToSpaceOp(nn.Module):
    """TensorFlow's DEPTH_TO_SPACE on NCHW: input channel (i·b + j)·C + c goes to output channel c at
    offset (i, j) of its b×b block (``pixel_shuffle`` orders channels the other way round)."""

    def __init__(self, s: Mapping[str, Any]) -> None:
        super().__init__()
        self.block = int(s["block"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        b = self.block
        x = x.reshape(n, b, b, c // (b * b), h, w).permute(0, 3, 4, 1, 5, 2)
        return x.reshape(n, c // (b * b), h * b, w * b)


class ConcatOp(nn.Module):
    def __init__(self, s: Mapping[str, Any]) -> None:
        super().__init__()
        self.axis, self.activation = int(s["axis"]), s["activation"]

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return _activate(torch.cat(xs, dim=self.axis), self.activation)


class IdentityOp(nn.Module):
    """A spatial PAD folded into the convolutions that read it (see :func:`_fold_spatial_pads`)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


_OP_MODULES = {"conv": ConvOp, "add": AddOp, "maxpool": MaxPoolOp, "pad": PadOp, "reshape": ReshapeOp,
               "resize": ResizeOp, "sigmoid": lambda s: SigmoidOp(), "depth_to_space": DepthToSpaceOp,
               "concat": ConcatOp, "identity": lambda s: IdentityOp()}


def _fold_spatial_pads(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The op specs to build modules from: a zero PAD of a rank-4 tensor's H and W only, read only by
    unpadded convolutions, becomes an identity and its amounts the convolutions' own padding — the same
    numbers without the padded copy and its backward. The spec itself (kept in checkpoints) is unchanged."""
    ops = [dict(s) for s in spec["ops"]]
    readers: dict[int, list[int]] = {}
    for i, s in enumerate(ops):
        for t in s["inputs"]:
            readers.setdefault(t, []).append(i)
    outputs = set(spec["outputs"].values())
    for s in ops:
        users = readers.get(s["output"], [])
        if (s["type"] != "pad" or len(s["pad"]) != 6 or any(s["pad"][4:]) or s["output"] in outputs or not users
                or any(ops[j]["type"] != "conv" or any(ops[j]["pad"]) for j in users)):
            continue
        for j in users:
            ops[j]["pad"] = list(s["pad"][:4])
        s["type"] = "identity"
    return ops


class GraphModule(nn.Module):
    """A converted graph: ``forward(x)`` with x (N, C, H, W) returns ``{output name: tensor}`` (rank-4 outputs
    NCHW). ``run(x, extra)`` also returns intermediate tensors by id. Parameters: ``ops.<i>.conv.weight``
    etc., trainable."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        self.spec = dict(spec)
        self.ops = nn.ModuleList(_OP_MODULES[s["type"]](s) for s in _fold_spatial_pads(spec))
        self._inputs = [tuple(s["inputs"]) for s in spec["ops"]]
        self._outputs = [s["output"] for s in spec["ops"]]
        # Free each tensor after its last use to keep memory flat.
        last: dict[int, int] = {}
        for i, ins in enumerate(self._inputs):
            for t in ins:
                last[t] = i
        self._free = [[t for t in ins if last[t] == i] for i, ins in enumerate(self._inputs)]

    def run(self, x: torch.Tensor, keep: Sequence[int] = ()) -> dict[int, torch.Tensor]:
        """All outputs and the tensors ``keep`` (ids), by tensor id."""
        wanted = set(self.spec["outputs"].values()) | set(keep)
        values = {self.spec["input"]: x}
        for op, ins, out, free in zip(self.ops, self._inputs, self._outputs, self._free):
            values[out] = op(*(values[t] for t in ins))
            for t in free:
                if t not in wanted:
                    values.pop(t, None)
        return {t: values[t] for t in wanted}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        values = self.run(x)
        return {name: values[t] for name, t in self.spec["outputs"].items()}


def load_weights(module: GraphModule, weights: Mapping[str, np.ndarray]) -> GraphModule:
    """Copy converter weights (``ops.<i>.weight|bias|const``) into ``module``."""
    state = {}
    for key, value in weights.items():
        _, i, name = key.split(".")
        target = f"ops.{i}.{'conv.' if name in ('weight', 'bias') else ''}{name}"
        state[target] = torch.from_numpy(np.asarray(value, dtype=np.float32))
    missing, unexpected = module.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"converted weights do not fit the module: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return module


def convert(graph: Graph, outputs: Mapping[str, int | str]) -> GraphModule:
    """The PyTorch module computing ``outputs`` of ``graph`` with the graph's weights."""
    spec, weights = graph_to_spec(graph, outputs)
    return load_weights(GraphModule(spec), weights)
