"""Atomic file writes: the one helper every writer of vatl uses.

A file is written to a temporary file with a unique name beside it (so that two processes or threads
writing the same path never share a temporary file), flushed to disk, then renamed over the target. A
reader sees the old file or the new one, never a torn one; a writer killed half-way leaves the old file.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, mode: int | None = None) -> Iterator[Path]:
    """A unique temporary path beside ``path``; renamed onto ``path`` when the block ends without error.

    For writers that need a file name (``torch.save``, ``cv2.imwrite``, ``np.save``). Parent folders are
    created. ``mode``: permission bits of the new file (default: as the umask gives a new file). On an
    error the temporary file is removed and the target is left as it was.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target}: is a directory; expected a file path to write")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode() if mode is None else mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def ensure_folder(path: str | os.PathLike, what: str = "output folder") -> Path:
    """Create the folder ``path`` (and its parents); a clear NotADirectoryError when it or a parent is a
    file. ``what`` names the folder in the message (e.g. "run folder")."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder}: is a file; the {what} must be a folder")
    for parent in folder.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"{folder}: cannot create the {what}, {parent} is a file")
            break
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` (str as UTF-8) to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 1) -> Path:
    """``obj`` as JSON, atomically. NaN and infinities are refused (JSON has none): a ValueError."""
    return write_atomic(path, json.dumps(obj, indent=indent, allow_nan=False, ensure_ascii=False) + "\n")


@functools.lru_cache(maxsize=1)
def _new_file_mode() -> int:
    """The mode ``open()`` gives a new file under the umask (mkstemp makes 0o600 files); read once, as
    reading the umask means setting it for a moment."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
