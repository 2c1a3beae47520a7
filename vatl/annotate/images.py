"""Frames as JPEG for the page, found by sample id only: the client never names a file.

A sample id (0..N-1) gives its frame through the video's own arrays; the frame's path comes from the
annotation file as read (and checked to stay inside the image root) by :mod:`vatl.data.formats`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import cv2
import numpy as np

from vatl.data.video import Video

JPEG_QUALITY = 90


class SampleNotFound(LookupError):
    """A sample id outside the video, or a sample whose frame has no image."""


class FrameImages:
    """JPEG bytes of the frame of a sample, encoded with OpenCV; the last ``cache_size`` frames are kept."""

    def __init__(self, video: Video, cache_size: int = 32) -> None:
        self.video = video
        self.cache_size = cache_size
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def frame_of(self, sample: int) -> int:
        """The frame index of ``sample``; SampleNotFound when it is not a sample of the video."""
        if not 0 <= sample < self.video.num_samples:
            raise SampleNotFound(f"sample {sample} is not in the video (samples 0..{self.video.num_samples - 1})")
        return int(self.video.frame_index[sample])

    def jpeg(self, sample: int) -> bytes:
        """The frame of ``sample`` as JPEG bytes (RGB as the video loads it, encoded BGR as OpenCV expects)."""
        index = self.frame_of(sample)
        with self._lock:
            if index in self._cache:
                self._cache.move_to_end(index)
                return self._cache[index]
        frame = self.video.frames[index]
        try:
            rgb = frame.load()
        except FileNotFoundError as exc:
            raise SampleNotFound(f"sample {sample}: {exc}") from None
        data = encode_jpeg(rgb)
        with self._lock:
            self._cache[index] = data
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return data


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """(H, W, 3) uint8 RGB -> JPEG bytes."""
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the frame as JPEG")
    return buffer.tobytes()
