"""BlazePose training steps: this tree against an earlier revision, and where a step's time goes.

Run from the repo root: ``.venv/bin/python benchmarks/blazepose_training.py --checkpoint BLAZEPOSE.pt
[--before REV] [--repeats 5]``; writes benchmarks/results/blazepose_training.json and
docs/results/blazepose_training.md.

Each measurement is a fresh process (one torch thread) that loads the checkpoint with the code of this
tree or of a git worktree of ``--before`` and times ``Finetuner.step`` (prepare, forward, masked MSE,
backward, AdamW) on random 256×256 crops, batches of 8 and 32, after two warm-up steps; before and after
alternate within each repeat so that a change of the machine's load affects both alike. Then one
profiled step of this tree is split by operator kind (1×1 convolutions, depthwise convolutions' forward
and backward, elementwise activations, the rest), with the arithmetic rate of the 1×1 convolutions —
what bounds any further kernel-level gain on this CPU. Last, the AdamW update alone (one thread, median
of 50 steps): torch's default for CPU tensors (a per-tensor loop, what vatl uses) against torch's fused
implementation, for BlazePose and the embedded model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "blazepose_training.json"
DOC = REPO / "docs" / "results" / "blazepose_training.md"
BATCHES = (8, 32)


def warmed_finetuner(checkpoint: str, batch: int):
    """(model, Finetuner, step arguments) for random crops and targets of ``batch`` samples, after two
    warm-up steps; one torch thread. Imports vatl here, so that a worker's ``sys.path`` chooses the code."""
    import numpy as np
    import torch

    from vatl.estimator.checkpoint import load_checkpoint
    from vatl.estimator.train import Finetuner

    torch.set_num_threads(1)
    model = load_checkpoint(checkpoint)
    rng = np.random.default_rng(0)
    w, h = model.input_size
    hw, hh = model.heatmap_size
    images = rng.integers(0, 256, size=(batch, h, w, 3), dtype=np.uint8)
    targets = rng.uniform(0, 1, size=(batch, model.num_keypoints, hh, hw)).astype(np.float32)
    weights = np.ones((batch, model.num_keypoints), dtype=np.float32)
    ft = Finetuner(model)
    for _ in range(2):
        ft.step(images, targets, weights)
    return model, ft, (images, targets, weights)


def worker(root: str, checkpoint: str, batch: int, steps: int) -> None:
    """Print samples/s of ``steps`` training steps with the code under ``root`` (one JSON line)."""
    sys.path.insert(0, root)
    _, ft, step_args = warmed_finetuner(checkpoint, batch)
    t = time.perf_counter()
    for _ in range(steps):
        ft.step(*step_args)
    import vatl

    print(json.dumps({"samples_per_s": batch * steps / (time.perf_counter() - t), "vatl": vatl.__file__}))


def timed(root: Path, checkpoint: str, batch: int, steps: int) -> float:
    out = subprocess.run([sys.executable, __file__, "--worker", str(root), "--checkpoint", checkpoint,
                          "--batch", str(batch), "--steps", str(steps)],
                         capture_output=True, text=True, check=True, cwd=root)
    return json.loads(out.stdout.strip().splitlines()[-1])["samples_per_s"]


def kind_of(name: str) -> str | None:
    """The operator kind of a profiler row (``None``: counted under 'other')."""
    if name in ("aten::_slow_conv2d_forward", "aten::_slow_conv2d_backward"):
        # the only other dense convolution is the 3×3 stem: in this time, not in the FLOPs counted below
        return "1×1 convolutions (forward + backward)"
    if name == "aten::mkldnn_convolution":
        return "depthwise convolutions, forward"
    if name == "aten::convolution_backward":
        return "depthwise convolutions, backward"
    if name in ("aten::clamp", "aten::hardtanh_backward", "aten::hardtanh", "aten::relu", "aten::threshold_backward"):
        return "ReLU6 forward + backward"
    return None


def profile_step(checkpoint: str, batch: int) -> dict:
    """Self CPU time of one step of this tree by operator kind, and the 1×1 convolutions' GFLOP/s."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    model, ft, step_args = warmed_finetuner(checkpoint, batch)
    images = step_args[0]
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        ft.step(*step_args)
    kinds: dict[str, float] = {}
    total = 0.0
    for row in prof.key_averages():
        ms = row.self_cpu_time_total / 1000.0
        total += ms
        kind = kind_of(row.key) or "other (copies, pooling, resize, loss, optimizer, autograd)"
        kinds[kind] = kinds.get(kind, 0.0) + ms
    # multiply-adds of the 1×1 convolutions: forward, and twice that for the input and weight gradients
    flops, x = 0.0, model.prepare(images[:1])
    with torch.no_grad():
        values = model.graph.run(x, keep=[s["output"] for s in model.config.spec["ops"]])
    for s in model.config.spec["ops"]:
        if s["type"] == "conv" and s["kernel"] == [1, 1] and s["groups"] == 1:
            out = values[s["output"]]
            flops += 2 * batch * out.shape[2] * out.shape[3] * s["in_channels"] * s["out_channels"] * 3
    dense_ms = kinds.get("1×1 convolutions (forward + backward)", 0.0)
    sgemm = sgemm_rate()
    # A bound on kernel-level gains: the 1×1 convolutions at the square SGEMM rate and the depthwise
    # backward at twice its forward (two convolutions' work), everything else as measured.
    dw_fwd = kinds.get("depthwise convolutions, forward", 0.0)
    dw_bwd = kinds.get("depthwise convolutions, backward", 0.0)
    ideal = total - dense_ms + flops / 1e9 / sgemm * 1000.0 - dw_bwd + min(dw_bwd, 2 * dw_fwd)
    return {"batch": batch, "total_ms": round(total, 1),
            "kinds_ms": {k: round(v, 1) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])},
            "pointwise_gflops": round(flops / 1e9, 2),
            "pointwise_gflop_per_s": round(flops / 1e9 / (dense_ms / 1000.0), 1) if dense_ms else None,
            "sgemm_gflop_per_s": round(sgemm, 1), "bound_ms": round(ideal, 1),
            "bound_speedup": round(total / ideal, 2)}


def sgemm_rate(n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of an n×n float32 matrix product on one thread (median of ``repeats``)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / statistics.median(times) / 1e9


def optimizer_step_ms(checkpoint: str, steps: int = 50) -> dict[str, float]:
    """Milliseconds of one AdamW step over all of the checkpoint's parameters: per-tensor loop and fused."""
    import torch

    from vatl.estimator.checkpoint import load_checkpoint

    torch.set_num_threads(1)
    params = list(load_checkpoint(checkpoint).parameters())
    for p in params:
        p.grad = torch.randn_like(p)
    out = {}
    for name, fused in (("loop", None), ("fused", True), ("loop", None), ("fused", True)):
        optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.7, fused=fused)
        optimizer.step()
        times = []
        for _ in range(steps):
            t = time.perf_counter()
            optimizer.step()
            times.append(time.perf_counter() - t)
        out[name] = round(1000 * statistics.median(times), 2)  # the second (warm) measurement of each is kept
    return {"parameters": sum(p.numel() for p in params), **out}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="a BlazePose checkpoint (vatl blazepose convert)")
    parser.add_argument("--before", default=None, metavar="REV", help="git revision to compare with")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=8, help=argparse.SUPPRESS)
    args = parser.parse_args()
    checkpoint = str(Path(args.checkpoint).resolve())
    if args.worker:
        worker(args.worker, checkpoint, args.batch, args.steps)
        return 0
    roots = {"this tree": REPO}
    loads = [os.getloadavg()[0]]
    speeds: dict[str, dict[int, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.before:
            before = Path(tmp) / "before"
            subprocess.run(["git", "worktree", "add", "--detach", str(before), args.before], cwd=REPO, check=True,
                           capture_output=True)
            roots = {args.before: before, "this tree": REPO}
        try:
            for _ in range(args.repeats):
                for batch in BATCHES:
                    for name, root in roots.items():
                        speeds.setdefault(name, {}).setdefault(batch, []).append(
                            timed(root, checkpoint, batch, args.steps))
                loads.append(os.getloadavg()[0])
                print({n: {b: round(v[-1], 2) for b, v in s.items()} for n, s in speeds.items()}, flush=True)
        finally:
            if args.before:
                subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=REPO, check=True)
    medians = {n: {b: round(statistics.median(v), 2) for b, v in s.items()} for n, s in speeds.items()}
    prof = profile_step(checkpoint, 8)
    from vatl.estimator.checkpoint import default_checkpoint_path

    optimizer = {Path(c).name: optimizer_step_ms(c) for c in (checkpoint, str(default_checkpoint_path()))}
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "command": " ".join([".venv/bin/python benchmarks/blazepose_training.py", *sys.argv[1:]]),
              "repeats": args.repeats, "steps": args.steps, "threads": 1,
              "load_average_1min": {"min": min(loads), "median": statistics.median(loads), "max": max(loads)},
              "samples_per_s": medians, "samples_per_s_all": speeds, "profile": prof, "optimizer_ms": optimizer}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    DOC.write_text(report(result))
    print(DOC.read_text())
    return 0


def report(result: dict) -> str:
    la = result["load_average_1min"]
    names = list(result["samples_per_s"])
    lines = ["# BlazePose training steps", "",
             f"Measured {result['date']} with `{result['command']}`: a fresh process per measurement, one torch "
             f"thread, {result['steps']} steps after two warm-up steps, medians of {result['repeats']} interleaved "
             f"repeats; 1-minute load average {la['min']:.1f}–{la['max']:.1f} (median {la['median']:.1f}).", "",
             "| batch | " + " | ".join(f"{n} (samples/s)" for n in names) + (" | ratio |" if len(names) > 1 else " |"),
             "|---:|" + "---:|" * (len(names) + (len(names) > 1))]
    for batch in BATCHES:
        vals = [result["samples_per_s"][n][batch] for n in names]
        ratio = f" {vals[-1] / vals[0]:.2f} |" if len(names) > 1 else ""
        lines.append(f"| {batch} | " + " | ".join(f"{v:.2f}" for v in vals) + " |" + ratio)
    p = result["profile"]
    lines += ["", f"## Where one step of this tree goes (batch {p['batch']}, profiled, {p['total_ms']:.0f} ms self CPU)",
              "", "| operator kind | ms | share |", "|---|---:|---:|"]
    for kind, ms in p["kinds_ms"].items():
        lines.append(f"| {kind} | {ms:.0f} | {100 * ms / p['total_ms']:.0f} % |")
    lines += ["", f"The 1×1 convolutions do {p['pointwise_gflops']} GFLOP per step (forward and both gradients) "
              f"at {p['pointwise_gflop_per_s']} GFLOP/s on one core; a square float32 matrix product runs at "
              f"{p['sgemm_gflop_per_s']} GFLOP/s here. Were the 1×1 convolutions at that rate and the depthwise "
              f"backward at twice its forward, with everything else as measured, a step would take "
              f"{p['bound_ms']:.0f} ms: at most {p['bound_speedup']}× faster than now from kernel-level work.", "",
              "## The AdamW update alone", "", "| checkpoint | parameters | per-tensor loop (ms) | fused (ms) | ratio |",
              "|---|---:|---:|---:|---:|"]
    for name, o in result["optimizer_ms"].items():
        lines.append(f"| {name} | {o['parameters']:,} | {o['loop']} | {o['fused']} | {o['loop'] / o['fused']:.1f} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
