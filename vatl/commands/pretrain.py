"""vatl pretrain: train a top-down heatmap estimator on a dataset folder (default: the synthetic source set)."""

from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
from pathlib import Path

from vatl.commands._args import nonnegative_float, nonnegative_int, positive_float, positive_int

HELP = "pretrain a heatmap pose estimator on a dataset folder (validation AP each epoch, resumable)"

DEFAULT_OUT = Path("runs/pretrain")
SYNTHETIC_ROOT = Path("runs/synthetic")  # the standard synthetic benchmark set (`vatl synth --benchmark-set`)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vatl.estimator.backends import preset_names
    from vatl.estimator.device import add_device_arguments
    from vatl.estimator.models import DEFAULT_PRESET
    from vatl.estimator.train import PRETRAIN_CONFIG

    parser.add_argument("data", nargs="?", default=None,
                        help="dataset: a root with posetrack_data/<split>/ or <split>/, a folder of annotation "
                             "JSONs, or one JSON (default: the synthetic benchmark's source set, "
                             f"{SYNTHETIC_ROOT}/source, generated if missing)")
    parser.add_argument("--split", default="train", help="training split under the root (default: train)")
    parser.add_argument("--val", default=None, help="validation dataset (default: DATA's --val-split)")
    parser.add_argument("--val-split", default="val", help="validation split under the root (default: val)")
    parser.add_argument("--no-val", action="store_true", help="skip validation")
    parser.add_argument("--max-val-videos", type=nonnegative_int, default=0, help="validate on the first N videos (0: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("--model", default=DEFAULT_PRESET, choices=preset_names(),
                        help="architecture preset (SimpleBaseline: cpu_small, simplebaseline_res*; FastPose: fastpose_*)")
    parser.add_argument("--init", type=Path, default=None,
                        help="start from this checkpoint (ours, SimpleBaseline, MMPose or AlphaPose FastPose) instead "
                             "of random weights")
    parser.add_argument("--epochs", type=nonnegative_int, default=30)
    parser.add_argument("--batch-size", type=positive_int, default=PRETRAIN_CONFIG.batch_size)
    parser.add_argument("--lr", type=positive_float, default=PRETRAIN_CONFIG.lr, help="backbone learning rate")
    parser.add_argument("--lr-multipliers", type=positive_float, nargs=3, default=list(PRETRAIN_CONFIG.lr_multipliers),
                        metavar=("BACKBONE", "HEAD", "FINAL"))
    parser.add_argument("--weight-decay", type=nonnegative_float, default=PRETRAIN_CONFIG.weight_decay)
    parser.add_argument("--gamma", type=positive_float, default=PRETRAIN_CONFIG.gamma, help="lr decay per epoch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-resume", action="store_true", help="start over even if OUT/last.pt exists")
    parser.add_argument("--export", type=Path, default=None,
                        help="also write the model, without optimizer state, here")
    parser.add_argument("--export-half", action="store_true", help="export the weights as float16 (half the size)")
    parser.add_argument("--export-from", choices=("final", "best"), default="final",
                        help="export the last epoch (default) or the epoch of best validation AP@0.6")
    add_device_arguments(parser)


def default_source_dataset(console) -> Path:
    """The synthetic benchmark's source set under ``runs/synthetic`` (generated there, seed 0, if missing)."""
    from vatl.data.synthetic import generate_benchmark_set

    with console.status(f"checking / generating the synthetic benchmark set in {SYNTHETIC_ROOT}"):
        made = [r for r in generate_benchmark_set(SYNTHETIC_ROOT, seed=0) if not r.skipped]
    if made:
        console.print(f"generated {len(made)} synthetic videos under {SYNTHETIC_ROOT}")
    return SYNTHETIC_ROOT / "source"


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from vatl.data.formats.discover import annotation_files
    from vatl.estimator.backends import build_preset
    from vatl.estimator.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
    from vatl.estimator.device import configure_threads, resolve_device
    from vatl.estimator.pretrain import TrainingSet, load_videos, pretrain, seed_everything
    from vatl.estimator.train import PRETRAIN_CONFIG, TrainConfig
    from vatl.fileio import ensure_folder

    console = Console()
    configure_threads(args.threads)
    device = resolve_device(args.device)
    ensure_folder(args.out)
    data = Path(args.data) if args.data else default_source_dataset(console)
    train_files = annotation_files(data, args.split)
    val_files: list[Path] = []
    if not args.no_val:
        try:
            val_files = annotation_files(Path(args.val) if args.val else data, args.val_split)
        except FileNotFoundError:
            if args.val:
                raise
            console.print(f"[yellow]no '{args.val_split}' split under {data}: training without validation")
        if val_files == train_files:
            console.print("[yellow]the validation files are the training files: validation is not held out")
        if args.max_val_videos > 0:
            val_files = val_files[:args.max_val_videos]

    config = TrainConfig(lr=args.lr, lr_multipliers=tuple(args.lr_multipliers), weight_decay=args.weight_decay,
                         gamma=args.gamma, batch_size=args.batch_size, sigma=PRETRAIN_CONFIG.sigma,
                         augmentation=PRETRAIN_CONFIG.augmentation)
    start = time.perf_counter()
    with console.status(f"reading {len(train_files)} training and {len(val_files)} validation videos"):
        train_videos = load_videos(train_files)
        val_videos = load_videos(val_files)
    keypoint_set = train_videos[0].keypoint_set
    seed_everything(args.seed)
    if args.init is not None:
        model = load_checkpoint(args.init, device=device, keypoint_set=keypoint_set)
    else:
        model = build_preset(args.model, keypoint_set, seed=args.seed)
    model.to(device)
    with console.status(f"decoding frames and cutting crops of {len(train_files)} training videos"):
        train = TrainingSet.from_videos(train_videos, model.input_size)
    console.print(f"[bold]vatl pretrain[/]: {model.config.name} {model.input_size[0]}×{model.input_size[1]} on "
                  f"{device}; {len(train)} training samples from {len(train_videos)} videos "
                  f"({train.cache.nbytes / 1e6:.0f} MB of crops, {time.perf_counter() - start:.0f} s), "
                  f"{len(val_videos)} validation videos → {args.out}")

    record = {"command": canonical_command(args, data), "argv": sys.argv[1:],
              "data": str(data), "train_files": [f.name for f in train_files],
              "val_files": [f.name for f in val_files], "model": model.config.name,
              "train_annotations_sha256": files_sha256(train_files),
              "init": str(args.init) if args.init else None, "torch": _torch_version(),
              "python": platform.python_version(), "threads": args.threads, "device": str(device)}

    progress = Progress(TextColumn("epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=console, transient=True)
    state = {"epoch": None, "task": None}

    def on_batch(done: int, total: int) -> None:
        if state["task"] is None:
            state["task"] = progress.add_task("train", total=total, epoch=state["epoch"])
        progress.update(state["task"], completed=done)

    def on_epoch(entry: dict) -> None:
        if state["task"] is not None:
            progress.remove_task(state["task"])
            state["task"] = None
        state["epoch"] = entry["epoch"] + 1
        val = f"  val AP@0.6 {entry['val_AP@0.6']:5.1f}  AP {entry['val_AP']:5.1f}" \
            if "val_AP@0.6" in entry else ""
        progress.console.print(f"epoch {entry['epoch']:3d}/{args.epochs}  loss {entry['loss']:.6f}  "
                               f"lr {entry['lr']:.2e}{val}  ({entry['seconds']:.0f} s)")

    resume = not args.no_resume
    if resume and (args.out / "last.pt").is_file():
        done = len(read_checkpoint(args.out / "last.pt").get("training", {}).get("history", []))
        console.print(f"resuming from {args.out / 'last.pt'} after epoch {done}")
        state["epoch"] = done + 1
    else:
        state["epoch"] = 1
    with progress:
        rec = pretrain(model, train, val_videos, config, args.epochs, args.out, seed=args.seed, resume=resume,
                       record=record, on_epoch=on_epoch, on_batch=on_batch)
    hist = rec["history"]
    best = rec.get("best_epoch")
    summary = f"done: {len(hist)} epochs, final loss {hist[-1]['loss']:.6f}" if hist else "done: no epoch run"
    if best:
        summary += f"; best val AP@0.6 {hist[best - 1]['val_AP@0.6']:.1f} at epoch {best}"
    console.print(summary + f"; checkpoints in {args.out}")
    if args.export is not None:
        source = args.out / ("best.pt" if args.export_from == "best" and best else "final.pt")
        exported = load_checkpoint(source)
        exported.record = {**read_checkpoint(source)["training"], "exported_from": str(source)}
        save_checkpoint(args.export, exported, half=args.export_half)
        console.print(f"exported {source} → {args.export} ({args.export.stat().st_size / 1e6:.2f} MB, "
                      f"{'float16' if args.export_half else 'float32'})")
    return 0


def canonical_command(args: argparse.Namespace, data: Path) -> str:
    """The command line with every training option spelled out (reproduces the run)."""
    parts = ["vatl", "pretrain", *([str(data)] if args.data else []), "--split", args.split, "--model", args.model,
             "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--lr", repr(args.lr),
             "--lr-multipliers", *(repr(float(m)) for m in args.lr_multipliers),
             "--weight-decay", repr(args.weight_decay), "--gamma", repr(args.gamma), "--seed", str(args.seed),
             "--device", args.device, "--out", str(args.out)]
    if args.no_val:
        parts.append("--no-val")
    else:
        parts += (["--val", str(args.val)] if args.val else []) + ["--val-split", args.val_split]
        if args.max_val_videos:
            parts += ["--max-val-videos", str(args.max_val_videos)]
    if args.init:
        parts += ["--init", str(args.init)]
    if args.threads:
        parts += ["--threads", str(args.threads)]
    if args.export:
        parts += ["--export", str(args.export), "--export-from", args.export_from]
        if args.export_half:
            parts.append("--export-half")
    return " ".join(shlex.quote(p) for p in parts)


def files_sha256(files: list[Path]) -> str:
    """One fingerprint of the annotation files' names and bytes (identifies the training data)."""
    import hashlib

    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()


def _torch_version() -> str:
    import torch

    return torch.__version__
