"""What the annotation-tool formats (Label Studio, CVAT, SLEAP / DeepLabCut) share: a frame's size and
image name as a tool sees it, and finding the sample an answer is for by (image name, track id)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from vatl.data.formats._files import relative_to_root
from vatl.data.video import Video


def frame_image_name(frame: int) -> str:
    """The image name of a frame without an image file (a video file's frame): ``000123.jpg``."""
    return f"{frame:06d}.jpg"


def frame_size(video: Video, frame: int, tool: str) -> tuple[int, int]:
    """(width, height) of ``video.frames[frame]`` (from the annotation, else the image's header);
    ValueError naming the video and frame when unknown (``tool`` says who needs it)."""
    w, h = video.frames[frame].size()
    if w <= 0 or h <= 0:
        raise ValueError(f"video {video.name!r}: frame {frame} has no known size ({tool} needs it); give the "
                         "images' width/height in the annotation file")
    return int(w), int(h)


def image_root_of(video: Video, frame: int, image_root: str | os.PathLike | None) -> Path:
    """``image_root`` if given, else the video's (``source['image_root']``), else the frame's folder."""
    if image_root is not None:
        return Path(image_root)
    root = video.source.get("image_root")
    path = video.frames[frame].path
    return Path(root) if root is not None else Path(path).parent if path is not None else Path(".")


def image_name(video: Video, frame: int, image_root: str | os.PathLike | None = None) -> str | None:
    """The frame's image path under the image root (forward slashes); None when it has an image file that
    lies outside the root; :func:`frame_image_name` when it has no image file."""
    path = video.frames[frame].path
    if path is None:
        return frame_image_name(frame)
    return relative_to_root(path, image_root_of(video, frame, image_root))


class SampleMatcher:
    """The samples of a video by (frame image name, track id), to match a tool's answers to them.

    A frame is known by its name under the image root and by its file name alone; a file name that
    several frames share is known by their full names only (no answer lands on a guessed frame).
    """

    def __init__(self, video: Video, image_root: str | os.PathLike | None = None) -> None:
        names: dict[int, set[str]] = {}
        owners: dict[str, set[int]] = {}
        for frame in sorted({int(f) for f in video.frame_index.tolist()}):
            rel = image_name(video, frame, image_root)
            path = video.frames[frame].path
            base = Path(path).name if path is not None else frame_image_name(frame)
            names[frame] = {n for n in (rel, base) if n is not None}
            owners.setdefault(base, set()).add(frame)
        self._sample: dict[tuple[str, int], int] = {}
        for i in range(video.num_samples):
            frame = int(video.frame_index[i])
            for name in names[frame]:
                if len(owners.get(name, ())) <= 1 or name != PurePosixPath(name).name:
                    self._sample.setdefault((name, int(video.track_id[i])), i)

    def find(self, name: str, track: int) -> int | None:
        """The sample on the image ``name`` (a path under the image root, or any path whose file name is
        the frame's) with track ``track``; None when there is none."""
        for key in (name, PurePosixPath(str(name).replace("\\", "/")).name):
            sample = self._sample.get((key, int(track)))
            if sample is not None:
                return sample
        return None
