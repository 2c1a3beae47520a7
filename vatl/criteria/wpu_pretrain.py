"""Pretraining the WPU autoencoder on ground-truth poses, and checking it on held-out poses.

:func:`pretrain` reads every annotation JSON of one or more PoseTrack-layout folders (any format
:func:`vatl.data.formats.load_video` reads), keeps the poses with at least half of the labelable slots
labeled, holds out a fraction of the *videos* (not of the poses, so that held-out poses are unseen
motion), trains the AE (Adam, lr 1e-3) and reports on the held-out poses the WPU of the real poses
against corrupted copies of them (:func:`corrupt_poses`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from vatl.criteria.wpu import (
    PoseAutoencoder,
    label_features,
    new_autoencoder,
    reconstruction_error,
    train_autoencoder,
    trainable,
)
from vatl.data.formats.discover import annotation_files_of
from vatl.skeletons import KeypointSet

log = logging.getLogger(__name__)
CORRUPTIONS: tuple[str, ...] = ("swap_limbs", "displace")


def corrupt_poses(keypoints: np.ndarray, boxes: np.ndarray, keypoint_set: KeypointSet, kind: str,
                  rng: np.random.Generator, displacement: float = 0.25, joints: int = 3) -> np.ndarray:
    """Unnatural versions of labeled poses (N, K, 3) for checking an AE; v is kept.

    kind ``swap_limbs``: the elbow and wrist of one random side trade places with that side's knee and
    ankle. ``displace``: ``joints`` random labeled joints move by ``displacement`` × box height in a
    random direction. Needs the limb names of ``infer_angle_triples`` for ``swap_limbs``.
    """
    kp = np.array(keypoints, dtype=np.float64)
    n = len(kp)
    if kind == "swap_limbs":
        names = keypoint_set.keypoints
        sides = []
        for side in ("left", "right"):
            def slot(base: str, alt: str, side: str = side) -> int:
                for nm in (f"{side}_{base}", f"{side}_{alt}"):
                    if nm in names:
                        return names.index(nm)
                raise ValueError(f"keypoint set {keypoint_set.name!r} has no {side}_{base}")
            sides.append(([slot("elbow", "elbow"), slot("wrist", "hand")],
                          [slot("knee", "knee"), slot("ankle", "foot")]))
        choice = rng.integers(0, 2, size=n)
        for s, (arm, leg) in enumerate(sides):
            rows = np.flatnonzero(choice == s)
            a, b = kp[np.ix_(rows, arm)].copy(), kp[np.ix_(rows, leg)].copy()
            kp[np.ix_(rows, arm, [0, 1])] = b[..., :2]
            kp[np.ix_(rows, leg, [0, 1])] = a[..., :2]
        return kp
    if kind == "displace":
        labeled = kp[..., 2] > 0
        keys = np.where(labeled, rng.random(labeled.shape), -1.0)
        chosen = np.argsort(-keys, axis=1)[:, :joints]
        chosen_ok = np.take_along_axis(labeled, chosen, axis=1)
        angle = rng.uniform(0, 2 * np.pi, size=chosen.shape)
        step = displacement * np.asarray(boxes, dtype=np.float64)[:, 3:4]
        offset = np.stack([np.cos(angle), np.sin(angle)], axis=2) * (step * chosen_ok)[..., None]
        rows = np.repeat(np.arange(n)[:, None], chosen.shape[1], axis=1)
        kp[rows, chosen, :2] += offset
        return kp
    raise ValueError(f"unknown corruption {kind!r}; known: swap_limbs, displace")




@dataclass
class PoseSet:
    """Ground-truth poses of several videos: keypoints (P, K, 3), boxes (P, 4), video (P,) int."""

    keypoint_set: KeypointSet
    keypoints: np.ndarray
    boxes: np.ndarray
    video: np.ndarray
    names: list[str] = field(default_factory=list)

    def subset(self, mask: np.ndarray) -> PoseSet:
        return PoseSet(self.keypoint_set, self.keypoints[mask], self.boxes[mask], self.video[mask], self.names)


def load_poses(folders: Iterable[str | os.PathLike]) -> PoseSet:
    """The trainable ground-truth poses of every video in the folders (one keypoint set for all)."""
    from vatl.data.formats import load_video

    kps, boxes, vids, names = [], [], [], []
    keypoint_set: KeypointSet | None = None
    for i, path in enumerate(annotation_files_of(folders)):
        video = load_video(path)
        if keypoint_set is None:
            keypoint_set = video.keypoint_set
        elif video.keypoint_set.keypoints != keypoint_set.keypoints:
            raise ValueError(f"{path}: keypoint set {video.keypoint_set.name!r} differs from "
                             f"{keypoint_set.name!r} of the files before it")
        keep = trainable(video.keypoints, keypoint_set)
        kps.append(video.keypoints[keep])
        boxes.append(video.boxes[keep])
        vids.append(np.full(int(keep.sum()), i))
        names.append(path.stem)
    if keypoint_set is None:
        raise ValueError("no video read")
    return PoseSet(keypoint_set, np.concatenate(kps), np.concatenate(boxes), np.concatenate(vids), names)


@dataclass
class PretrainReport:
    """What :func:`pretrain` did and measured (all errors are mean WPU over held-out poses)."""

    train_poses: int
    heldout_poses: int
    train_videos: list[str]
    heldout_videos: list[str]
    epochs: int
    final_train_loss: float
    seconds: float
    heldout: dict[str, float]
    corrupted_higher: dict[str, float]
    ignored_slots: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"trained on {self.train_poses} poses of {len(self.train_videos)} videos, "
               f"{self.epochs} epochs, final loss {self.final_train_loss:.5f} ({self.seconds:.1f} s)",
               f"slots never labeled in training, ignored: {', '.join(self.ignored_slots) or 'none'}",
               f"held out: {self.heldout_poses} poses of {len(self.heldout_videos)} videos",
               f"{'poses':<12} {'mean WPU':>10} {'WPU > real':>11}"]
        for kind, value in self.heldout.items():
            share = self.corrupted_higher.get(kind)
            out.append(f"{kind:<12} {value:>10.5f} {'' if share is None else f'{100 * share:>10.1f}%'}")
        return out


def heldout_check(model: PoseAutoencoder, poses: PoseSet, seed: int = 0) -> tuple[dict[str, float], dict[str, float]]:
    """Mean WPU of real and corrupted poses, and the share of poses whose corrupted copy scores higher."""
    rng = np.random.default_rng(seed)
    ks, ignored = poses.keypoint_set, model.ignored_slots
    real = reconstruction_error(model, label_features(poses.keypoints, poses.boxes, ks, ignored))
    means, higher = {"real": float(real.mean())}, {}
    for kind in CORRUPTIONS:
        bad = corrupt_poses(poses.keypoints, poses.boxes, poses.keypoint_set, kind, rng)
        err = reconstruction_error(model, label_features(bad, poses.boxes, ks, ignored))
        means[kind] = float(err.mean())
        higher[kind] = float((err > real).mean())
    return means, higher


def pretrain(folders: Iterable[str | os.PathLike], epochs: int = 300, lr: float = 1e-3, batch_size: int = 64,
             heldout_fraction: float = 0.2, seed: int = 0) -> tuple[PoseAutoencoder, KeypointSet, PretrainReport]:
    """Train a WPU autoencoder on the ground-truth poses of the folders; a share of videos is held out."""
    poses = load_poses(folders)
    n_videos = len(poses.names)
    rng = np.random.default_rng(seed)
    n_held = int(round(heldout_fraction * n_videos)) if n_videos > 1 else 0
    held = np.zeros(n_videos, dtype=bool)
    held[rng.permutation(n_videos)[:n_held]] = True
    train, test = poses.subset(~held[poses.video]), poses.subset(held[poses.video])
    if len(train.keypoints) == 0:
        raise ValueError("no trainable pose (at least half of the labelable joints labeled) in the training videos")
    ks = poses.keypoint_set
    labelable = ks.annotated_slots
    seen = (train.keypoints[..., 2] > 0).any(axis=0)
    ignored = tuple(int(i) for i in np.flatnonzero(labelable & ~seen))
    if ignored:
        log.info("slots never labeled in the training poses, ignored by this AE: %s",
                 [ks.keypoints[i] for i in ignored])
    model = new_autoencoder(ks, seed, ignored)
    start = time.perf_counter()
    losses = train_autoencoder(model, label_features(train.keypoints, train.boxes, ks, ignored),
                               epochs, lr, batch_size, seed)
    seconds = time.perf_counter() - start
    means, higher = heldout_check(model, test, seed) if len(test.keypoints) else ({}, {})
    report = PretrainReport(
        train_poses=len(train.keypoints), heldout_poses=len(test.keypoints),
        train_videos=[poses.names[i] for i in np.flatnonzero(~held)],
        heldout_videos=[poses.names[i] for i in np.flatnonzero(held)],
        epochs=epochs, final_train_loss=float(losses[-1]) if losses else float("nan"), seconds=seconds,
        heldout=means, corrupted_higher=higher, ignored_slots=[ks.keypoints[i] for i in ignored])
    return model, poses.keypoint_set, report
