"""What a cycle keeps for ``vatl explain``: ``<run>/explain/cycle_XX.npz``, one compressed file per cycle.

Saved by :meth:`vatl.atl.session.ATLSession.query` after the selection (:func:`record_cycle`), with the
model still M_c; sizes for N samples, K keypoints, D feature values, M captured samples:

==================  ===================  ====================================================================
key                 shape, dtype         what
==================  ===================  ====================================================================
keypoints           (N, K, 3) float32    M_c's predictions: x, y (image pixels), confidence
features            (N, D) float16       the pass's pooled features
labeled, rejected   (N,) bool            the labeled set L and the rejected samples before the query
selected            (Q,) int64           the query, in the order chosen
score_<name>        (N,) float32         lc, mpe, thc, tpc streamed through the pass; wpu from the keypoints
                                         (when the skeleton has joint angles); higher = more uncertain
true_oks            (N,) float32         OKS of M_c against ground truth (NaN: no ground truth)
boxes               (N, 4) float32       person boxes xywh
frame_index, track  (N,) int32           frame and track of every sample
prev, next          (N,) int32           temporal neighbours (the run's ``max_gap``; -1: none)
captured            (M,) int64           samples whose display crops are kept: the first 24 selected, the 3
                                         highest- and 3 lowest-THC samples of the pool and their neighbours
crop_bytes/offsets  (B,) uint8, (M+1,)   their crops as JPEGs (:mod:`.crops`), concatenated
heatmap_samples     (H,) int64           samples whose heatmaps are kept: the first 8 selected, the extreme-
                                         THC samples and their neighbours
heatmaps            (H, K, h, w) float16 their heatmaps (one small forward of M_c over them)
meta                (J,) uint8           JSON: cycle, criterion, seed, G of the previous cycle, the
                                         keypoint set, sizes, which samples were captured and why
==================  ===================  ====================================================================

Heatmaps of every sample are not kept: with the default model a sample's are 26 KB, its scores and
features 0.5 KB (``benchmarks/explain_size.py`` measures a 10^4-sample cycle). WPU is computed as the
run's criterion computes it (the pretrained AE fine-tuned on the labels, seeded with the cycle's
selection stream), with the run's WPU options. Nothing here changes the run: the extra consumers only
read the pass's batches, the small forward runs in eval mode without gradients, and torch's random state
is restored. A cycle whose data cannot be saved logs a warning; the run goes on.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from vatl.criteria.base import ScoreConsumer, SelectionContext, UnsuitableCriterion, collect_scores
from vatl.data.annotations import LabelStore
from vatl.data.video import Frame, Video
from vatl.estimator.estimate import estimate
from vatl.estimator.interface import PassBatch
from vatl.explain.crops import CROP_SIZE, cut_crops, decode_jpeg, encode_jpeg
from vatl.fileio import atomic_path
from vatl.metrics import oks
from vatl.skeletons import KeypointSet

if TYPE_CHECKING:
    from vatl.atl.session import ATLSession
    from vatl.estimator.contract import PoseEstimator

log = logging.getLogger(__name__)

EXPLAIN_DIR = "explain"
FORMAT_VERSION = 1
HEATMAP_SCORES = ("lc", "mpe", "thc", "tpc")  # streamed through the pass
SCORE_NAMES = (*HEATMAP_SCORES, "wpu")
MAX_SELECTED_CROPS = 24  # the first selected samples whose crops are kept
MAX_SELECTED_HEATMAPS = 8  # ... and whose heatmaps are kept
EXTREMES = 3  # highest- and lowest-THC pool samples kept (each with its neighbours)
WPU_OPTIONS = ("model_path", "epochs", "lr", "batch_size", "min_confidence")


def explain_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / EXPLAIN_DIR


def cycle_path(run_dir: str | Path, cycle: int) -> Path:
    """``<run>/explain/cycle_XX.npz``."""
    return explain_dir(run_dir) / f"cycle_{int(cycle):02d}.npz"


def saved_cycles(run_dir: str | Path) -> list[int]:
    """Cycles with saved explain data, ascending."""
    out = []
    for p in explain_dir(run_dir).glob("cycle_*.npz"):
        digits = p.stem.removeprefix("cycle_")
        if digits.isdigit():
            out.append(int(digits))
    return sorted(out)


# ----------------------------------------------------------------------------------------- the pass
def explain_consumers(video: Video, consumers: Iterable[ScoreConsumer], max_gap: int = 1) -> list[ScoreConsumer]:
    """Fresh consumers of the heatmap scores (:data:`HEATMAP_SCORES`) the run's own ``consumers`` do not
    compute already, to stream through the same pass."""
    from vatl.criteria.confidence import LCScorer, MPEScorer
    from vatl.criteria.temporal import THCScorer, TPCScorer

    have = {c.name for c in consumers}
    scorers = {"lc": LCScorer(), "mpe": MPEScorer(), "thc": THCScorer(max_gap), "tpc": TPCScorer(max_gap)}
    return [c for name, s in scorers.items() if name not in have for c in s.pass_consumers(video)]


class _HeatmapCollector:
    """Keeps the heatmaps of a (small) pass: (M, K, h, w) float16 by sample."""

    def __init__(self, num_samples: int) -> None:
        self.heatmaps: np.ndarray | None = None
        self.num_samples = num_samples

    def consume(self, batch: PassBatch) -> None:
        if self.heatmaps is None:
            self.heatmaps = np.zeros((self.num_samples, *batch.heatmaps.shape[1:]), dtype=np.float16)
        self.heatmaps[np.asarray(batch.indices, dtype=np.int64)] = batch.heatmaps


def capture_heatmaps(model: PoseEstimator, video: Video, indices: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """(M, K, h, w) float16 heatmaps of samples ``indices`` (M,) from one forward of ``model`` over them
    (torch's random state is left as it was)."""
    idx = np.asarray(indices, dtype=np.int64)
    collector = _HeatmapCollector(len(idx))
    with torch.random.fork_rng(devices=[]):
        estimate(model, video.subset(idx), [collector], batch_size=batch_size)
    if collector.heatmaps is None:
        w, h = model.heatmap_size
        return np.zeros((0, model.num_keypoints, h, w), dtype=np.float16)
    return collector.heatmaps


def extreme_thc(thc: np.ndarray, pool: np.ndarray, prev: np.ndarray, nxt: np.ndarray, count: int = EXTREMES
                ) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` highest- and lowest-THC pool samples that have a temporal neighbour: (high, low), each
    (≤ count,) int64, most extreme first (ties by index). ``pool`` (N,) bool."""
    ok = pool & ((prev >= 0) | (nxt >= 0)) & np.isfinite(thc)
    cand = np.flatnonzero(ok)
    if not len(cand):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    by_high = cand[np.lexsort((cand, -thc[cand]))]
    by_low = cand[np.lexsort((cand, thc[cand]))]
    high = by_high[:count]
    low = np.asarray([i for i in by_low if i not in set(high.tolist())][:count], dtype=np.int64)
    return high.astype(np.int64), low


def wpu_scores(video: Video, keypoints: np.ndarray, labels: LabelStore, rejected: np.ndarray,
               rng: np.random.Generator, options: Mapping[str, Any] | None = None) -> np.ndarray | None:
    """(N,) WPU of ``keypoints`` as the criterion computes it (its AE fine-tuned on ``labels``), or None when
    the keypoint set has no joint angles."""
    from vatl.criteria.wpu import WPUScorer

    scorer = WPUScorer(**{k: v for k, v in (options or {}).items() if k in WPU_OPTIONS})
    try:
        scorer.check(video)
    except UnsuitableCriterion:
        return None
    n = video.num_samples
    ctx = SelectionContext.from_labels(video, labels, keypoints, np.zeros((n, 1), dtype=np.float32), 0, rng,
                                       excluded=rejected)
    with torch.random.fork_rng(devices=[]):
        return scorer.score(ctx)


def true_oks(video: Video, keypoints: np.ndarray) -> np.ndarray:
    """(N,) float32 OKS of ``keypoints`` against the video's ground truth; NaN where a sample has none."""
    out = np.full(video.num_samples, np.nan, dtype=np.float32)
    has_gt = video.visible.any(axis=1)
    if has_gt.any():
        out[has_gt] = oks(keypoints[has_gt], video.keypoints[has_gt], video.oks_areas()[has_gt],
                          video.keypoint_set.sigma_array)
    return out


# ----------------------------------------------------------------------------------------- the record
@dataclass
class CycleData:
    """One cycle's saved explain data (see the module docstring for the arrays)."""

    meta: dict[str, Any]
    keypoints: np.ndarray
    features: np.ndarray
    labeled: np.ndarray
    rejected: np.ndarray
    selected: np.ndarray
    scores: dict[str, np.ndarray]
    true_oks: np.ndarray
    boxes: np.ndarray
    frame_index: np.ndarray
    track_id: np.ndarray
    prev: np.ndarray
    next: np.ndarray
    captured: np.ndarray
    heatmap_samples: np.ndarray
    heatmaps: np.ndarray
    crop_bytes: np.ndarray
    crop_offsets: np.ndarray
    path: Path | None = field(default=None, compare=False)

    @property
    def cycle(self) -> int:
        return int(self.meta["cycle"])

    @property
    def num_samples(self) -> int:
        return len(self.keypoints)

    @property
    def pool(self) -> np.ndarray:
        """(N,) bool: the unlabeled pool U the selection was made from."""
        return ~self.labeled & ~self.rejected

    @property
    def has_ground_truth(self) -> bool:
        return bool(np.isfinite(self.true_oks).any())

    @property
    def keypoint_set(self) -> KeypointSet:
        try:
            return KeypointSet.from_dict(self.meta["keypoint_set"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{self.path}: field 'meta.keypoint_set' is malformed ({exc})") from None

    def as_video(self) -> Video:
        """The saved samples as a :class:`Video` without pixels or ground truth (what a selection context
        needs: boxes, frames, tracks)."""
        n, ks = self.num_samples, self.keypoint_set
        frames = [Frame(path=None, image_id=i) for i in range(int(self.frame_index.max()) + 1 if n else 0)]
        return Video(name=str(self.meta["video"]), keypoint_set=ks, frames=frames, frame_index=self.frame_index,
                     track_id=self.track_id, boxes=self.boxes, keypoints=np.zeros((n, ks.num_keypoints, 3)),
                     annotation_ids=np.arange(n))

    def captured_row(self, sample: int) -> int | None:
        """The row of ``sample`` in the captured arrays, or None."""
        rows = np.flatnonzero(self.captured == int(sample))
        return int(rows[0]) if len(rows) else None

    def crop(self, sample: int) -> np.ndarray | None:
        """The saved display crop (h, w, 3) uint8 RGB of ``sample``, or None."""
        row = self.captured_row(sample)
        if row is None:
            return None
        a, b = int(self.crop_offsets[row]), int(self.crop_offsets[row + 1])
        return decode_jpeg(self.crop_bytes[a:b].tobytes())

    def heatmap(self, sample: int) -> np.ndarray | None:
        """The saved heatmaps (K, h, w) float32 of ``sample``, or None."""
        rows = np.flatnonzero(self.heatmap_samples == int(sample))
        return self.heatmaps[int(rows[0])].astype(np.float32) if len(rows) else None


def save_cycle(path: str | Path, data: CycleData) -> Path:
    """Write ``data`` to ``path`` (compressed .npz, atomically)."""
    arrays: dict[str, np.ndarray] = {
        "meta": np.frombuffer(json.dumps(data.meta, allow_nan=False).encode("utf-8"), dtype=np.uint8),
        "keypoints": data.keypoints.astype(np.float32), "features": data.features.astype(np.float16),
        "labeled": data.labeled.astype(bool), "rejected": data.rejected.astype(bool),
        "selected": data.selected.astype(np.int64), "true_oks": data.true_oks.astype(np.float32),
        "boxes": data.boxes.astype(np.float32), "frame_index": data.frame_index.astype(np.int32),
        "track_id": data.track_id.astype(np.int32), "prev": data.prev.astype(np.int32),
        "next": data.next.astype(np.int32), "captured": data.captured.astype(np.int64),
        "heatmap_samples": data.heatmap_samples.astype(np.int64),
        "heatmaps": data.heatmaps.astype(np.float16), "crop_bytes": data.crop_bytes.astype(np.uint8),
        "crop_offsets": data.crop_offsets.astype(np.int64)}
    arrays.update({f"score_{name}": s.astype(np.float32) for name, s in data.scores.items()})
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    return Path(path)


_PER_SAMPLE = {"labeled": 1, "rejected": 1, "true_oks": 1, "frame_index": 1, "track_id": 1, "prev": 1, "next": 1,
               "boxes": 2, "features": 2, "keypoints": 3}
_META_KEYS = ("version", "cycle", "video", "num_samples", "criterion", "seed", "max_gap", "keypoint_set",
              "input_size", "heatmap_size", "crop_size", "high_thc", "low_thc", "selected_captured")


def load_cycle(path: str | Path) -> CycleData:
    """Read a file written by :func:`save_cycle` (as data: no pickles); a ValueError names the file and
    the field that is missing or malformed."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no explain data for this cycle")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{p}: not readable explain data ({type(exc).__name__}: {exc})") from None
    missing = [k for k in ("meta", "selected", "captured", "heatmap_samples", "heatmaps", "crop_bytes",
                           "crop_offsets", *_PER_SAMPLE)
               if k not in arrays]
    if missing:
        raise ValueError(f"{p}: explain data without field(s) {', '.join(missing)}")
    try:
        meta = json.loads(arrays["meta"].astype(np.uint8).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{p}: field 'meta' is not JSON ({exc})") from None
    if not isinstance(meta, dict) or any(k not in meta for k in _META_KEYS):
        raise ValueError(f"{p}: field 'meta' must be an object with {', '.join(_META_KEYS)}")
    if meta["version"] != FORMAT_VERSION:
        raise ValueError(f"{p}: explain data version {meta['version']!r}, this vatl reads {FORMAT_VERSION}")
    n = len(arrays["keypoints"])
    for key, ndim in _PER_SAMPLE.items():
        a = arrays[key]
        if a.ndim != ndim or len(a) != n:
            raise ValueError(f"{p}: field {key!r} has shape {a.shape}; expected {ndim} dimension(s) and {n} rows")
    scores = {k.removeprefix("score_"): v.astype(np.float64) for k, v in arrays.items() if k.startswith("score_")}
    for name, s in scores.items():
        if s.shape != (n,):
            raise ValueError(f"{p}: field 'score_{name}' has shape {s.shape}; expected ({n},)")
    m = len(arrays["captured"])
    for key in ("selected", "captured", "heatmap_samples", "prev", "next"):
        a = arrays[key]
        if a.size and (a.min() < (-1 if key in ("prev", "next") else 0) or a.max() >= n):
            raise ValueError(f"{p}: field {key!r} refers to samples outside 0..{n - 1}")
    offsets = arrays["crop_offsets"]
    if offsets.shape != (m + 1,) or offsets[0] != 0 or (np.diff(offsets) < 0).any() \
            or offsets[-1] != len(arrays["crop_bytes"]):
        raise ValueError(f"{p}: field 'crop_offsets' does not match the {m} captured samples' crops")
    if arrays["heatmaps"].ndim != 4 or len(arrays["heatmaps"]) != len(arrays["heatmap_samples"]):
        raise ValueError(f"{p}: field 'heatmaps' does not match the {len(arrays['heatmap_samples'])} samples "
                         "of 'heatmap_samples'")
    return CycleData(meta=meta, keypoints=arrays["keypoints"].astype(np.float64),
                     features=arrays["features"].astype(np.float32), labeled=arrays["labeled"].astype(bool),
                     rejected=arrays["rejected"].astype(bool), selected=arrays["selected"].astype(np.int64),
                     scores=scores, true_oks=arrays["true_oks"].astype(np.float64), boxes=arrays["boxes"].astype(np.float64),
                     frame_index=arrays["frame_index"].astype(np.int64), track_id=arrays["track_id"].astype(np.int64),
                     prev=arrays["prev"].astype(np.int64), next=arrays["next"].astype(np.int64),
                     captured=arrays["captured"].astype(np.int64),
                     heatmap_samples=arrays["heatmap_samples"].astype(np.int64), heatmaps=arrays["heatmaps"],
                     crop_bytes=arrays["crop_bytes"], crop_offsets=offsets.astype(np.int64), path=p)


# ----------------------------------------------------------------------------------------- building it
def build_cycle(cycle: int, video: Video, model: PoseEstimator, keypoints: np.ndarray, features: np.ndarray,
                scores: Mapping[str, np.ndarray], labels: LabelStore, rejected: np.ndarray, selected: np.ndarray,
                *, criterion: str, seed: int, max_gap: int, g_prev: float | None, wpu_rng: np.random.Generator,
                wpu_options: Mapping[str, Any] | None = None, delivered: np.ndarray | None = None,
                batch_size: int = 64, max_crops: int = MAX_SELECTED_CROPS,
                max_heatmaps: int = MAX_SELECTED_HEATMAPS, extremes: int = EXTREMES) -> CycleData:
    """The explain data of one cycle from its pass (``keypoints`` (N, K, 3) and ``features`` (N, D) of
    M_c; ``scores`` name -> (N,) streamed), the state before the query and the selection (Q,).
    ``delivered``: the predictions the criterion saw when they differ from M_c's (WPU is of those)."""
    n = video.num_samples
    labeled = labels.mask(n)
    rejected = np.asarray(rejected, dtype=bool)
    pool = ~labeled & ~rejected
    prev, nxt = video.neighbours(max_gap)
    kept = {k: np.asarray(v, dtype=np.float64) for k, v in scores.items() if k in HEATMAP_SCORES}
    wpu = wpu_scores(video, keypoints if delivered is None else delivered, labels, rejected, wpu_rng, wpu_options)
    if wpu is not None:
        kept["wpu"] = wpu
    high, low = (extreme_thc(kept["thc"], pool, prev, nxt, extremes) if "thc" in kept
                 else (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    order = np.asarray(selected, dtype=np.int64)
    extreme = np.concatenate([high, low])
    around = np.concatenate([prev[extreme], nxt[extreme]])
    strips = [*extreme.tolist(), *around[around >= 0].tolist()]
    captured = _unique([*order[:max_crops].tolist(), *strips])
    heatmap_samples = _unique([*order[:max_heatmaps].tolist(), *strips])
    heatmaps = capture_heatmaps(model, video, heatmap_samples, batch_size)
    jpegs = [encode_jpeg(c) for c in cut_crops(video, captured)]
    offsets = np.concatenate([[0], np.cumsum([len(j) for j in jpegs])]).astype(np.int64)
    ks = video.keypoint_set
    meta = {"version": FORMAT_VERSION, "cycle": int(cycle), "video": video.name, "num_samples": n,
            "criterion": criterion, "seed": int(seed), "max_gap": int(max_gap), "G_prev": g_prev,
            "labeled_percent": 100.0 * labeled.sum() / max(1, int((~rejected).sum())),
            "keypoint_set": ks.to_dict(), "input_size": list(map(int, model.input_size)),
            "heatmap_size": list(map(int, model.heatmap_size)), "crop_size": list(CROP_SIZE),
            "high_thc": high.tolist(), "low_thc": low.tolist(), "selected_captured": int(min(len(order), max_crops)),
            "wpu": "computed" if wpu is not None else "skeleton without joint angles"}
    return CycleData(meta=meta, keypoints=np.asarray(keypoints), features=np.asarray(features), labeled=labeled,
                     rejected=rejected, selected=np.asarray(selected, dtype=np.int64), scores=kept,
                     true_oks=true_oks(video, np.asarray(keypoints, dtype=np.float64)), boxes=video.boxes,
                     frame_index=video.frame_index, track_id=video.track_id, prev=prev, next=nxt, captured=captured,
                     heatmap_samples=heatmap_samples, heatmaps=heatmaps, crop_bytes=np.frombuffer(b"".join(jpegs), dtype=np.uint8), crop_offsets=offsets)


def record_cycle(session: ATLSession, cycle: int, keypoints: np.ndarray, features: np.ndarray,
                 consumers: Sequence[ScoreConsumer], selected: np.ndarray, delivered: np.ndarray | None = None
                 ) -> Path | None:
    """Save cycle ``cycle``'s explain data of an open session (called by its ``query()`` after the selection,
    while the model is M_c). A file that holds this selection already is kept. Never raises: a failure is
    logged as a warning and the run goes on; returns the file or None."""
    from vatl.atl.session import cycle_rng

    path = cycle_path(session.store.root, cycle)
    try:
        if path.is_file():
            with np.load(path, allow_pickle=False) as z:
                if "selected" in z.files and np.array_equal(z["selected"], selected):
                    return path
        t = time.perf_counter()
        config = session.config
        data = build_cycle(
            cycle, session.video, session.model, keypoints, features, collect_scores(consumers), session.labels,
            _mask(session.video.num_samples, session.rejected), selected, criterion=config.criterion,
            seed=config.seed, max_gap=config.max_gap, g_prev=session.state.last_g,
            wpu_rng=cycle_rng(config.seed, cycle, 0), wpu_options=config.criterion_options,
            delivered=None if delivered is None or delivered is keypoints else delivered, batch_size=config.batch_size)
        save_cycle(path, data)
        log.info("explain data of cycle %d: %s (%.0f kB, %.2f s)", cycle, path, path.stat().st_size / 1e3,
                 time.perf_counter() - t)
        return path
    except Exception as exc:  # noqa: BLE001 - the report's data must never stop the run
        log.warning("explain data of cycle %d not saved (%s: %s); the run goes on", cycle, type(exc).__name__, exc)
        return None


def _unique(indices: Iterable[int]) -> np.ndarray:
    """(M,) int64 distinct indices in first-seen order."""
    return np.asarray(list(dict.fromkeys(int(i) for i in indices)), dtype=np.int64)


def _mask(n: int, indices: Iterable[int]) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[list(indices)] = True
    return m
