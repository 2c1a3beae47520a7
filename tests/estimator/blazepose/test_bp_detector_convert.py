"""What BlazePose's person detector needs from the converter: sparse fp16 constants (CSR on the last axis,
DENSIFY), DEPTH_TO_SPACE and CONCATENATION, each against a NumPy reference of TFLite's NHWC semantics; and
the real detector against the reference TFLite runtime (ai-edge-litert) when both are available."""

import numpy as np
import pytest
import torch
from bp_testgraphs import GraphBuilder, ref_conv

from vatl.estimator.blazepose.convert import convert
from vatl.estimator.blazepose.fetch import cached_detector_path
from vatl.estimator.blazepose.tflite_reader import CsrDimension, densify, read_tflite


def csr_last_axis(dense):
    """(values, dims) of ``dense`` stored as TFLite does for conv weights: leading axes dense, last axis CSR."""
    rows = dense.reshape(-1, dense.shape[-1])
    segments, indices, values = [0], [], []
    for row in rows:
        nz = np.flatnonzero(row)
        indices.extend(nz.tolist())
        values.extend(row[nz].tolist())
        segments.append(len(indices))
    dims = [*dense.shape[:-1], CsrDimension(np.array(segments), np.array(indices))]
    return np.array(values, dtype=dense.dtype), dims


def test_densify_csr_on_the_last_axis():
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(5, 1, 1, 8)).astype(np.float16) * (rng.random((5, 1, 1, 8)) < 0.3)
    dense[2] = 0  # an empty row
    values, dims = csr_last_axis(dense)
    assert len(values) < dense.size
    assert np.array_equal(densify(values, dense.shape, dims), dense)


def test_densify_refuses_what_it_does_not_understand():
    values, dims = csr_last_axis(np.eye(3, dtype=np.float32).reshape(3, 1, 1, 3))
    with pytest.raises(ValueError, match="traversal order"):
        densify(values, (3, 1, 1, 3), dims, traversal_order=(0, 1, 2, 3, 4))
    with pytest.raises(ValueError, match="stored values"):
        densify(values[:-1], (3, 1, 1, 3), dims)
    bad = [*dims[:3], CsrDimension(np.array([0, 1, 2, 3]), np.array([0, 1, 7]))]
    with pytest.raises(ValueError, match="outside the shape"):
        densify(values, (3, 1, 1, 3), bad)


def test_sparse_fp16_weights_through_densify_and_dequantize():
    rng = np.random.default_rng(1)
    w = (rng.normal(size=(4, 1, 1, 6)) * (rng.random((4, 1, 1, 6)) < 0.5)).astype(np.float16)
    g = GraphBuilder()
    x = g.tensor((1, 5, 5, 6), "input_1")
    sparse = g.tensor(w.shape, data=w, dtype="FLOAT16")  # the reader has densified it already
    g.tensors[sparse].sparse = True
    dense16 = g.op("DENSIFY", [sparse], w.shape)
    w32 = g.op("DEQUANTIZE", [dense16], w.shape)
    y = g.op("CONV_2D", [x, w32, -1], (1, 5, 5, 4), "out", padding="SAME", stride=(1, 1), dilation=(1, 1),
             activation="NONE")
    module = convert(g.graph([x], [y]), {"out": y})
    inp = rng.normal(size=(1, 5, 5, 6)).astype(np.float32)
    got = module(torch.from_numpy(inp).permute(0, 3, 1, 2))["out"].permute(0, 2, 3, 1).detach().numpy()
    want = ref_conv(inp, w.astype(np.float32), None, 1, "SAME")
    assert np.allclose(got, want, atol=1e-4)


def ref_depth_to_space(x, b):
    """TensorFlow's DEPTH_TO_SPACE (NHWC, depth-column-row order)."""
    n, h, w, c = x.shape
    return x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * b, w * b, c // (b * b))


def test_depth_to_space_matches_tensorflow_order():
    rng = np.random.default_rng(2)
    g = GraphBuilder()
    x = g.tensor((1, 3, 4, 12), "input_1")
    y = g.op("DEPTH_TO_SPACE", [x], (1, 6, 8, 3), "out", block_size=2)
    inp = rng.normal(size=(1, 3, 4, 12)).astype(np.float32)
    got = convert(g.graph([x], [y]), {"out": y})(torch.from_numpy(inp).permute(0, 3, 1, 2))["out"]
    assert np.allclose(got.permute(0, 2, 3, 1).numpy(), ref_depth_to_space(inp, 2))
    # pixel_shuffle orders the channels the other way: the test would fail with it
    assert not np.allclose(torch.pixel_shuffle(torch.from_numpy(inp).permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1).numpy(),
                           ref_depth_to_space(inp, 2))


def test_concatenation_of_rank_3_and_rank_4_tensors():
    rng = np.random.default_rng(3)
    g = GraphBuilder()
    x = g.tensor((1, 4, 4, 6), "input_1")
    a = g.op("RESHAPE", [x, g.const(np.array([1, 16, 6], np.int32))], (1, 16, 6))
    b = g.op("RESHAPE", [x, g.const(np.array([1, 32, 3], np.int32))], (1, 32, 3))
    b2 = g.op("RESHAPE", [b, g.const(np.array([1, 16, 6], np.int32))], (1, 16, 6))
    rows = g.op("CONCATENATION", [a, b2], (1, 32, 6), "rows", axis=1, activation="NONE")
    chans = g.op("CONCATENATION", [x, x], (1, 4, 4, 12), "chans", axis=-1, activation="RELU")
    module = convert(g.graph([x], [rows, chans]), {"rows": rows, "chans": chans})
    inp = rng.normal(size=(1, 4, 4, 6)).astype(np.float32)
    out = module(torch.from_numpy(inp).permute(0, 3, 1, 2))
    flat = inp.reshape(1, 16, 6)
    assert np.allclose(out["rows"].numpy(), np.concatenate([flat, flat], axis=1))
    assert np.allclose(out["chans"].permute(0, 2, 3, 1).numpy(), np.maximum(np.concatenate([inp, inp], -1), 0))


@pytest.fixture(scope="module")
def detector_graph():
    if not cached_detector_path().is_file():
        pytest.skip("BlazePose's person detector is not cached (run `vatl blazepose fetch`; make setup does)")
    return read_tflite(cached_detector_path())


def test_the_real_detector_reads_with_38_sparse_weight_tensors(detector_graph):
    from collections import Counter

    ops = Counter(op.op for op in detector_graph.operators)
    assert ops["DENSIFY"] == 38 and ops["DEPTH_TO_SPACE"] == 3 and ops["CONCATENATION"] == 2
    sparse = [t for t in detector_graph.tensors if t.sparse]
    assert len(sparse) == 38 and all(t.data.shape == t.shape and t.dtype == "FLOAT16" for t in sparse)


def test_the_converted_detector_matches_the_reference_tflite_runtime(detector_graph):
    litert = pytest.importorskip("ai_edge_litert.interpreter", reason="the reference runtime (pip install "
                                                                      "ai-edge-litert, the test extra) is absent")
    from vatl.estimator.blazepose.detector import PersonDetectorNet

    net = PersonDetectorNet.from_graph(detector_graph)
    interp = litert.Interpreter(model_path=str(cached_detector_path()),
                                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    inp, outs = interp.get_input_details()[0], {o["name"]: o["index"] for o in interp.get_output_details()}
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:224, 0:224]
    smooth = np.stack([np.sin(xx / 9.0), np.cos(yy / 13.0), np.sin((xx + yy) / 17.0)], -1)
    crops = np.stack([rng.integers(0, 256, (224, 224, 3)), (smooth + 1) * 127.5]).astype(np.uint8)
    boxes, scores = net.raw(crops)
    for b, crop in enumerate(crops):
        interp.set_tensor(inp["index"], (crop[None].astype(np.float32) / 127.5 - 1.0))
        interp.invoke()
        ref_boxes, ref_scores = interp.get_tensor(outs["Identity"])[0], interp.get_tensor(outs["Identity_1"])[0, :, 0]
        assert np.abs(boxes[b] - ref_boxes).max() <= 1e-3 * max(1.0, np.abs(ref_boxes).max())
        assert np.abs(scores[b] - ref_scores).max() <= 1e-3 * max(1.0, np.abs(ref_scores).max())
