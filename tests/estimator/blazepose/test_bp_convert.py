"""The TFLite->PyTorch converter on a small hand-built graph using every supported operator, checked
against a NumPy implementation of TFLite's NHWC semantics."""

import numpy as np
import pytest
import torch
from bp_testgraphs import GraphBuilder, activate, ref_conv, ref_maxpool, ref_resize_half_pixel

from vatl.estimator.blazepose.convert import _same_pad, convert, graph_to_spec
from vatl.estimator.blazepose.tflite_reader import Operator


def build(rng):
    """input (1, 8, 8, 3) -> PAD -> CONV 3×3/2 VALID RELU6 -> DW 3×3/2 SAME -> ADD const -> RESIZE ×2 ->
    ADD skip RELU -> MAX_POOL 2/2 -> CONV 1×1 -> LOGISTIC -> RESHAPE (1, 2·2·5); weights fp16 + DEQUANTIZE."""
    g = GraphBuilder()
    x = g.tensor((1, 8, 8, 3), "input")
    w1 = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    b1 = rng.normal(size=4).astype(np.float32)
    w2 = rng.normal(size=(1, 3, 3, 4)).astype(np.float32)
    c = rng.normal(size=4).astype(np.float32)
    w3 = rng.normal(size=(5, 1, 1, 4)).astype(np.float32)
    pads = np.array([[0, 0], [1, 0], [1, 0], [0, 0]], dtype=np.int32)
    p = g.op("PAD", [x, g.const(pads)], (1, 9, 9, 3))
    y1 = g.op("CONV_2D", [p, g.const(w1, fp16=True), g.const(b1, fp16=True)], (1, 4, 4, 4),
              padding="VALID", stride=(2, 2), dilation=(1, 1), activation="RELU6")
    y2 = g.op("DEPTHWISE_CONV_2D", [y1, g.const(w2, fp16=True), -1], (1, 2, 2, 4),
              padding="SAME", stride=(2, 2), dilation=(1, 1), activation="NONE", depth_multiplier=1)
    y3 = g.op("ADD", [g.const(c), y2], (1, 2, 2, 4), activation="NONE")
    y4 = g.op("RESIZE_BILINEAR", [y3, g.const(np.array([4, 4], dtype=np.int32))], (1, 4, 4, 4),
              align_corners=False, half_pixel_centers=True)
    y5 = g.op("ADD", [y4, y1], (1, 4, 4, 4), activation="RELU")
    y6 = g.op("MAX_POOL_2D", [y5], (1, 2, 2, 4), padding="VALID", stride=(2, 2), filter=(2, 2), activation="NONE")
    y7 = g.op("CONV_2D", [y6, g.const(w3)], (1, 2, 2, 5), padding="VALID", stride=(1, 1), dilation=(1, 1),
              activation="NONE")
    y8 = g.op("LOGISTIC", [y7], (1, 2, 2, 5))
    y9 = g.op("RESHAPE", [y8, g.const(np.array([1, 20], dtype=np.int32))], (1, 20), "flat")
    weights = dict(w1=w1.astype(np.float16).astype(np.float32), b1=b1.astype(np.float16).astype(np.float32),
                   w2=w2.astype(np.float16).astype(np.float32), c=c, w3=w3)
    return g.graph([x], [y9, y5]), weights, (y5, y9)


def reference(x, w):
    p = np.pad(x, ((0, 0), (1, 0), (1, 0), (0, 0)))
    y1 = ref_conv(p, w["w1"], w["b1"], 2, "VALID", "RELU6")
    y2 = ref_conv(y1, w["w2"], None, 2, "SAME", depthwise=True)
    y3 = y2 + w["c"]
    y5 = activate(ref_resize_half_pixel(y3, 4, 4) + y1, "RELU")
    y7 = ref_conv(ref_maxpool(y5, 2, 2), w["w3"], None, 1, "VALID")
    return y5, (1 / (1 + np.exp(-y7))).reshape(len(x), -1)


def test_same_padding_matches_tflite_hand_values():
    # 8 px, 3×3, stride 2 -> 4 outputs need 9 px: 0 before, 1 after (the extra pixel goes last).
    assert _same_pad(8, 3, 2) == (0, 1)
    assert _same_pad(7, 3, 2) == (1, 1)
    assert _same_pad(8, 3, 1) == (1, 1)
    assert _same_pad(4, 1, 1) == (0, 0)


def test_converted_graph_matches_numpy_reference():
    rng = np.random.default_rng(0)
    graph, weights, (t5, t9) = build(rng)
    module = convert(graph, {"skip": t5, "flat": "flat"})
    x = rng.uniform(0, 1, size=(2, 8, 8, 3)).astype(np.float32)
    out = module(torch.from_numpy(x).permute(0, 3, 1, 2))
    ref5, ref9 = reference(x.astype(np.float64), weights)
    assert out["skip"].shape == (2, 4, 4, 4)  # NCHW
    np.testing.assert_allclose(out["skip"].permute(0, 2, 3, 1).detach().numpy(), ref5, atol=1e-4)
    np.testing.assert_allclose(out["flat"].detach().numpy(), ref9, atol=1e-5)


def test_weights_are_trainable_parameters_and_get_gradients():
    graph, _, (t5, t9) = build(np.random.default_rng(1))
    module = convert(graph, {"flat": t9})
    params = dict(module.named_parameters())
    # two convolutions with/without bias, one depthwise, one constant addend
    assert sorted(tuple(p.shape) for p in params.values()) == sorted(
        [(4, 3, 3, 3), (4,), (4, 1, 3, 3), (1, 4, 1, 1), (5, 4, 1, 1)])
    assert all(p.requires_grad for p in params.values())
    module(torch.rand(1, 3, 8, 8))["flat"].sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params.values())


def test_pruning_keeps_only_ancestors_of_requested_outputs():
    graph, _, (t5, _) = build(np.random.default_rng(2))
    spec, weights = graph_to_spec(graph, {"skip": t5})
    assert [s["type"] for s in spec["ops"]] == ["pad", "conv", "conv", "add", "resize", "add"]
    assert not any(k.startswith("ops.6") for k in weights)


def test_unsupported_operator_is_named():
    graph, _, (_, t9) = build(np.random.default_rng(3))
    graph.operators[-2] = Operator("SOFTMAX", graph.operators[-2].inputs, graph.operators[-2].outputs)
    with pytest.raises(NotImplementedError, match="SOFTMAX"):
        convert(graph, {"flat": t9})


def test_legacy_resize_sampling_is_refused():
    graph, _, (t5, _) = build(np.random.default_rng(4))
    resize = next(op for op in graph.operators if op.op == "RESIZE_BILINEAR")
    resize.options = {"align_corners": False, "half_pixel_centers": False}
    with pytest.raises(NotImplementedError, match="half_pixel_centers"):
        convert(graph, {"skip": t5})


def build_symmetric_pads(rng, pad_also_read_by_add: bool):
    """input (1, 6, 6, 2) -> PAD 1 on H and W -> DW 3×3 VALID RELU6 -> CONV 3×3 SAME (stride 1) [-> ADD of the
    padded input, which keeps the PAD a real op]."""
    g = GraphBuilder()
    x = g.tensor((1, 6, 6, 2), "input")
    w1 = rng.normal(size=(1, 3, 3, 2)).astype(np.float32)
    w2 = rng.normal(size=(2, 3, 3, 2)).astype(np.float32)
    p = g.op("PAD", [x, g.const(np.array([[0, 0], [1, 1], [1, 1], [0, 0]], dtype=np.int32))], (1, 8, 8, 2))
    y1 = g.op("DEPTHWISE_CONV_2D", [p, g.const(w1), -1], (1, 6, 6, 2), padding="VALID", stride=(1, 1),
              dilation=(1, 1), activation="RELU6", depth_multiplier=1)
    y2 = g.op("CONV_2D", [y1, g.const(w2), -1], (1, 6, 6, 2), padding="SAME", stride=(1, 1), dilation=(1, 1),
              activation="NONE")
    outputs = {"out": y2}
    if pad_also_read_by_add:
        outputs["sum"] = g.op("ADD", [p, p], (1, 8, 8, 2), activation="NONE")
    return g.graph([x], list(outputs.values())), (w1, w2), outputs


@pytest.mark.parametrize("shared", [False, True])
def test_symmetric_pads_are_folded_into_convolutions_with_the_same_numbers(shared):
    rng = np.random.default_rng(5)
    graph, (w1, w2), outputs = build_symmetric_pads(rng, shared)
    module = convert(graph, outputs)
    kinds = [type(op).__name__ for op in module.ops]
    convs = [op for op in module.ops if type(op).__name__ == "ConvOp"]
    if shared:  # the PAD's output is read by an ADD too: it stays a PAD, the depthwise conv reads it as is
        assert kinds[0] == "PadOp" and convs[0].conv.padding == (0, 0)
    else:  # no padded copy left: the convolutions pad themselves
        assert kinds[0] == "IdentityOp" and convs[0].conv.padding == (1, 1)
    assert convs[1].conv.padding == (1, 1) and not any(any(op.pad) for op in convs)
    x = rng.uniform(0, 1, size=(2, 6, 6, 2)).astype(np.float32)
    out = module(torch.from_numpy(x).permute(0, 3, 1, 2))
    padded = np.pad(x.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)))
    ref = ref_conv(ref_conv(padded, w1, None, 1, "VALID", "RELU6", depthwise=True), w2, None, 1, "SAME")
    np.testing.assert_allclose(out["out"].permute(0, 2, 3, 1).detach().numpy(), ref, atol=1e-5)
    if shared:
        np.testing.assert_allclose(out["sum"].permute(0, 2, 3, 1).numpy(), 2 * padded, atol=1e-6)
