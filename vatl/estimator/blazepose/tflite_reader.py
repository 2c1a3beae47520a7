"""Parse a TFLite flatbuffer into a plain :class:`Graph` (tensors with constant data, operators with
their options), using the ``tflite`` schema package from PyPI (``pip install tflite``).

Only what the converter needs is read: the first subgraph, tensor shapes/types/constant buffers and the
builtin options of the supported operators. Constants stored sparse (TFLite's ``SparsityParameters``: dense
and CSR dimensions, as BlazePose's person detector keeps 38 fp16 weight tensors) are densified on reading
(:func:`densify`), so :attr:`Tensor.data` always has the tensor's shape. Everything downstream works on
:class:`Graph`, so tests can build small graphs by hand.
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
    sparse: bool = False  # the file stored ``data`` sparse (densified on reading)


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
    if name == "CONCATENATION":
        o = tfl.ConcatenationOptions()
        o.Init(table.Bytes, table.Pos)
        return {"axis": o.Axis(),
                "activation": _ACTIVATION.get(o.FusedActivationFunction(), o.FusedActivationFunction())}
    if name == "DEPTH_TO_SPACE":
        o = tfl.DepthToSpaceOptions()
        o.Init(table.Bytes, table.Pos)
        return {"block_size": o.BlockSize()}
    if name == "RESIZE_BILINEAR":
        o = tfl.ResizeBilinearOptions()
        o.Init(table.Bytes, table.Pos)
        return {"align_corners": bool(o.AlignCorners()), "half_pixel_centers": bool(o.HalfPixelCenters())}
    return {}


@dataclass
class CsrDimension:
    """A SPARSE_CSR dimension of a sparse tensor: for each position p of the dimensions before it (flattened),
    entries ``segments[p]:segments[p + 1]`` of the stored values have coordinates ``indices[...]`` here."""

    segments: np.ndarray
    indices: np.ndarray


def densify(values: np.ndarray, shape: tuple[int, ...], dims: list[int | CsrDimension],
            traversal_order: tuple[int, ...] | None = None) -> np.ndarray:
    """The dense array of ``shape`` holding a sparse tensor's stored ``values`` (V,).

    ``dims``: per dimension in traversal order, its dense size (int) or its :class:`CsrDimension`.
    Only the identity traversal order without block dimensions is supported (what TFLite's converter
    writes for sparse convolution weights); anything else is a ValueError.
    """
    rank = len(shape)
    if traversal_order is not None and tuple(traversal_order) != tuple(range(rank)):
        raise ValueError(f"sparse tensor with traversal order {tuple(traversal_order)} (block sparsity) is not supported")
    if len(dims) != rank:
        raise ValueError(f"sparse tensor of rank {rank} has metadata for {len(dims)} dimensions")
    coords = np.zeros((1, 0), dtype=np.int64)  # (P, levels so far): coordinates of each position
    pos = np.zeros(1, dtype=np.int64)  # (P,) position ids that index the next CSR segments
    for level, dim in enumerate(dims):
        if isinstance(dim, CsrDimension):
            seg = np.asarray(dim.segments, dtype=np.int64)
            if len(seg) < int(pos.max(initial=-1)) + 2 or np.any(np.diff(seg) < 0) or seg[-1] > len(dim.indices):
                raise ValueError(f"sparse tensor: CSR segments of dimension {level} do not fit its {len(pos)} rows")
            counts = seg[pos + 1] - seg[pos]
            starts = np.repeat(seg[pos], counts)
            offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            pos = starts + offsets
            new = np.asarray(dim.indices, dtype=np.int64)[pos]
            coords = np.concatenate([np.repeat(coords, counts, axis=0), new[:, None]], axis=1)
        else:
            n = int(dim)
            if n != shape[level]:
                raise ValueError(f"sparse tensor: dense size {n} of dimension {level} is not the shape's {shape[level]}")
            coords = np.concatenate([np.repeat(coords, n, axis=0), np.tile(np.arange(n), len(pos))[:, None]], axis=1)
            pos = (pos[:, None] * n + np.arange(n)[None, :]).reshape(-1)
    if len(coords) != len(values):
        raise ValueError(f"sparse tensor: {len(values)} stored values for {len(coords)} positions")
    if len(coords) and np.any(coords >= np.asarray(shape)):
        raise ValueError(f"sparse tensor: an index lies outside the shape {shape}")
    dense = np.zeros(shape, dtype=values.dtype)
    dense[tuple(coords.T)] = values
    return dense


def _index_vector(tfl, kind: int, table) -> np.ndarray:
    """A ``SparseIndexVector`` union member as an int64 array."""
    names = _enum_names(tfl.SparseIndexVector)
    name = names.get(kind)
    if name not in ("Int32Vector", "Uint16Vector", "Uint8Vector") or table is None:
        raise ValueError(f"unsupported sparse index vector type {name or kind}")
    vec = getattr(tfl, name)()
    vec.Init(table.Bytes, table.Pos)
    return vec.ValuesAsNumpy().astype(np.int64) if vec.ValuesLength() else np.zeros(0, dtype=np.int64)


def _sparse_dims(tfl, sparsity) -> tuple[tuple[int, ...], list[int | CsrDimension]]:
    """(traversal order, per-dimension metadata) of a tensor's ``SparsityParameters``."""
    if sparsity.BlockMapLength():
        raise ValueError("block-sparse tensors are not supported")
    order = tuple(int(v) for v in sparsity.TraversalOrderAsNumpy()) if sparsity.TraversalOrderLength() else ()
    dims: list[int | CsrDimension] = []
    csr = _enum_names(tfl.DimensionType)
    for d in range(sparsity.DimMetadataLength()):
        m = sparsity.DimMetadata(d)
        if csr.get(m.Format()) == "SPARSE_CSR":
            dims.append(CsrDimension(_index_vector(tfl, m.ArraySegmentsType(), m.ArraySegments()),
                                     _index_vector(tfl, m.ArrayIndicesType(), m.ArrayIndices())))
        else:
            dims.append(int(m.DenseSize()))
    return order, dims


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
            values = np.frombuffer(b.DataAsNumpy().tobytes(), dtype=_NUMPY_TYPES[dtype])
            if t.Sparsity() is not None:
                try:
                    order, dims = _sparse_dims(tfl, t.Sparsity())
                    data = densify(values, shape, dims, order)
                except ValueError as exc:
                    raise ValueError(f"{path}: constant tensor {i} ({t.Name().decode()}): {exc}") from None
            else:
                data = values.reshape(shape).copy()
        tensors.append(Tensor(i, t.Name().decode(errors="replace"), shape, dtype, data, t.Sparsity() is not None))
    operators = []
    for i in range(sub.OperatorsLength()):
        op = sub.Operators(i)
        name = codes[op.OpcodeIndex()]
        operators.append(Operator(name, tuple(int(x) for x in op.InputsAsNumpy()),
                                  tuple(int(x) for x in op.OutputsAsNumpy()), _options(tfl, name, op)))
    return Graph(tensors, operators, tuple(int(x) for x in sub.InputsAsNumpy()),
                 tuple(int(x) for x in sub.OutputsAsNumpy()))
