"""Pretraining on a dataset folder: epochs over every labeled sample, validation AP, resumable checkpoints.

A dataset is a folder of per-video annotation JSONs in any format :func:`vatl.data.formats.load_video`
reads (PoseTrack21 ``posetrack_data/<split>``, the synthetic benchmark, JRDB, COCO with tracks).
Every epoch writes ``<out>/last.pt`` (model + optimizer + rng: a killed run resumes from it), keeps
``<out>/best.pt`` (best validation AP@0.6) and, at the end, ``<out>/final.pt`` (last epoch, no resume state).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vatl.data.annotations import Predictions
from vatl.data.video import Video
from vatl.estimator.checkpoint import read_checkpoint, save_checkpoint
from vatl.estimator.dataset import CropCache
from vatl.estimator.estimate import estimate
from vatl.estimator.models import PoseModel
from vatl.estimator.train import Finetuner, TrainConfig

log = logging.getLogger(__name__)


def load_videos(files: Sequence[Path]) -> list[Video]:
    """Read every file with :func:`vatl.data.formats.load_video`."""
    from vatl.data.formats import load_video

    return [load_video(f) for f in files]


@dataclass
class TrainingSet:
    """Labeled samples of several videos: their context crops and keypoints (M, K, 3)."""

    cache: CropCache
    keypoints: np.ndarray
    num_videos: int

    def __len__(self) -> int:
        return len(self.keypoints)

    @classmethod
    def from_videos(cls, videos: Sequence[Video], input_size: tuple[int, int]) -> TrainingSet:
        """Decode each video's frames once; samples without any labeled joint are left out."""
        if not videos:
            raise ValueError("no training videos")
        names = {v.keypoint_set.keypoints for v in videos}
        if len(names) != 1:
            raise ValueError("training videos use different keypoint sets: "
                             + ", ".join(sorted({v.keypoint_set.name for v in videos})))
        caches, keypoints = [], []
        for v in videos:
            keep = np.flatnonzero(v.visible.any(axis=1))
            if len(keep) == 0:
                continue
            sub = v.subset(keep)
            caches.append(CropCache.build(sub, input_size))
            keypoints.append(sub.keypoints)
        if not caches:
            raise ValueError("no labeled sample in the training videos")
        return cls(CropCache.concatenate(caches), np.concatenate(keypoints), len(videos))


def validation_ap(model: PoseModel, videos: Sequence[Video], batch_size: int = 64) -> dict[str, float]:
    """Mean over videos of the raw AP@0.6 and AP (0.5:0.95) of ``model`` (ground-truth boxes)."""
    from vatl.metrics.ap import evaluate_video

    ap60, ap = [], []
    for v in videos:
        if not v.has_ground_truth:
            continue
        result = estimate(model, v, batch_size=batch_size)
        raw = evaluate_video(v, Predictions.from_keypoints(result.keypoints))["raw"]
        ap60.append(raw["AP@0.6"])
        ap.append(raw["AP"])
    if not ap60:
        return {}
    return {"AP@0.6": float(np.mean(ap60)), "AP": float(np.mean(ap))}


# Record keys that identify the training data; a resumed run must see the same values.
FINGERPRINTS = ("train_annotations_sha256",)

EpochCallback = Callable[[dict[str, Any]], None]


def pretrain(model: PoseModel, train: TrainingSet, val_videos: Sequence[Video], config: TrainConfig, epochs: int,
             out_dir: str | os.PathLike, seed: int = 0, resume: bool = True, record: dict[str, Any] | None = None,
             on_epoch: EpochCallback | None = None, on_batch: Callable[[int, int], None] | None = None
             ) -> dict[str, Any]:
    """Train ``model`` for ``epochs`` epochs over ``train``, validating on ``val_videos`` after each.

    ``record`` (command, data, …) is stored in every checkpoint with the config, seed and per-epoch
    history. With ``resume`` and an existing ``<out_dir>/last.pt`` of the same model and training
    config, training continues after its last finished epoch with the saved optimizer and rng state
    (same seed → same result as an uninterrupted run). ``on_epoch(entry)`` gets each history entry.
    Returns the final training record.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    finetuner = Finetuner(model, config)
    rec: dict[str, Any] = {**(record or {}), "seed": seed, "epochs": epochs, "train_config": config.to_dict(),
                           "train_samples": len(train), "train_videos": train.num_videos,
                           "val_videos": len(val_videos), "history": []}
    last = out / "last.pt"
    if resume and last.is_file():
        data = read_checkpoint(last)
        if data.get("model_config") != model.config.to_dict() or data["training"].get("train_config") != config.to_dict():
            raise ValueError(f"{last} was written with another model or training config; "
                             "use another output folder or --no-resume")
        for key in FINGERPRINTS:
            if key in rec and key in data["training"] and rec[key] != data["training"][key]:
                raise ValueError(f"{last} was trained on other data ({key} differs: the dataset changed since); "
                                 "use another output folder or --no-resume")
        model.load_state_dict(data["state_dict"])
        finetuner.load_state_dict(data["resume"]["finetuner"])
        rng.bit_generator.state = data["resume"]["rng"]
        rec["history"] = list(data["training"]["history"])
        if "best_epoch" in data["training"]:
            rec["best_epoch"] = data["training"]["best_epoch"]
        log.info("resuming %s after epoch %d", last, len(rec["history"]))
    best = max((h.get("val_AP@0.6", -1.0) for h in rec["history"]), default=-1.0)
    indices = np.arange(len(train))
    for epoch in range(len(rec["history"]) + 1, epochs + 1):
        start = time.perf_counter()
        lr = finetuner.learning_rates["backbone"]
        (loss,) = finetuner.train_cache(train.cache, indices, train.keypoints, 1, rng, on_batch=on_batch)
        train_seconds = time.perf_counter() - start
        val = validation_ap(model, val_videos) if val_videos else {}
        entry = {"epoch": epoch, "loss": loss, "lr": lr, "train_seconds": round(train_seconds, 2),
                 "seconds": round(time.perf_counter() - start, 2), **{f"val_{k}": v for k, v in val.items()}}
        rec["history"].append(entry)
        resume_state = {"finetuner": finetuner.state_dict(), "rng": rng.bit_generator.state}
        save_checkpoint(last, model, rec, resume=resume_state)
        if val and val["AP@0.6"] > best:
            best = val["AP@0.6"]
            rec["best_epoch"] = epoch
            save_checkpoint(out / "best.pt", model, rec)
        if on_epoch is not None:
            on_epoch(entry)
    save_checkpoint(out / "final.pt", model, rec)
    model.record = rec
    return rec


def seed_everything(seed: int) -> None:
    """Seed torch (initialisation) for a reproducible run; data order uses its own numpy generator."""
    torch.manual_seed(seed)
