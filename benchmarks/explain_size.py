"""What a 10^4-sample run keeps for `vatl explain`, and what saving it costs the run.

The video is :mod:`benchmarks.pass_memory`'s synthetic one (JPEG frames of ``--size`` cycled over
ceil(N / 5) frames, 5 moving person boxes each, PoseTrack21 keypoints) with N = ``--samples`` (10^4); the
model is the embedded default checkpoint, one torch thread, batches of 64.

1. The pass, as the default criterion (THC+WPU+DUW) streams it, with and without the explain consumers
   (LC, MPE, TPC besides the criterion's THC): ``--repeats`` passes each, medians.
2. The explain data of every cycle of the default schedule (5, 10, …, 100 %): the labeled set grows by
   the schedule (labels = the pass's predictions of random samples, as if accepted), the query is the
   next increment; :func:`vatl.explain.record.build_cycle` (WPU with its AE fine-tuned on the labels,
   heatmaps of the captured samples by one small forward, their crops) and
   :func:`~vatl.explain.record.save_cycle` are timed, and each file's size on disk is measured.
3. ``vatl explain``'s :func:`~vatl.explain.report.write_report` of the last cycle (this cycle's embedding
   only), with PCA, then with DensMAP twice when umap-learn is installed (the first call in a process
   includes numba's compilation).

Writes benchmarks/results/explain_size.json and docs/results/explain_size.md.

    .venv/bin/python benchmarks/explain_size.py                   # N = 10,000 (about 5 minutes)
    .venv/bin/python benchmarks/explain_size.py --samples 2000 --repeats 1
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from pass_memory import synthetic_video, uptime, write_frames  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "explain_size.json"
DOC = ROOT / "docs" / "results" / "explain_size.md"
MB = 1e6


class TimedConsumer:
    """A pass consumer that adds up the seconds its ``consume`` calls take."""

    def __init__(self, consumer) -> None:
        self.consumer, self.name, self.seconds = consumer, consumer.name, 0.0

    def consume(self, batch) -> None:
        t0 = time.perf_counter()
        self.consumer.consume(batch)
        self.seconds += time.perf_counter() - t0

    def scores(self):
        return self.consumer.scores()


def timed_pass(model, video, consumers, batch_size: int) -> tuple[float, object]:
    from vatl.estimator.estimate import estimate

    t0 = time.perf_counter()
    result = estimate(model, video, consumers, batch_size=batch_size)
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--per-frame", type=int, default=5)
    parser.add_argument("--size", type=int, nargs=2, default=(1280, 720), metavar=("W", "H"))
    parser.add_argument("--files", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render", action="store_true", help=f"only write {DOC.name} again from {OUT.name}")
    args = parser.parse_args()
    if args.render:
        DOC.write_text(markdown(json.loads(OUT.read_text())))
        return

    import torch
    from rich.progress import Progress

    from vatl.atl.schedule import DEFAULT_SCHEDULE, cumulative_targets
    from vatl.atl.session import cycle_rng
    from vatl.criteria import get_criterion
    from vatl.criteria.base import collect_scores
    from vatl.data.annotations import LabelStore
    from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint
    from vatl.explain.record import build_cycle, explain_consumers, save_cycle

    torch.set_num_threads(1)
    before = uptime()
    model = load_checkpoint(default_checkpoint_path())
    criterion = get_criterion("thc+wpu+duw")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_frames(folder, args.files, tuple(args.size))
        video = synthetic_video(paths, args.samples, args.per_frame, tuple(args.size))
        n = video.num_samples
        runs: dict[str, list[float]] = {"criterion only": [], "criterion + explain": []}
        consumer_seconds: dict[str, list[float]] = {}
        with Progress() as bar:
            task = bar.add_task("passes", total=2 * args.repeats)
            for _ in range(args.repeats):
                for name in runs:
                    own = [TimedConsumer(c) for c in criterion.pass_consumers(video)]
                    extra = ([TimedConsumer(c) for c in explain_consumers(video, own)]
                             if name != "criterion only" else [])
                    seconds, result = timed_pass(model, video, [*own, *extra], args.batch_size)
                    runs[name].append(seconds)
                    for c in extra:
                        consumer_seconds.setdefault(c.name, []).append(round(c.seconds, 2))
                    bar.advance(task)
            scores = collect_scores([*own, *extra])

            targets = cumulative_targets(n, DEFAULT_SCHEDULE)
            order = np.random.default_rng(0).permutation(n)  # the labeling order of this synthetic run
            cycles = []
            task = bar.add_task("cycles", total=len(targets))
            start = 0
            for c, target in enumerate(targets):
                labels = LabelStore()
                for i in order[:start]:
                    kp = result.keypoints[i].copy()
                    kp[:, 2] = 2.0
                    labels.add(int(i), kp, cycle=0)
                selected = order[start:target]
                t0 = time.perf_counter()
                data = build_cycle(c, video, model, result.keypoints, result.features, scores, labels,
                                   np.zeros(n, dtype=bool), selected, criterion="thc+wpu+duw", seed=0, max_gap=1,
                                   g_prev=None, wpu_rng=cycle_rng(0, c, 0), batch_size=args.batch_size)
                t_build = time.perf_counter() - t0
                path = folder / "explain" / f"cycle_{c:02d}.npz"
                t0 = time.perf_counter()
                save_cycle(path, data)
                t_save = time.perf_counter() - t0
                cycles.append({"cycle": c, "labeled": int(start), "selected": int(len(selected)),
                               "captured_crops": int(len(data.captured)),
                               "captured_heatmaps": int(len(data.heatmap_samples)),
                               "MB": round(path.stat().st_size / MB, 3), "build_s": round(t_build, 2),
                               "save_s": round(t_save, 2)})
                start = int(target)
                bar.advance(task)
            reports = time_reports(folder, n)
        k, (h, w), d = model.num_keypoints, model.heatmap_size[::-1], result.features.shape[1]
    medians = {name: round(statistics.median(v), 2) for name, v in runs.items()}
    total = sum(c["MB"] for c in cycles)
    out = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "benchmarks/explain_size.py" + ("" if len(sys.argv) == 1 else " " + " ".join(sys.argv[1:])),
        "machine": {"torch": torch.__version__, "cpus": os.cpu_count(), "processor": platform.machine()},
        "uptime_before": before, "uptime_after": uptime(),
        "video": {"samples": n, "frames": len(video.frames), "files": args.files, "size": list(args.size)},
        "model": {"keypoints": k, "heatmap": [w, h], "feature_dim": d},
        "pass_seconds": {name: v for name, v in runs.items()}, "pass_median_s": medians,
        "explain_consumer_seconds": consumer_seconds,
        "explain_consumer_median_s": {k: round(statistics.median(v), 2) for k, v in consumer_seconds.items()},
        "cycles": cycles, "total_MB": round(total, 2), "report_seconds": reports,
        "all_heatmaps_float16_MB_per_cycle": round(n * k * h * w * 2 / MB, 1),
    }
    text = markdown(out)
    print(text)
    if not args.no_write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(out, indent=1) + "\n")
        DOC.write_text(text)
        print(f"wrote {OUT} and {DOC}")


def time_reports(folder: Path, num_samples: int) -> dict[str, float]:
    """Seconds of write_report on the last saved cycle: PCA, then DensMAP twice (when installed)."""
    from vatl.explain.embedding import densmap_available
    from vatl.explain.report import write_report
    from vatl.fileio import write_json

    write_json(folder / "results.json", {"num_samples": num_samples, "config": {"theta": 0.6}, "cycles": []})
    out = {}
    for name, method in (("pca", "pca"), ("densmap, first in the process", "densmap"), ("densmap, again", "densmap")):
        if method == "densmap" and not densmap_available():
            continue
        t0 = time.perf_counter()
        write_report(folder, embedding=method, all_cycles=False)
        out[name] = round(time.perf_counter() - t0, 1)
    return out


def markdown(r: dict) -> str:
    c0 = r["cycles"][0]
    medians = r["pass_median_s"]
    overhead = medians["criterion + explain"] - medians["criterion only"]
    rows = [f"| {c['cycle']} | {c['labeled']:,} | {c['selected']:,} | {c['captured_crops']} | "
            f"{c['captured_heatmaps']} | {c['MB']:.2f} | {c['build_s']:.2f} | {c['save_s']:.2f} |" for c in r["cycles"]]
    return "\n".join([
        "# What a run keeps for `vatl explain`", "",
        f"Measured {r['date']} with `.venv/bin/python {r['command']}` (torch {r['machine']['torch']}, 1 thread, "
        f"{r['machine']['cpus']} CPUs, {r['machine']['processor']}). Machine load: `{r['uptime_before']}` before, "
        f"`{r['uptime_after']}` after (the benchmark keeps one core busy; the rest is other jobs on the shared "
        "machine).", "",
        f"Video: N = {r['video']['samples']:,} samples ({r['video']['frames']:,} frames of {r['video']['size'][0]}×"
        f"{r['video']['size'][1]}, 5 moving boxes each; `benchmarks/pass_memory.py`'s synthetic video); the embedded "
        f"default model: K = {r['model']['keypoints']}, heatmaps {r['model']['heatmap'][0]}×{r['model']['heatmap'][1]}, "
        f"D = {r['model']['feature_dim']}. Criterion THC+WPU+DUW, default schedule (9 cycles).", "",
        "## Size on disk", "",
        f"**One cycle: {c0['MB']:.2f} MB** (cycle 0); **the whole 9-cycle run: {r['total_MB']:.1f} MB** "
        f"(`<run>/explain/cycle_XX.npz`). Heatmaps of every sample would be {r['all_heatmaps_float16_MB_per_cycle']:,} "
        "MB per cycle in float16; the files keep them only for the captured samples.", "",
        "| cycle | labeled | selected | crops kept | heatmaps kept | file (MB) | build (s) | save (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|", *rows, "",
        "*build*: `build_cycle` — WPU (the AE fine-tuned on the labels, as the criterion does), one forward of the "
        "model over the samples whose heatmaps are kept, their crops cut from the frames, the true OKS; *save*: "
        "`save_cycle` (compressed .npz, atomic).", "",
        "## The extra consumers in the pass", "",
        f"Median of {len(r['pass_seconds']['criterion only'])} passes over the {r['video']['samples']:,} samples: "
        f"{medians['criterion only']:.2f} s with the criterion's own consumer (THC), {medians['criterion + explain']:.2f} s "
        f"with LC, MPE and TPC streamed too ({overhead:+.2f} s, {100 * overhead / medians['criterion only']:+.0f} %). "
        "All passes (s): criterion only " + ", ".join(f"{v:.1f}" for v in r["pass_seconds"]["criterion only"])
        + "; with explain " + ", ".join(f"{v:.1f}" for v in r["pass_seconds"]["criterion + explain"]) + ". "
        "Whole passes vary with the machine's load; the time spent inside the extra consumers' `consume` "
        "(median per pass) is less noisy: " + ", ".join(f"{k.upper()} {v:.2f} s" for k, v in
                                                 r.get("explain_consumer_median_s", {}).items())
        + f" ({sum(r.get('explain_consumer_median_s', {}).values()):.2f} s in all).", "",
        "## The report", "",
        "`write_report` of the last cycle (this cycle's embedding only, of the labeled and selected samples and "
        "a draw of the others, 5,000 in all when they are fewer): "
        + "; ".join(f"{k} {v:.1f} s" for k, v in r.get("report_seconds", {}).items()) + ".", ""])


if __name__ == "__main__":
    main()
