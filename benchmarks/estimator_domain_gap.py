"""The domain gap of checkpoints: AP@0.6 on the synthetic source validation set and on each target domain.

Run from the repo root::

    .venv/bin/python benchmarks/estimator_domain_gap.py
        [--checkpoints vatl/assets/default_cpu_small.pt vatl/assets/fastpose_cpu_small.pt] [--root runs/synthetic]
        [--threads 1]

Default checkpoints: the embedded ones (SimpleBaseline ``cpu_small``, and FastPose ``fastpose_cpu_small``
when present). The benchmark set is generated under ``--root`` if missing (``vatl synth --benchmark-set``,
seed 0); each checkpoint must have been trained on exactly its source set (annotations fingerprint).
Per video: raw COCO keypoint AP (ground-truth boxes, one prediction per person, score = mean joint
confidence) at OKS 0.6 and averaged over 0.5:0.95; per domain: the mean over its videos (as the paper
averages per-video AP). Writes docs/domain_gap.md and benchmarks/results/estimator_domain_gap.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from vatl.data.annotations import Predictions
from vatl.data.formats import load_video
from vatl.data.synthetic import BENCHMARK_SET, annotation_files, generate_benchmark_set
from vatl.estimator.checkpoint import DEFAULT_CHECKPOINT, load_checkpoint, read_checkpoint
from vatl.estimator.estimate import estimate
from vatl.estimator.fastpose import EMBEDDED_CHECKPOINT as FASTPOSE_CHECKPOINT
from vatl.fileio import write_atomic, write_json
from vatl.metrics import correct_percent
from vatl.metrics.ap import evaluate_video

REPO = Path(__file__).resolve().parents[1]
OUT_JSON = REPO / "benchmarks" / "results" / "estimator_domain_gap.json"
OUT_MD = REPO / "docs" / "domain_gap.md"


def evaluate_subset(model, files: list[Path], flip_test: bool = False, oks_theta: float | None = None) -> dict:
    """Per-video zero-shot AP of ``model`` on ``files`` and their mean; with ``oks_theta``, also the share of
    poses with OKS above it (``OKS>θ``)."""
    keys = ["AP@0.6", "AP@0.5", "AP"] + ([f"OKS>{oks_theta:g}"] if oks_theta is not None else [])
    per_video = []
    for f in files:
        video = load_video(f)
        kp = estimate(model, video, flip_test=flip_test).keypoints
        raw = evaluate_video(video, Predictions.from_keypoints(kp))["raw"]
        row = {"video": video.name, "samples": video.num_samples, "AP@0.6": raw["AP@0.6"], "AP@0.5": raw["AP@0.5"],
               "AP": raw["AP"]}
        if oks_theta is not None:
            row[f"OKS>{oks_theta:g}"] = correct_percent(video, kp, oks_theta)
        per_video.append(row)
    mean = {k: float(np.mean([v[k] for v in per_video])) for k in keys}
    return {"videos": len(per_video), "samples": int(sum(v["samples"] for v in per_video)), **mean,
            "AP@0.6_min": float(min(v["AP@0.6"] for v in per_video)),
            "AP@0.6_max": float(max(v["AP@0.6"] for v in per_video)), "per_video": per_video}


def markdown(results: list[dict], seconds: float) -> str:
    """docs/domain_gap.md: one table with every checkpoint's rows side by side per domain, then how each was made."""
    names = ", ".join(f"`vatl/assets/{Path(r['checkpoint']).name}` ({r['backend']} `{r['model']}`)" for r in results)
    lines = [
        "# Domain gap of the embedded estimators",
        "",
        f"AP of the embedded CPU checkpoints — {names} — each pretrained on the synthetic source domain only, on "
        "the source validation set and on each target domain of the standard synthetic benchmark set, before any "
        "adaptation (zero-shot). Ground-truth boxes; per-video COCO keypoint AP (stock pycocotools through "
        "`vatl.metrics`), averaged over the videos of a domain; the min–max column is the spread of per-video "
        "AP@0.6. This table is measured by the script below with the current code; the training curves under "
        "each checkpoint are its own record, measured when it was trained (epoch seconds: wall time on the shared "
        "machine).",
        "",
        "| data | model | videos | samples | AP@0.6 | AP@0.6 min–max | AP@0.5 | AP (0.5:0.95) | AP@0.6 flip test |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for subset in results[0]["subsets"]:
        for result in results:
            row, flip = result["subsets"][subset], result["subsets_flip"].get(subset, {})
            lines.append(f"| {subset} | {result['backend']} `{result['model']}` | {row['videos']} | {row['samples']} | "
                         f"{row['AP@0.6']:.1f} | {row['AP@0.6_min']:.1f}–{row['AP@0.6_max']:.1f} | "
                         f"{row['AP@0.5']:.1f} | {row['AP']:.1f} | {flip.get('AP@0.6', float('nan')):.1f} |")
    for result in results:
        lines += ["", *how_it_was_made(result)]
    lines += [
        "",
        "Regenerate this page: `.venv/bin/python benchmarks/estimator_domain_gap.py` "
        f"({seconds:.0f} s on this machine).",
        "",
    ]
    return "\n".join(lines)


def how_it_was_made(result: dict) -> list[str]:
    rec = result["checkpoint_record"]
    exported = "the best validation epoch exported" if "--export-from best" in rec.get("command", "") else \
        "the last one exported (no model selection on the validation set"
    return [
        f"## How `{Path(result['checkpoint']).name}` was made",
        "",
        f"- command: `{rec.get('command', '?')}`",
        f"- seed: {rec.get('seed', '?')}; epochs: {rec.get('epochs', '?')}, {exported}; best validation epoch: "
        f"{rec.get('best_epoch', '?')}); training samples: {rec.get('train_samples', '?')} from "
        f"{rec.get('train_videos', '?')} videos (annotations sha256 "
        f"`{str(rec.get('train_annotations_sha256', '?'))[:16]}…`); torch {rec.get('torch', '?')}, "
        f"threads {rec.get('threads', '?')}; {sum(h['seconds'] for h in rec.get('history', [])) / 60:.0f} min of "
        "training and validation in total",
        "- data: the standard synthetic benchmark set, `vatl synth --benchmark-set --out runs/synthetic --seed 0` "
        "(`vatl pretrain` without DATA generates it there if missing)",
        f"- model: {result['backend']} `{result['model']}`, input {result['input_size'][0]}×{result['input_size'][1]}, "
        f"heatmaps {result['heatmap_size'][0]}×{result['heatmap_size'][1]}, {result['parameters']:,} parameters, "
        f"{result['feature_dim']}-d feature; stored as {result['stored_dtype']} "
        f"({result['file_bytes'] / 1e6:.1f} MB)",
        "",
        "Training curve (source validation set, every 5th epoch and the last):",
        "",
        "| epoch | train loss | lr | val AP@0.6 | val AP | seconds |",
        "|---:|---:|---:|---:|---:|---:|",
        *[f"| {h['epoch']} | {h['loss']:.6f} | {h['lr']:.2e} | {h.get('val_AP@0.6', float('nan')):.1f} | "
          f"{h.get('val_AP', float('nan')):.1f} | {h['seconds']:.0f} |"
          for h in rec.get("history", []) if h["epoch"] % 5 == 0 or h["epoch"] in (1, len(rec["history"]))],
    ]


def evaluate_checkpoint(path: Path, root: Path) -> dict:
    """Every subset of the benchmark set, with and without the flip test, for one checkpoint."""
    from vatl.commands.pretrain import files_sha256

    model = load_checkpoint(path)
    trained_on = model.record.get("train_annotations_sha256")
    now = files_sha256(annotation_files(root, "source/train"))
    if trained_on != now:
        raise SystemExit(f"the synthetic source set under {root} is not the one {path} was trained on "
                         f"(annotations sha256 {now[:16]}… vs {str(trained_on)[:16]}…): the generator changed; "
                         "retrain with the command in the checkpoint's record")
    keys = ["source/val"] + [s.key for s in BENCHMARK_SET if s.path.startswith("targets/")]
    subsets, subsets_flip = {}, {}
    for key in keys:
        files = annotation_files(root, key)
        name = "source (val)" if key == "source/val" else key.split("/")[1]
        subsets[name] = evaluate_subset(model, files, flip_test=False)
        subsets_flip[name] = {k: v for k, v in evaluate_subset(model, files, flip_test=True).items()
                              if k != "per_video"}
        print(f"{model.config.name:20s} {name:14s} AP@0.6 {subsets[name]['AP@0.6']:5.1f}  "
              f"(flip test {subsets_flip[name]['AP@0.6']:5.1f})  AP {subsets[name]['AP']:5.1f}")
    state = read_checkpoint(path)["state_dict"]
    dtypes = sorted({str(v.dtype).replace("torch.", "") for v in state.values() if v.is_floating_point()})
    return {"checkpoint": str(path), "checkpoint_record": model.record, "backend": model.model_type,
            "model": model.config.name, "input_size": list(model.input_size), "heatmap_size": list(model.heatmap_size),
            "parameters": sum(p.numel() for p in model.parameters()), "feature_dim": model.feature_dim,
            "stored_dtype": "/".join(dtypes), "file_bytes": path.stat().st_size,
            "subsets": subsets, "subsets_flip": subsets_flip}


def kept_section(path: Path) -> str:
    """The page's paper-regime section (written by ``benchmarks/paper_regime_domain_gap.py``), kept as it is."""
    from paper_regime_domain_gap import BEGIN, END

    page = path.read_text() if path.is_file() else ""
    if BEGIN not in page or END not in page:
        return ""
    return "\n" + BEGIN + page.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=Path, nargs="+",
                        default=[p for p in (DEFAULT_CHECKPOINT, FASTPOSE_CHECKPOINT) if p.is_file()])
    parser.add_argument("--root", type=Path, default=REPO / "runs" / "synthetic")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out-json", type=Path, default=OUT_JSON)
    parser.add_argument("--out-md", type=Path, default=OUT_MD)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    generate_benchmark_set(args.root, seed=0)
    results = [evaluate_checkpoint(path, args.root) for path in args.checkpoints]
    seconds = time.perf_counter() - start
    write_json(args.out_json, {"checkpoints": results, "seconds": seconds}, indent=2)
    write_atomic(args.out_md, markdown(results, seconds) + kept_section(args.out_md))
    print(f"written {args.out_md} and {args.out_json}")


if __name__ == "__main__":
    main()
