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
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vatl.data.formats.discover import annotation_files as discovered_files
from vatl.data.synthetic.domains import TARGET_DOMAINS
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


def subset_root(root: str | os.PathLike, subset: Subset | str) -> Path:
    """The PoseTrack21 root of a subset (``subset`` or its ``path``, e.g. ``"targets/gym"``)."""
    return Path(root) / (subset.path if isinstance(subset, Subset) else subset)


def annotation_files(root: str | os.PathLike, key: str) -> list[Path]:
    """Sorted JSON files of a subset by key, e.g. ``"source/train"`` or ``"targets/night/val"``."""
    subset = next((s for s in BENCHMARK_SET if s.key == key), None)
    if subset is None:
        raise ValueError(f"unknown benchmark subset {key!r}; known: {', '.join(s.key for s in BENCHMARK_SET)}")
    folder = subset_root(root, subset) / "posetrack_data" / subset.split
    return discovered_files(folder) if folder.is_dir() else []


def benchmark_jobs(root: str | os.PathLike, seed: int = 0) -> list[VideoJob]:
    width, height = IMAGE_SIZE
    return [job for s in BENCHMARK_SET for job in
            video_jobs(subset_root(root, s), s.domain, s.videos, s.frames, width, height, seed=seed,
                       split=s.split, first_number=s.first_number)]


def generate_benchmark_set(root: str | os.PathLike, seed: int = 0, workers: int = 2,
                           on_done: Callable[[VideoResult], None] | None = None) -> list[VideoResult]:
    """Write the standard set under ``root`` (videos already up to date are skipped)."""
    return run_jobs(benchmark_jobs(root, seed), workers=workers, on_done=on_done)
