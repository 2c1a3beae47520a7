"""The standard synthetic benchmark set: a source training/validation set and target-domain test videos.

Layout under ``<root>`` (each of ``source`` and ``targets/<domain>`` is one PoseTrack21 root)::

    <root>/source/images/{train,val}/<video>/<frame:06d>.jpg
    <root>/source/posetrack_data/{train,val}/<video>.json
    <root>/targets/<domain>/images/val/<video>/<frame:06d>.jpg
    <root>/targets/<domain>/posetrack_data/val/<video>.json
    <root>/<subset root>/synth_manifest.json      (what was generated, for idempotent re-runs)

Contents (frames 384×288, 25 fps):

- ``source/train``: 40 videos × 40 frames of the ``source`` domain, 3–6 people (seed 0: 5,541 instances);
- ``source/val``: 8 videos × 40 frames of ``source``;
- ``targets/<domain>/val`` for ``night``, ``gym``, ``drone``, ``festival``: 4 videos each, 30–60 frames,
  2–6 people (16 target test videos).

``generate_benchmark_set(root)`` writes it (skipping videos already up to date); the same seed gives
the same bytes.

**Named sets** (:data:`BENCHMARK_SETS`, what ``vatl bench --set`` runs on):

- ``paper-regime`` (the default): the test videos of the four milder domains ``mild_night``, ``mild_gym``,
  ``mild_drone``, ``mild_festival`` (4 each, 30–60 frames, 2–5 people), under
  ``<root>/paper_regime/<domain>/posetrack_data/test/``; zero-shot AP@0.6 of the embedded estimator in the
  paper's regime (60–85 %, docs/domain_gap.md);
- ``paper-regime-val``: 2 further videos per mild domain (split ``val``, drawn independently of the test
  videos) for every choice of settings; the test videos are never used for one;
- ``standard``: the 16 target videos of the standard set above (large domain gaps).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vatl.data.formats.discover import annotation_files as discovered_files
from vatl.data.synthetic.domains import MILD_DOMAINS, TARGET_DOMAINS
from vatl.data.synthetic.generate import VideoJob, VideoResult, run_jobs, video_jobs

IMAGE_SIZE: tuple[int, int] = (384, 288)


@dataclass(frozen=True)
class Subset:
    """One part of the set: ``videos`` videos of ``domain`` in split ``split`` of the root ``path``."""

    path: str                 # relative to the set's root, e.g. "source" or "targets/night"
    split: str
    domain: str
    videos: int
    frames: tuple[int, int]
    first_number: int         # PoseTrack video numbers (unique over the set)

    @property
    def key(self) -> str:
        return f"{self.path}/{self.split}"


BENCHMARK_SET: tuple[Subset, ...] = (
    Subset("source", "train", "source", 40, (40, 40), 1000),
    Subset("source", "val", "source", 8, (40, 40), 2000),
) + tuple(Subset(f"targets/{d}", "val", d, 4, (30, 60), 3000 + 100 * i) for i, d in enumerate(TARGET_DOMAINS))


PAPER_REGIME_TEST: tuple[Subset, ...] = tuple(
    Subset(f"paper_regime/{d}", "test", d, 4, (30, 60), 5000 + 100 * i) for i, d in enumerate(MILD_DOMAINS))
PAPER_REGIME_VAL: tuple[Subset, ...] = tuple(
    Subset(f"paper_regime/{d}", "val", d, 2, (30, 60), 5050 + 100 * i) for i, d in enumerate(MILD_DOMAINS))
STANDARD_TARGETS: tuple[Subset, ...] = tuple(s for s in BENCHMARK_SET if s.path.startswith("targets/"))
BENCHMARK_SETS: dict[str, tuple[Subset, ...]] = {
    "paper-regime": PAPER_REGIME_TEST, "paper-regime-val": PAPER_REGIME_VAL, "standard": STANDARD_TARGETS}
DEFAULT_SET = "paper-regime"
ALL_SUBSETS: tuple[Subset, ...] = BENCHMARK_SET + PAPER_REGIME_TEST + PAPER_REGIME_VAL


def benchmark_set(name: str) -> tuple[Subset, ...]:
    """The subsets of a named set (:data:`BENCHMARK_SETS`); a clear error listing the names otherwise."""
    try:
        return BENCHMARK_SETS[name]
    except KeyError:
        raise ValueError(f"unknown benchmark set {name!r}; known: {', '.join(BENCHMARK_SETS)}") from None


def set_files(root: str | os.PathLike, name: str) -> list[Path]:
    """The video JSON files of a named set under ``root`` (empty before generation), interleaved across its
    subsets (the first video of each domain, then the second, …), so that the first few cover every domain."""
    per_subset = [annotation_files(root, s.key) for s in benchmark_set(name)]
    longest = max((len(files) for files in per_subset), default=0)
    return [files[i] for i in range(longest) for files in per_subset if i < len(files)]


def generate_set(root: str | os.PathLike, name: str, seed: int = 0, workers: int = 2,
                 on_done: Callable[[VideoResult], None] | None = None) -> list[VideoResult]:
    """Write a named set under ``root`` (videos already up to date are skipped). ``standard`` writes the
    whole standard set (its source videos too, as :func:`generate_benchmark_set`)."""
    subsets = benchmark_set(name)
    if subsets == STANDARD_TARGETS:
        return generate_benchmark_set(root, seed=seed, workers=workers, on_done=on_done)
    return run_jobs(subset_jobs(root, subsets, seed), workers=workers, on_done=on_done)


def subset_root(root: str | os.PathLike, subset: Subset | str) -> Path:
    """The PoseTrack21 root of a subset (``subset`` or its ``path``, e.g. ``"targets/gym"``)."""
    return Path(root) / (subset.path if isinstance(subset, Subset) else subset)


def annotation_files(root: str | os.PathLike, key: str) -> list[Path]:
    """Sorted JSON files of a subset by key, e.g. ``"source/train"`` or ``"targets/night/val"``."""
    subset = next((s for s in ALL_SUBSETS if s.key == key), None)
    if subset is None:
        raise ValueError(f"unknown benchmark subset {key!r}; known: {', '.join(s.key for s in ALL_SUBSETS)}")
    folder = subset_root(root, subset) / "posetrack_data" / subset.split
    return discovered_files(folder) if folder.is_dir() else []


def subset_jobs(root: str | os.PathLike, subsets: tuple[Subset, ...], seed: int = 0) -> list[VideoJob]:
    """The generation jobs of ``subsets`` under ``root``."""
    width, height = IMAGE_SIZE
    return [job for s in subsets for job in
            video_jobs(subset_root(root, s), s.domain, s.videos, s.frames, width, height, seed=seed,
                       split=s.split, first_number=s.first_number)]


def benchmark_jobs(root: str | os.PathLike, seed: int = 0) -> list[VideoJob]:
    """The generation jobs of the standard set."""
    return subset_jobs(root, BENCHMARK_SET, seed)


def generate_benchmark_set(root: str | os.PathLike, seed: int = 0, workers: int = 2,
                           on_done: Callable[[VideoResult], None] | None = None) -> list[VideoResult]:
    """Write the standard set under ``root`` (videos already up to date are skipped)."""
    return run_jobs(benchmark_jobs(root, seed), workers=workers, on_done=on_done)
