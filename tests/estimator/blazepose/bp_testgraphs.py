"""Hand-built TFLite-like graphs and a NumPy reference of TFLite's NHWC semantics for the converter tests."""

from __future__ import annotations

import math

import numpy as np

from vatl.estimator.blazepose.tflite_reader import Graph, Operator, Tensor


class GraphBuilder:
    """Adds tensors and operators one by one; tensor ids are list positions."""

    def __init__(self) -> None:
        self.tensors: list[Tensor] = []
        self.operators: list[Operator] = []

    def tensor(self, shape, name=None, data=None, dtype="FLOAT32") -> int:
        i = len(self.tensors)
        self.tensors.append(Tensor(i, name or f"t{i}", tuple(shape), dtype, data))
        return i

    def const(self, data: np.ndarray, fp16: bool = False) -> int:
        """A constant; with ``fp16`` stored as float16 behind a DEQUANTIZE (as in BlazePose)."""
        if not fp16:
            return self.tensor(data.shape, data=data, dtype=str(data.dtype).upper())
        raw = self.tensor(data.shape, data=data.astype(np.float16), dtype="FLOAT16")
        out = self.tensor(data.shape)
        self.operators.append(Operator("DEQUANTIZE", (raw,), (out,)))
        return out

    def op(self, name, inputs, out_shape, out_name=None, **options) -> int:
        out = self.tensor(out_shape, out_name)
        self.operators.append(Operator(name, tuple(inputs), (out,), options))
        return out

    def graph(self, inputs, outputs) -> Graph:
        return Graph(self.tensors, self.operators, tuple(inputs), tuple(outputs))


def same_pad(size, k, s):
    out = math.ceil(size / s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def ref_conv(x, w, b, stride, padding, act="NONE", depthwise=False):
    """NHWC conv, TFLite layout: w (O, kh, kw, I) or depthwise (1, kh, kw, C)."""
    n, h, wd, c = x.shape
    kh, kw = w.shape[1:3]
    if padding == "SAME":
        (pt, pb), (pl, pr) = same_pad(h, kh, stride), same_pad(wd, kw, stride)
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out_c = w.shape[3] if depthwise else w.shape[0]
    y = np.zeros((n, oh, ow, out_c))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]  # (n, kh, kw, c)
            if depthwise:
                y[:, i, j] = (patch * w[0]).sum(axis=(1, 2))
            else:
                y[:, i, j] = np.einsum("nhwc,ohwc->no", patch, w)
    y = y + (b if b is not None else 0)
    return activate(y, act)


def activate(y, act):
    if act == "RELU6":
        return np.clip(y, 0, 6)
    if act == "RELU":
        return np.maximum(y, 0)
    return y


def ref_maxpool(x, k, s):
    n, h, w, c = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    return np.stack([np.stack([x[:, i * s:i * s + k, j * s:j * s + k].max(axis=(1, 2)) for j in range(ow)], 1)
                     for i in range(oh)], 1)


def ref_resize_half_pixel(x, out_h, out_w):
    """Bilinear resize with half-pixel centres (TF half_pixel_centers=True), edges clamped."""
    n, h, w, c = x.shape

    def axis(out, size):
        src = (np.arange(out) + 0.5) * size / out - 0.5
        src = np.clip(src, 0, size - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, size - 1)
        return lo, hi, src - lo

    y0, y1, fy = axis(out_h, h)
    x0, x1, fx = axis(out_w, w)
    top = x[:, y0][:, :, x0] * (1 - fx)[None, None, :, None] + x[:, y0][:, :, x1] * fx[None, None, :, None]
    bot = x[:, y1][:, :, x0] * (1 - fx)[None, None, :, None] + x[:, y1][:, :, x1] * fx[None, None, :, None]
    return top * (1 - fy)[None, :, None, None] + bot * fy[None, :, None, None]
