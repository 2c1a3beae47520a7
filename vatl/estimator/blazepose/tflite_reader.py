"""Parse a TFLite flatbuffer into a plain :class:`Graph` (tensors with constant data, operators with
their options), using the ``tflite`` schema package from PyPI (``pip install tflite``).

Only what the converter needs is read: the first subgraph, tensor shapes/types/constant buffers and the
builtin options of the supported operators. Everything downstream works on :class:`Graph`, so tests can
build small graphs by hand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_NUMPY_TYPES = {"FLOAT32": np.float32, "FLOAT16": np.float16, "INT32": np.int32, "INT64": np.int64,
                "UINT8": np.uint8, "INT8": np.int8}
_PADDING = {0: "SAME", 1: "VALID"}
_ACTIVATION = {0: "NONE", 1: "RELU", 3: "RELU6"}


@dataclass
class Tensor:
    """One tensor: ``shape`` as in the file (NHWC for images), ``data`` for constants (else None)."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    data: np.ndarray | None = None


@dataclass
class Operator:
    """One operator: builtin name (e.g. ``CONV_2D``), tensor indices and its options as a dict."""

    op: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    """A dataflow graph in topological order (as TFLite stores it)."""

    tensors: list[Tensor]
    operators: list[Operator]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def tensor_by_name(self, name: str) -> Tensor:
        for t in self.tensors:
            if t.name == name:
                return t
        raise KeyError(f"graph has no tensor named {name!r}")


def _import_tflite():
    try:
        import tflite  # noqa: PLC0415
    except ImportError:
        raise ImportError("reading TFLite files needs the `tflite` package: pip install tflite") from None
    return tflite


def _enum_names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


def _options(tfl, name: str, op) -> dict[str, Any]:
    table = op.BuiltinOptions()
    if table is None:
        return {}
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        o = tfl.Conv2DOptions() if name == "CONV_2D" else tfl.DepthwiseConv2DOptions()
        o.Init(table.Bytes, table.Pos)
        d = {"padding": _PADDING[o.Padding()], "stride": (o.StrideH(), o.StrideW()),
             "dilation": (o.DilationHFactor(), o.DilationWFactor()),
             "activation": _ACTIVATION.get(o.FusedActivationFunction(), o.FusedActivationFunction())}
        if name == "DEPTHWISE_CONV_2D":
            d["depth_multiplier"] = o.DepthMultiplier()
        return d
    if name == "ADD":
        o = tfl.AddOptions()
        o.Init(table.Bytes, table.Pos)
        return {"activation": _ACTIVATION.get(o.FusedActivationFunction(), o.FusedActivationFunction())}
    if name in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        o = tfl.Pool2DOptions()
        o.Init(table.Bytes, table.Pos)
        return {"padding": _PADDING[o.Padding()], "stride": (o.StrideH(), o.StrideW()),
                "filter": (o.FilterHeight(), o.FilterWidth()),
                "activation": _ACTIVATION.get(o.FusedActivationFunction(), o.FusedActivationFunction())}
    if name == "RESIZE_BILINEAR":
        o = tfl.ResizeBilinearOptions()
        o.Init(table.Bytes, table.Pos)
        return {"align_corners": bool(o.AlignCorners()), "half_pixel_centers": bool(o.HalfPixelCenters())}
    return {}


def read_tflite(path: str | os.PathLike) -> Graph:
    """The first subgraph of the TFLite file at ``path``."""
    path = Path(path)
    tfl = _import_tflite()
    buf = path.read_bytes()
    try:
        model = tfl.Model.GetRootAsModel(buf, 0)
        sub = model.Subgraphs(0)
    except Exception as exc:  # noqa: BLE001 - flatbuffers raises assorted errors on garbage
        raise ValueError(f"{path} is not a readable TFLite model: {exc}") from None
    if sub is None:
        raise ValueError(f"{path}: TFLite model has no subgraph")
    op_names = _enum_names(tfl.BuiltinOperator)
    type_names = _enum_names(tfl.TensorType)
    codes = []
    for i in range(model.OperatorCodesLength()):
        oc = model.OperatorCodes(i)
        codes.append(op_names.get(max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode()), f"CODE_{oc.BuiltinCode()}"))
    tensors = []
    for i in range(sub.TensorsLength()):
        t = sub.Tensors(i)
        dtype = type_names.get(t.Type(), str(t.Type()))
        shape = tuple(int(s) for s in t.ShapeAsNumpy()) if t.ShapeLength() else ()
        data = None
        b = model.Buffers(t.Buffer())
        if b is not None and b.DataLength() > 0:
            if dtype not in _NUMPY_TYPES:
                raise ValueError(f"{path}: constant tensor {i} ({t.Name().decode()}) has unsupported type {dtype}")
            data = np.frombuffer(b.DataAsNumpy().tobytes(), dtype=_NUMPY_TYPES[dtype]).reshape(shape).copy()
        tensors.append(Tensor(i, t.Name().decode(errors="replace"), shape, dtype, data))
    operators = []
    for i in range(sub.OperatorsLength()):
        op = sub.Operators(i)
        name = codes[op.OpcodeIndex()]
        operators.append(Operator(name, tuple(int(x) for x in op.InputsAsNumpy()),
                                  tuple(int(x) for x in op.OutputsAsNumpy()), _options(tfl, name, op)))
    return Graph(tensors, operators, tuple(int(x) for x in sub.InputsAsNumpy()),
                 tuple(int(x) for x in sub.OutputsAsNumpy()))
