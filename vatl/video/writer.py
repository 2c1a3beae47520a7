"""Writing mp4 files with PyAV, one frame at a time (H.264 when the FFmpeg build has libx264, else MPEG-4 part 2).

Frames are (H, W, 3) uint8 RGB of one size; odd sizes are padded by one black pixel (yuv420p needs even
sizes). The file is written under a temporary name and renamed when closed (:func:`vatl.fileio.atomic_path`),
so a failed write leaves no half file.
"""

from __future__ import annotations

import contextlib
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vatl.fileio import atomic_path


def _codec() -> str:
    import av

    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


class Mp4Writer:
    """``with Mp4Writer(path, fps) as w: w.write(frame)`` for each frame."""

    def __init__(self, path: str | os.PathLike, fps: float = 25.0, crf: int = 23, codec: str | None = None,
                 options: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        self.fps = Fraction(fps).limit_denominator(1001) if fps and fps > 0 else Fraction(25)
        self.crf = int(crf)
        self.codec = codec or _codec()
        self.options = dict(options or {})
        self._files = contextlib.ExitStack()
        self._container: Any = None
        self._stream: Any = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _open(self, width: int, height: int) -> None:
        import av

        tmp = self._files.enter_context(atomic_path(self.path))
        self._container = av.open(str(tmp), mode="w", format="mp4")
        stream = self._container.add_stream(self.codec, rate=self.fps)
        stream.width, stream.height = width + width % 2, height + height % 2
        stream.pix_fmt = "yuv420p"
        if self.codec == "libx264":
            stream.options = {"crf": str(self.crf), **self.options}
        else:
            stream.bit_rate = max(400_000, width * height * 4)
            stream.options = dict(self.options)
        self._stream = stream
        self._size = (width, height)

    def write(self, frame: np.ndarray) -> None:
        import av

        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        h, w = frame.shape[:2]
        if self._container is None:
            self._open(w, h)
        elif (w, h) != self._size:
            raise ValueError(f"{self.path}: frame {self.frames} is {w}×{h}, the video {self._size[0]}×{self._size[1]}")
        if w % 2 or h % 2:
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)))
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> Path:
        """Flush, close and move the file into place; returns its path."""
        if self._container is None:
            raise ValueError(f"{self.path}: no frame was written")
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        self._container = None
        self._files.close()  # renames the finished file into place
        return self.path

    def abort(self) -> None:
        if self._container is not None:
            with contextlib.suppress(Exception):  # already failing: remove the temporary file regardless
                self._container.close()
            self._container = None
        self._files.__exit__(RuntimeError, RuntimeError("write aborted"), None)  # removes the temporary file


def encode_frames(frames: Any, path: str | os.PathLike, fps: float = 25.0, **options: Any) -> Path:
    """Write an iterable of frames (H, W, 3) uint8 RGB to an mp4 at ``path``."""
    with Mp4Writer(path, fps, **options) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)
