"""WPU (whole-body pose unnaturalness, Sec. 4.2): the reconstruction error of a small autoencoder over a
hybrid pose feature.

Hybrid feature of one pose (any keypoint set with ``angle_triples``), D = 2K + A values:

- x then y of every slot relative to the pose's weighted centre of gravity, divided by the box height
  (K + K values). Weights: 1 for a labeled joint (v > 0) of a label, the confidence for a prediction.
  A joint with weight <= ``min_weight`` (unlabeled, or never annotated in the set, like PoseTrack21's
  ears) is "missing": it takes no part in the centre and its two values are 0.
- every angle of ``angle_triples`` (a, vertex, b) as angle/π ∈ [0, 1] (the unsigned angle between
  a − vertex and b − vertex, computed with atan2 so that it is continuous); 0 if a joint is missing.
PoseTrack21 / COCO (17 slots, 8 angles): D = 42. The same function serves labels (training) and
predictions (scoring); only the weights differ.

Autoencoder: D→24→12→7→4 with ReLU after each hidden layer, a linear code and a linear output layer (it
can reproduce negative values), decoder mirrored; 2,948 parameters for D = 42. WPU = mean squared
reconstruction error over the D values.

Training: pretrained on ground-truth poses (``vatl wpu-pretrain``, Adam lr 1e-3); in every ATL cycle
the criterion starts again from the pretrained AE and fine-tunes on the video's labeled poses (20 epochs,
Adam lr 8e-4, batch 10 as published, larger when more than 500 poses are labeled: at most 50 steps an
epoch). Poses with fewer than half of the labelable slots labeled are left
out of training (they are mostly zeros).
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from vatl.criteria.base import Scorer, SelectionContext, UnsuitableCriterion
from vatl.data.video import Video
from vatl.fileio import atomic_path
from vatl.skeletons import KeypointSet

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parents[1] / "assets"
FEATURE_VERSION = 2  # 2: hip angles are other hip–hip–knee, as the published code
HIDDEN = (24, 12, 7)
LATENT = 4


# ----------------------------------------------------------------------------------------- feature
def feature_dim(keypoint_set: KeypointSet) -> int:
    """D = 2K + number of angle triples."""
    return 2 * keypoint_set.num_keypoints + len(keypoint_set.angle_triples)


def hybrid_features(xy: np.ndarray, weight: np.ndarray, boxes: np.ndarray, keypoint_set: KeypointSet,
                    min_weight: float = 0.0, ignored: tuple[int, ...] = ()) -> np.ndarray:
    """The hybrid feature of N poses.

    xy: (N, K, 2) image pixels; weight: (N, K) joint weights (see the module docstring);
    boxes: (N, 4) xywh (height clipped to >= 1 px); ignored: slots always treated as missing
    (besides the set's never-annotated ones). Returns (N, 2K + A) float32.
    """
    xy = np.asarray(xy, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64).copy()
    n, k = w.shape
    if not keypoint_set.angle_triples:
        raise ValueError(f"keypoint set {keypoint_set.name!r} defines no angle triples: WPU needs them")
    w[:, ~keypoint_set.annotated_slots] = 0.0
    w[:, list(ignored)] = 0.0
    present = w > min_weight
    w = np.where(present, w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    centre = np.divide((w[..., None] * xy).sum(axis=1), total, out=np.zeros((n, 2)), where=total > 0)
    height = np.clip(np.asarray(boxes, dtype=np.float64)[:, 3], 1.0, None)
    rel = np.where(present[..., None], (xy - centre[:, None]) / height[:, None, None], 0.0)
    tri = np.asarray(keypoint_set.angle_triples, dtype=np.int64)
    u = xy[:, tri[:, 0]] - xy[:, tri[:, 1]]
    v = xy[:, tri[:, 2]] - xy[:, tri[:, 1]]
    cross = np.abs(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0])
    dot = (u * v).sum(axis=2)
    ok = present[:, tri].all(axis=2) & (np.abs(u).sum(axis=2) > 0) & (np.abs(v).sum(axis=2) > 0)
    angle = np.where(ok, np.arctan2(cross, dot) / np.pi, 0.0)
    return np.concatenate([rel[..., 0], rel[..., 1], angle], axis=1).astype(np.float32)


def label_features(keypoints: np.ndarray, boxes: np.ndarray, keypoint_set: KeypointSet,
                   ignored: tuple[int, ...] = ()) -> np.ndarray:
    """Hybrid features of labels: keypoints (N, K, 3) x, y, v -> (N, D); weight = 1 where v > 0."""
    kp = np.asarray(keypoints, dtype=np.float64)
    return hybrid_features(kp[..., :2], (kp[..., 2] > 0).astype(np.float64), boxes, keypoint_set,
                           ignored=ignored)


def prediction_features(keypoints: np.ndarray, boxes: np.ndarray, keypoint_set: KeypointSet,
                        min_confidence: float = 0.0, ignored: tuple[int, ...] = ()) -> np.ndarray:
    """Hybrid features of predictions: keypoints (N, K, 3) x, y, confidence -> (N, D).

    A joint with confidence <= ``min_confidence`` counts as missing (default: none, except the slots
    the set never annotates and the ``ignored`` ones).
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    return hybrid_features(kp[..., :2], np.clip(kp[..., 2], 0.0, None), boxes, keypoint_set, min_confidence,
                           ignored)


def trainable(keypoints: np.ndarray, keypoint_set: KeypointSet, min_fraction: float = 0.5) -> np.ndarray:
    """(N,) bool: labels with at least ``min_fraction`` of the labelable slots labeled (and >= 3 joints)."""
    labelable = keypoint_set.annotated_slots
    count = (np.asarray(keypoints)[:, labelable, 2] > 0).sum(axis=1)
    return count >= max(3, int(np.ceil(min_fraction * labelable.sum())))


# ------------------------------------------------------------------------------------- autoencoder
class PoseAutoencoder(nn.Module):
    """D→24→12→7→4→7→12→24→D; ReLU after hidden layers, linear code and output.

    ``ignored_slots``: slots the training poses never labeled (e.g. the nose in data that has none);
    features for this AE treat them as missing, for labels and predictions alike.
    """

    def __init__(self, input_dim: int, hidden: tuple[int, ...] = HIDDEN, latent: int = LATENT,
                 ignored_slots: tuple[int, ...] = ()):
        super().__init__()
        self.input_dim = int(input_dim)
        self.ignored_slots = tuple(int(i) for i in ignored_slots)
        widths = (self.input_dim, *hidden, latent)
        self.encoder = _mlp(widths)
        self.decoder = _mlp(widths[::-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def _mlp(widths: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def reconstruction_error(model: PoseAutoencoder, features: np.ndarray, batch_size: int = 65536) -> np.ndarray:
    """(N,) float64 mean squared reconstruction error of features (N, D).

    Equal feature rows get bit-identical errors (computed once: a matrix product may round a row
    differently depending on its position in the batch).
    """
    feats = np.asarray(features, dtype=np.float32)
    if len(feats) == 0:
        return np.zeros(0)
    unique, inverse = np.unique(feats, axis=0, return_inverse=True)
    return _reconstruction_error(model, unique, batch_size)[inverse.reshape(-1)]


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one CPU thread inside the block (the AE is far too small to gain from more, and
    results then do not depend on the caller's thread count)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _reconstruction_error(model: PoseAutoencoder, features: np.ndarray, batch_size: int) -> np.ndarray:
    x = torch.as_tensor(features)
    out = np.empty(len(x))
    model.eval()
    with torch.no_grad(), one_thread():
        for s in range(0, len(x), batch_size):
            xb = x[s:s + batch_size]
            out[s:s + batch_size] = ((model(xb) - xb) ** 2).mean(dim=1).double().numpy()
    return out


def train_autoencoder(model: PoseAutoencoder, features: np.ndarray, epochs: int, lr: float,
                      batch_size: int = 64, seed: int = 0) -> list[float]:
    """Adam on the MSE of reconstructing ``features`` (N, D); returns the mean loss of each epoch.

    Deterministic for a seed (the shuffling uses its own generator; the model is not re-initialised).
    Runs on one CPU thread (:func:`one_thread`).
    """
    x = torch.as_tensor(np.asarray(features, dtype=np.float32))
    if len(x) == 0 or epochs <= 0:
        return []
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=False)
    losses = []
    with one_thread():
        model.train()
        for _ in range(epochs):
            perm = torch.randperm(len(x), generator=gen)
            total = 0.0
            for s in range(0, len(x), batch_size):
                xb = x[perm[s:s + batch_size]]
                loss = ((model(xb) - xb) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
            losses.append(total / len(x))
    model.eval()
    return losses


def new_autoencoder(keypoint_set: KeypointSet, seed: int = 0, ignored_slots: tuple[int, ...] = ()
                    ) -> PoseAutoencoder:
    """A freshly initialised AE for the set (deterministic for a seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return PoseAutoencoder(feature_dim(keypoint_set), ignored_slots=ignored_slots)


def default_autoencoder_path(keypoint_set: KeypointSet) -> Path:
    """The shipped pretrained AE for a set: ``vatl/assets/wpu_<set name>.pt``."""
    return ASSETS / f"wpu_{keypoint_set.name}.pt"


def save_autoencoder(path: str | os.PathLike, model: PoseAutoencoder, keypoint_set: KeypointSet,
                     info: dict[str, Any] | None = None) -> Path:
    """Write the AE with what is needed to use it again (keypoint set, feature version, training info)."""
    p = Path(path)
    with atomic_path(p) as tmp:
        torch.save({"state_dict": model.state_dict(), "input_dim": model.input_dim,
                    "ignored_slots": list(model.ignored_slots), "keypoint_set": keypoint_set.to_dict(),
                    "feature_version": FEATURE_VERSION, "info": info or {}}, tmp)
    return p


def load_autoencoder(path: str | os.PathLike, keypoint_set: KeypointSet | None = None
                     ) -> tuple[PoseAutoencoder, dict[str, Any]]:
    """Read an AE written by :func:`save_autoencoder`; checks it fits ``keypoint_set`` if given."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"WPU autoencoder {p} not found (create one with `vatl wpu-pretrain`)")
    blob = torch.load(p, map_location="cpu", weights_only=True)
    for key in ("state_dict", "input_dim", "keypoint_set", "feature_version"):
        if key not in blob:
            raise ValueError(f"{p}: not a WPU autoencoder file (no field {key!r})")
    if blob["feature_version"] != FEATURE_VERSION:
        raise ValueError(f"{p}: feature version {blob['feature_version']}, this vatl computes {FEATURE_VERSION}")
    stored = KeypointSet.from_dict(blob["keypoint_set"])
    if keypoint_set is not None and (stored.keypoints != keypoint_set.keypoints
                                     or stored.angle_triples != keypoint_set.angle_triples):
        raise ValueError(f"{p}: trained for keypoint set {stored.name!r} ({stored.num_keypoints} slots), "
                         f"not for {keypoint_set.name!r}")
    model = PoseAutoencoder(int(blob["input_dim"]), ignored_slots=tuple(blob.get("ignored_slots", ())))
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, {"keypoint_set": stored, "info": blob.get("info", {})}


# ---------------------------------------------------------------------------------------- scorer
@dataclass
class WPUScorer(Scorer):
    """WPU of the pool's predictions after fine-tuning the pretrained AE on the video's labels.

    model_path: the pretrained AE (default: the shipped one for the video's keypoint set; if there is
    none the AE starts untrained and, until labels exist, every WPU is 0 — a warning is logged).
    batch_size: 10 as published, grown for large label sets so that an epoch has at most
    ``max_steps_per_epoch`` steps (fine-tuning then costs at most epochs × 50 steps).
    """

    model_path: str | os.PathLike | None = None
    epochs: int = 20
    lr: float = 8e-4
    batch_size: int = 10
    max_steps_per_epoch: int = 50
    min_confidence: float = 0.0
    min_labeled_fraction: float = 0.5
    name: str = field(default="wpu", init=False)
    model: PoseAutoencoder | None = field(default=None, init=False, repr=False)
    _pretrained: dict[str, PoseAutoencoder | None] = field(default_factory=dict, init=False, repr=False)

    def check(self, video: Video) -> None:
        """WPU needs joint angles: :class:`~vatl.criteria.base.UnsuitableCriterion` when the video's keypoint
        set has no angle triples (no human limb names and no joint with exactly two skeleton neighbours)."""
        ks = video.keypoint_set
        if not ks.angle_triples:
            edges = "no skeleton edges" if not ks.skeleton else "no joint with exactly two neighbours in its skeleton"
            raise UnsuitableCriterion(
                f"WPU needs joint angles, and keypoint set {ks.name!r} ({ks.num_keypoints} keypoints) has none "
                f"(no shoulder/elbow/wrist/hip/knee/ankle names, and {edges}); add 'skeleton' edges to the "
                "category, choose a criterion without WPU (e.g. --criterion thc+duw), or let the run fall back "
                "to one (vatl run --fallback thc+duw)")

    def pretrained(self, keypoint_set: KeypointSet) -> PoseAutoencoder | None:
        """The pretrained AE for a set (cached), or None when there is none."""
        if keypoint_set.name not in self._pretrained:
            path = Path(self.model_path) if self.model_path else default_autoencoder_path(keypoint_set)
            if self.model_path is None and not path.is_file():
                log.warning("no pretrained WPU autoencoder for keypoint set %r (%s); WPU starts untrained",
                            keypoint_set.name, path)
                self._pretrained[keypoint_set.name] = None
            else:
                self._pretrained[keypoint_set.name] = load_autoencoder(path, keypoint_set)[0]
        return self._pretrained[keypoint_set.name]

    def refresh(self, ctx: SelectionContext) -> PoseAutoencoder | None:
        """Re-initialise from the pretrained AE and fine-tune on the labeled poses of ``ctx``."""
        ks = ctx.video.keypoint_set
        base = self.pretrained(ks)
        features = np.zeros((0, feature_dim(ks)), dtype=np.float32)
        if ctx.label_keypoints is not None and ctx.labeled.any():
            rows = np.flatnonzero(ctx.labeled)
            rows = rows[trainable(ctx.label_keypoints[rows], ks, self.min_labeled_fraction)]
            ignored = base.ignored_slots if base is not None else ()
            # The poses are scored as predictions (every joint present), so the fine-tuning poses are
            # built the same way: labeled joints from the label, the others from this cycle's prediction.
            poses = ctx.keypoints[rows].copy()
            labels = ctx.label_keypoints[rows]
            annotated = labels[..., 2] > 0
            poses[annotated, :2] = labels[annotated, :2]
            poses[annotated, 2] = 1.0
            features = prediction_features(poses, ctx.video.boxes[rows], ks, self.min_confidence, ignored)
        elif ctx.labeled.any():
            log.warning("WPU: %d labeled samples but no label keypoints in the context; not fine-tuned",
                        int(ctx.labeled.sum()))
        if base is None and len(features) == 0:
            self.model = None
            return None
        seed = int(ctx.rng.integers(2**31))
        model = copy.deepcopy(base) if base is not None else new_autoencoder(ks, seed)
        batch = max(self.batch_size, -(-len(features) // max(1, self.max_steps_per_epoch)))
        losses = train_autoencoder(model, features, self.epochs, self.lr, batch, seed)
        if losses:
            log.info("WPU AE fine-tuned on %d labeled poses: loss %.5f -> %.5f", len(features),
                     losses[0], losses[-1])
        self.model = model
        return model

    def score(self, ctx: SelectionContext) -> np.ndarray:
        model = self.refresh(ctx)
        if model is None:
            return np.zeros(ctx.video.num_samples)
        feats = prediction_features(ctx.keypoints, ctx.video.boxes, ctx.video.keypoint_set, self.min_confidence,
                                    model.ignored_slots)
        return reconstruction_error(model, feats)
