"""Peak memory of the estimator pass as N grows: streamed crops (now) against a whole-video crop cache (before).

The video is synthetic: a handful of JPEG frames (``--size``, default 1280×720) written with OpenCV, and
a :class:`~vatl.data.video.Video` of ceil(N / 5) frames cycling over those files with ``--per-frame`` (5)
person boxes each (PoseTrack21 keypoint set). The model is the embedded default checkpoint, one torch
thread, batches of ``--batch-size`` (64, the ATL default), no consumers. Each (N, approach) runs in a fresh
subprocess that builds the video and loads the model, runs a one-sample warm-up pass (lazy library
set-up is not the pass's memory), then measures one pass:

* ``peak RSS`` = ``ru_maxrss`` after the pass − the RSS just before it (the process-wide peak, so it
  counts torch's buffers too);
* ``traced peak`` = the tracemalloc peak during the pass (numpy's buffers and Python objects; torch's own
  allocator is not traced).

Approaches: ``streamed`` is :func:`vatl.estimator.estimate.estimate` (frame order, crops cut per batch);
``cached`` is the pass as it was before: :meth:`CropCache.build` of every sample's context crop, then
batches in track-then-frame order sliced out of the cache.

Writes benchmarks/results/pass_memory.json and docs/results/pass_memory.md.

    .venv/bin/python benchmarks/pass_memory.py                      # N = 100, 1000, 3000, 10000 (a few minutes)
    .venv/bin/python benchmarks/pass_memory.py --sizes 1000 10000 --approaches streamed
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "pass_memory.json"
DOC = ROOT / "docs" / "results" / "pass_memory.md"
APPROACHES = ("streamed", "cached")
MB = 1e6


def write_frames(folder: Path, files: int, size: tuple[int, int], seed: int = 0) -> list[Path]:
    """``files`` JPEG images of ``size`` (W, H): smooth colour noise (decodes like a real frame)."""
    rng = np.random.default_rng(seed)
    w, h = size
    paths = []
    for j in range(files):
        small = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
        image = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        paths.append(folder / f"frame{j:02d}.jpg")
        cv2.imwrite(str(paths[-1]), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return paths


def synthetic_video(paths: list[Path], num_samples: int, per_frame: int, size: tuple[int, int]):
    """A Video of ceil(N / per_frame) frames cycling over ``paths``; track t walks right across the frames."""
    from vatl.data.video import Frame, Video
    from vatl.skeletons import POSETRACK21

    w, h = size
    num_frames = -(-num_samples // per_frame)
    frames = [Frame(path=paths[f % len(paths)], image_id=f, width=w, height=h) for f in range(num_frames)]
    frame_index = np.arange(num_samples) // per_frame
    track = np.arange(num_samples) % per_frame
    bw, bh = w / (2 * per_frame), h / 2
    x = (track * w / per_frame + (frame_index % 50) * 0.5) % (w - bw)
    boxes = np.stack([x, np.full(num_samples, h / 4), np.full(num_samples, bw), np.full(num_samples, bh)], axis=1)
    k = POSETRACK21.num_keypoints
    return Video(name=f"pass_memory_{num_samples}", keypoint_set=POSETRACK21, frames=frames,
                 frame_index=frame_index, track_id=track, boxes=boxes, keypoints=np.zeros((num_samples, k, 3)),
                 annotation_ids=np.arange(num_samples))


def cached_pass(model, video, batch_size: int) -> int:
    """The pass as it was before streaming: a whole-video context cache, batches in temporal order.
    Returns the cache's bytes."""
    import torch

    from vatl.estimator.crops import apply_affine
    from vatl.estimator.dataset import CropCache
    from vatl.estimator.heatmaps import decode_heatmaps

    n = video.num_samples
    cache = CropCache.build(video, model.input_size)
    keypoints = np.zeros((n, model.num_keypoints, 3))
    features = np.zeros((n, model.feature_dim), dtype=np.float32)
    model.eval()
    with torch.inference_mode():
        for idx in np.array_split(video.temporal_order(), int(np.ceil(n / batch_size))):
            heatmaps, feats = model(model.prepare(cache.input_crops(idx)))
            coords, maxvals = decode_heatmaps(heatmaps.float().numpy())
            keypoints[idx] = np.concatenate([apply_affine(cache.image_affine(idx, model.heatmap_size), coords),
                                             maxvals[..., None]], axis=2)
            features[idx] = feats.numpy()
    return cache.nbytes


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def measure(approach: str, num_samples: int, paths: list[Path], per_frame: int, size: tuple[int, int],
            batch_size: int) -> dict:
    """One pass in this (fresh) process; see the module docstring."""
    import torch

    from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint
    from vatl.estimator.estimate import estimate

    torch.set_num_threads(1)
    model = load_checkpoint(default_checkpoint_path())
    video = synthetic_video(paths, num_samples, per_frame, size)
    run = {"streamed": lambda v: estimate(model, v, batch_size=batch_size),
           "cached": lambda v: cached_pass(model, v, batch_size)}[approach]
    run(video.subset([0]))  # warm-up: one sample
    rss_before, maxrss_before = rss_bytes(), maxrss_bytes()
    tracemalloc.start()
    t0 = time.perf_counter()
    out = run(video)
    seconds = time.perf_counter() - t0
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    maxrss_after = maxrss_bytes()
    row = {"approach": approach, "samples": num_samples, "frames": len(video.frames),
           "peak_rss_MB": round((maxrss_after - rss_before) / MB, 1), "traced_peak_MB": round(traced_peak / MB, 1),
           "rss_before_MB": round(rss_before / MB, 1), "maxrss_before_MB": round(maxrss_before / MB, 1),
           "maxrss_after_MB": round(maxrss_after / MB, 1), "pass_seconds": round(seconds, 2)}
    if approach == "cached":
        row["cache_MB"] = round(out / MB, 1)
    return row


def run_child(args: argparse.Namespace, approach: str, n: int, paths: list[Path]) -> dict:
    cmd = [sys.executable, __file__, "--child", approach, str(n), "--per-frame", str(args.per_frame),
           "--size", str(args.size[0]), str(args.size[1]), "--batch-size", str(args.batch_size),
           "--frames", *map(str, paths)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{approach} N={n} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def decode_ms(path: Path, repeats: int = 20) -> float:
    """Mean milliseconds to decode one frame file as the pass does (:meth:`Frame.load`)."""
    from vatl.data.video import Frame

    frame = Frame(path=path, image_id=0)
    frame.load()
    t0 = time.perf_counter()
    for _ in range(repeats):
        frame.load()
    return 1e3 * (time.perf_counter() - t0) / repeats


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def table(rows: list[dict]) -> list[str]:
    by = {(r["approach"], r["samples"]): r for r in rows}
    sizes = sorted({r["samples"] for r in rows})
    lines = ["| N | frames | streamed: peak RSS (MB) | streamed: traced peak (MB) | streamed: s | "
             "cached: peak RSS (MB) | cached: traced peak (MB) | cached: crop cache (MB) | cached: s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sizes:
        s, c = by.get(("streamed", n), {}), by.get(("cached", n), {})
        frames = (s or c)["frames"]
        lines.append(f"| {n:,} | {frames:,} | {s.get('peak_rss_MB', '')} | {s.get('traced_peak_MB', '')} | "
                     f"{s.get('pass_seconds', '')} | {c.get('peak_rss_MB', '')} | {c.get('traced_peak_MB', '')} | "
                     f"{c.get('cache_MB', '')} | {c.get('pass_seconds', '')} |")
    return lines


def markdown(result: dict) -> str:
    m = result["machine"]
    return "\n".join([
        "# Estimator pass memory: streamed crops against a whole-video crop cache", "",
        f"Measured {result['date']} with `{result['command']}` (torch {m['torch']}, 1 thread, {m['cpus']} CPUs, "
        f"{m['processor']}). Machine load: `{result['uptime_before']}` before, `{result['uptime_after']}` after "
        "(the benchmark itself keeps one core busy; the rest is other people's jobs on the shared machine).", "",
        f"Synthetic video: {result['video']['files']} JPEG files of {result['video']['size'][0]}×"
        f"{result['video']['size'][1]} cycled over ceil(N / {result['video']['per_frame']}) frames, "
        f"{result['video']['per_frame']} boxes per frame, PoseTrack21 keypoints; the embedded default "
        f"checkpoint ({result['model']['input_size'][0]}×{result['model']['input_size'][1]} input), batches "
        f"of {result['batch_size']}, no consumers. Each cell is one pass in a fresh process after a one-sample "
        "warm-up. *Peak RSS*: `ru_maxrss` after the pass minus the RSS just before it (whole process, torch "
        "included). *Traced peak*: tracemalloc's peak during the pass (numpy buffers and Python objects, not "
        "torch's allocator). *streamed*: `estimate` now (frames in order, network input crops cut per batch). "
        "*cached*: the pass before (a context crop of every sample built first with `CropCache.build`, "
        "then batches sliced from it).", "",
        *table(result["results"]), "",
        *growth(result), "",
        f"Time: decoding one {result['video']['size'][0]}×{result['video']['size'][1]} frame takes "
        f"{result['video']['decode_ms_per_frame']} ms here, and a streamed pass decodes every frame each time "
        "(both columns above include one decoding of every frame; before, the memoised cache let later passes "
        "of a run skip it).", ""])


def growth(result: dict) -> list[str]:
    """Sentences comparing each approach's growth from the smallest to the largest N with what is kept."""
    lines = []
    per_sample_results = result["model"]["keypoints"] * 3 * 8 + result["model"]["feature_dim"] * 4
    for approach in APPROACHES:
        rows = sorted((r for r in result["results"] if r["approach"] == approach), key=lambda r: r["samples"])
        if len(rows) < 2:
            continue
        a, b = rows[0], rows[-1]
        dn = b["samples"] - a["samples"]
        kept = dn * per_sample_results / MB
        what = (f"the results arrays (keypoints float64 + features float32, {per_sample_results} bytes per "
                f"sample) grow by {kept:.1f} MB" if approach == "streamed" else
                f"the crop cache grows by {b['cache_MB'] - a['cache_MB']:.1f} MB and the results by {kept:.1f} MB")
        lines.append(f"- *{approach}*, N = {a['samples']:,} → {b['samples']:,}: peak RSS "
                     f"{a['peak_rss_MB']} → {b['peak_rss_MB']} MB, traced peak {a['traced_peak_MB']} → "
                     f"{b['traced_peak_MB']} MB; over these {dn:,} samples {what} (computed).")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 3000, 10000])
    parser.add_argument("--approaches", nargs="+", choices=APPROACHES, default=list(APPROACHES))
    parser.add_argument("--per-frame", type=int, default=5, help="person boxes per frame")
    parser.add_argument("--files", type=int, default=6, help="distinct JPEG files the frames cycle over")
    parser.add_argument("--size", type=int, nargs=2, default=[1280, 720], metavar=("W", "H"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--child", nargs=2, metavar=("APPROACH", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=Path, nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = (args.size[0], args.size[1])
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]), args.frames, args.per_frame, size,
                                 args.batch_size)))
        return

    import torch

    from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint

    model = load_checkpoint(default_checkpoint_path())
    before = uptime()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_frames(Path(tmp), args.files, size)
        frame_ms = decode_ms(paths[0])
        for n in args.sizes:
            for approach in args.approaches:
                row = run_child(args, approach, n, paths)
                rows.append(row)
                print(f"{approach:8s} N={n:6d}  peak RSS {row['peak_rss_MB']:8.1f} MB  traced peak "
                      f"{row['traced_peak_MB']:8.1f} MB  {row['pass_seconds']:6.1f} s", flush=True)
    result = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "benchmarks/pass_memory.py", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
                    "processor": platform.processor() or platform.machine()},
        "uptime_before": before, "uptime_after": uptime(),
        "video": {"files": args.files, "size": list(size), "per_frame": args.per_frame,
                  "decode_ms_per_frame": round(frame_ms, 2)},
        "model": {"checkpoint": default_checkpoint_path().name, "input_size": list(model.input_size),
                  "keypoints": model.num_keypoints,
                  "heatmap_size": list(model.heatmap_size), "feature_dim": model.feature_dim},
        "batch_size": args.batch_size, "threads": 1, "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(markdown(result))
    print("\n".join(table(rows)))
    print(f"written {args.out} and {args.doc}")


if __name__ == "__main__":
    main()
