"""Finding the annotation files of a dataset: the one rule every command uses.

A dataset path may be one JSON file, a folder of JSON files, or a dataset root that holds
``posetrack_data/<split>/`` (PoseTrack21's layout) or ``<split>/``. Files are sorted by name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def annotation_files(path: str | os.PathLike, split: str | None = None) -> list[Path]:
    """The annotation JSONs under ``path`` (see the module docstring); FileNotFoundError naming where
    it looked when there are none."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise FileNotFoundError(f"dataset {p} does not exist")
    candidates = [p / "posetrack_data" / split, p / split] if split else []
    for folder in [*candidates, p]:
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        if files:
            return files
    where = " or ".join(str(c) for c in candidates) or str(p)
    raise FileNotFoundError(f"dataset {p}: no annotation JSON files in {where}")


def annotation_files_of(paths: Iterable[str | os.PathLike], split: str | None = None) -> list[Path]:
    """:func:`annotation_files` of several paths, concatenated in the order given."""
    return [f for p in paths for f in annotation_files(p, split)]
