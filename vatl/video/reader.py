"""Frames of a clip: a video file (PyAV) or a folder of images, read one frame at a time.

:func:`open_frames` returns a :class:`FrameSource`; ``source.read(i)`` gives frame i as (H, W, 3) uint8
RGB. Nothing holds more than the frame being decoded (and the last one read).

Video files are indexed exactly: on opening, the stream's packets are demuxed (not decoded) and their
presentation timestamps sorted, so frame i is the i-th frame in presentation order whatever the codec's
B-frame reordering. Reads in increasing order decode forward (each frame once); a read behind the
decoder, or past the next keyframe, seeks to the keyframe at or before the frame and decodes forward
from there. The frame rate is the stream's average rate (None when the container has none).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vatl.data.formats._files import natural_key

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class FrameSource(Protocol):
    """A clip's frames: ``read(i)`` for 0 <= i < ``num_frames``; ``frame_path(i)`` the image file of frame i
    (None for a video file's frames)."""

    path: Path
    num_frames: int
    width: int
    height: int
    fps: float | None

    def read(self, index: int) -> np.ndarray: ...

    def frame_path(self, index: int) -> Path | None: ...


def is_media(path: str | os.PathLike) -> bool:
    """True for a video file (by suffix) or a folder (of frames); annotation JSONs are not media."""
    p = Path(path)
    return p.is_dir() or p.suffix.lower() in VIDEO_SUFFIXES


def open_frames(path: str | os.PathLike) -> FrameSource:
    """A :class:`VideoFile` for a video file, an :class:`ImageFolder` for a folder of images.

    Raises FileNotFoundError (no such path), OSError (not a readable video) or ValueError (no video
    stream, no frames, a folder without images), each naming the path.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file or folder")
    if p.is_dir():
        return ImageFolder(p)
    return VideoFile(p)


class ImageFolder:
    """The images of a folder (suffixes :data:`IMAGE_SUFFIXES`) in natural order (``2.jpg`` before ``10.jpg``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.files = sorted((f for f in self.path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()),
                            key=lambda f: natural_key(f.name))
        if not self.files:
            raise ValueError(f"{self.path}: is a directory without images ({', '.join(IMAGE_SUFFIXES)}); give a folder "
                             "of frames, a video file or an annotation JSON file")
        self.num_frames = len(self.files)
        first = self.read(0)
        self.height, self.width = first.shape[:2]
        self.fps: float | None = None

    def frame_path(self, index: int) -> Path:
        return self.files[_check_index(index, self.num_frames, self.path)]

    def read(self, index: int) -> np.ndarray:
        import cv2

        path = self.frame_path(index)
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f"cannot read image {path} (frame {index} of {self.path})")
        return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class VideoFile:
    """A video file read through PyAV with exact frame indexing (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._container: Any = None
        self._decoder: Iterator[Any] | None = None
        self._next = 0  # index of the frame the decoder yields next (valid while _decoder is not None)
        self._last: tuple[int, np.ndarray] | None = None
        self.seeks = 0  # number of seeks made (for tests and benchmarks)
        self.decoded = 0  # number of frames decoded
        pts, keyframe = self._index()
        self._pts = pts
        self._index_of = {int(p): i for i, p in enumerate(pts)}
        self._keyframes = np.flatnonzero(keyframe)
        self.num_frames = len(pts)
        first = self.read(0)
        self.height, self.width = first.shape[:2]

    # ------------------------------------------------------------------------------------ opening
    def _open(self) -> Any:
        if self._container is None:
            import av

            try:
                self._container = av.open(str(self.path))
            except (av.FFmpegError, UnicodeDecodeError) as exc:
                raise OSError(f"{self.path}: not a readable video ({exc})") from None
            if not self._container.streams.video:
                self._container.close()
                self._container = None
                raise ValueError(f"{self.path}: the file has no video stream")
            stream = self._container.streams.video[0]
            stream.thread_type = "AUTO"
            self._stream = stream
        return self._container

    def _index(self) -> tuple[np.ndarray, np.ndarray]:
        """Presentation timestamps (F,) sorted, and (F,) whether each frame's packet is a keyframe."""
        import av

        container = self._open()
        stream = self._stream
        entries = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0:  # the flush packet at the end
                    continue
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is None:
                    raise ValueError(f"{self.path}: packets without timestamps; convert the video "
                                     "(e.g. ffmpeg -i in -c:v libx264 out.mp4) to read its frames exactly")
                entries.append((int(ts), bool(packet.is_keyframe)))
        except av.FFmpegError as exc:
            raise OSError(f"{self.path}: not a readable video ({exc})") from None
        if not entries:
            raise ValueError(f"{self.path}: the video has no frames")
        entries.sort()
        pts = np.array([e[0] for e in entries], dtype=np.int64)
        if len(np.unique(pts)) != len(pts):
            raise ValueError(f"{self.path}: frames with equal timestamps; convert the video to read it exactly")
        keyframe = np.array([e[1] for e in entries], dtype=bool)
        keyframe[0] = True  # decoding always starts at the first frame
        rate = stream.average_rate
        self.fps = float(rate) if rate else None
        self.close()  # demuxing read to the end: decoding starts from a fresh container
        return pts, keyframe

    def __getstate__(self) -> dict[str, Any]:  # picklable: the container is reopened on the first read
        state = dict(self.__dict__)
        state.update(_container=None, _decoder=None, _last=None)
        state.pop("_stream", None)
        return state

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container, self._decoder, self._last = None, None, None

    # ------------------------------------------------------------------------------------ reading
    def frame_path(self, index: int) -> None:
        return None

    def read(self, index: int) -> np.ndarray:
        """Frame ``index`` (H, W, 3) uint8 RGB."""
        index = _check_index(index, self.num_frames, self.path)
        if self._last is not None and self._last[0] == index:
            return self._last[1].copy()
        image = self._decode_at(index)
        self._last = (index, image)
        return image.copy()

    def _decode_at(self, index: int) -> np.ndarray:
        import av

        self._open()
        key = int(self._keyframes[np.searchsorted(self._keyframes, index, side="right") - 1])
        if self._decoder is None or not key <= self._next <= index:
            self._seek(key)
        target = int(self._pts[index])
        try:
            for frame in self._decoder:
                self.decoded += 1
                if frame.pts is None:
                    raise ValueError(f"{self.path}: decoded a frame without a timestamp")
                position = self._index_of.get(int(frame.pts))
                if position is None:
                    raise ValueError(f"{self.path}: decoded a frame (pts {frame.pts}) that the index does not hold")
                self._next = position + 1
                if position == index:
                    return frame.to_ndarray(format="rgb24")
                if frame.pts > target:
                    break
        except av.FFmpegError as exc:
            self._decoder = None
            raise OSError(f"{self.path}: cannot decode frame {index} ({exc})") from None
        self._decoder = None
        raise ValueError(f"{self.path}: frame {index} could not be decoded (the file may be truncated)")

    def _seek(self, key: int) -> None:
        """Position the decoder at keyframe ``key`` (a frame index)."""
        self._last = None
        self._container.seek(int(self._pts[key]), stream=self._stream, backward=True, any_frame=False)
        self._decoder = self._container.decode(self._stream)
        self._next = key
        self.seeks += 1


def _check_index(index: int, count: int, path: Path) -> int:
    i = int(index)
    if not 0 <= i < count:
        raise IndexError(f"{path}: frame {index} is outside 0..{count - 1}")
    return i
