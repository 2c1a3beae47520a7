"""File plumbing of the formats: JSON in and out, image paths, natural order."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vatl.data.formats._records import record_error
from vatl.data.video import Video
from vatl.fileio import write_atomic


def load_json(path: str | os.PathLike) -> dict[str, Any]:
    """The top-level JSON object of ``path``.

    Raises FileNotFoundError (missing file), IsADirectoryError (a folder was given) or ValueError
    (not JSON, or not an object at the top level), each naming the path.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory; expected an annotation JSON file")
    try:
        with p.open("r", encoding="utf-8") as f:
            data = json.load(f)
    except UnicodeDecodeError as e:
        raise ValueError(f"{p}: not a JSON file (not UTF-8 text: {e.reason})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a JSON object at the top level, got {type(data).__name__}")
    return data


def dump_json(data: Any, path: str | os.PathLike) -> Path:
    """Write ``data`` to ``path`` deterministically (same input, same bytes) and atomically.

    Parent folders are created. Non-finite numbers are refused (JSON has none).
    """
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory; give the path of the JSON file to write")
    return write_atomic(p, json.dumps(data, allow_nan=False, ensure_ascii=False) + "\n")


def natural_key(text: str) -> tuple:
    """Sort key in which digit runs compare as numbers (``img2`` < ``img10``)."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text))


def relative_to_root(path: str | os.PathLike, root: str | os.PathLike) -> str | None:
    """``path`` relative to ``root`` with forward slashes when it lies inside ``root`` (by name: ``..`` is
    resolved, links are not), else None (also for another drive)."""
    absolute, base = os.path.abspath(path), os.path.abspath(root)
    try:
        if os.path.commonpath([absolute, base]) != base:
            return None
        return Path(os.path.relpath(absolute, base)).as_posix()
    except ValueError:  # another drive (Windows)
        return None


def relative_file_name(path: Path | None, root: Path, fallback: str) -> str:
    """``path`` relative to ``root`` with forward slashes when it lies inside ``root``, else absolute (a
    reader refuses names that leave their root: such a file is read with the images' folder named as its
    image root); ``fallback`` if no path."""
    if path is None:
        return fallback
    rel = relative_to_root(path, root)
    return Path(os.path.abspath(path)).as_posix() if rel is None else rel


def join_image_path(root: Path, file_name: str) -> Path:
    """``root / file_name``, normalised; ValueError when it leaves ``root`` (``..`` or an absolute path
    elsewhere). The check is on the names, so symbolic links inside the root may point anywhere."""
    base = os.path.abspath(root)
    joined = os.path.normpath(os.path.join(base, file_name))
    if relative_to_root(joined, base) is None:
        raise ValueError(f"{file_name!r} lies outside the image root {base}; image paths must stay inside it "
                         "(name the folder that holds the images as the image root: image_root= / --image-root)")
    return Path(joined)


def image_path(path: Path, index: int, image: Mapping[str, Any], root: Path, file_name: str) -> Path:
    """:func:`join_image_path` for ``images[index]`` of the file ``path``; errors name the record and field."""
    try:
        return join_image_path(root, file_name)
    except ValueError as exc:
        raise record_error(path, "images", index, image, "file_name", str(exc)) from None


def missing_frames(video: Video) -> list[Path]:
    """Frame image paths that do not exist (frames without a path are ignored)."""
    return [f.path for f in video.frames if f.path is not None and not Path(f.path).is_file()]


def check_frames_exist(video: Video, source: str | os.PathLike) -> None:
    """Raise FileNotFoundError naming the first missing images of ``video``."""
    missing = missing_frames(video)
    if missing:
        shown = ", ".join(str(m) for m in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise FileNotFoundError(f"{source}: {len(missing)} of {len(video.frames)} frame images are missing: "
                                f"{shown}{more} (check image_root)")


def written_file_name(path: Path | None, root: Path, fallback: str, absolute: bool = False) -> str:
    """The ``file_name`` to write for an image at ``path`` in a file whose image root is ``root``: relative
    to ``root`` when the image lies inside it (so it resolves from where the file is written), else — or
    with ``absolute`` — its absolute path (read such a file with ``--image-root`` a folder that holds the
    images: readers refuse paths outside their image root)."""
    if path is None:
        return fallback
    if absolute:
        return Path(os.path.abspath(path)).as_posix()
    return relative_file_name(path, root, fallback)


# Names that say nothing about the video (tool exports, generic layouts): the next source is used instead.
_GENERIC_NAMES = re.compile(r"^(annotations?|labels?|default|images?|frames?|imgs?|train|val|test|data|"
                            r"person_keypoints(_\w+)?|instances(_\w+)?|collecteddata(_\w+)?|poses?(_\w+)?|"
                            r"results?|project-\d+.*|task_.*)$", re.IGNORECASE)


def video_name(path: Path, data: Mapping[str, Any], frames: list, vid_id: Any = None) -> str:
    """The video's name from the data before the file's name: ``vid_id`` (PoseTrack), a COCO ``videos``
    entry (its ``name``, else its ``file_name``'s stem) or ``info.video`` / ``info.video_name``, then the
    folder that holds every frame, then the file's stem, then its folder; names that say nothing
    (``annotations``, ``person_keypoints_default``, ``images``, …) are passed over."""
    candidates: list[Any] = [vid_id]
    videos = data.get("videos")
    if isinstance(videos, list) and len(videos) == 1 and isinstance(videos[0], Mapping):
        entry = videos[0]
        candidates.append(entry.get("name"))
        if isinstance(entry.get("file_name"), str):
            candidates.append(Path(entry["file_name"]).stem)
    info = data.get("info")
    if isinstance(info, Mapping):
        candidates += [info.get("video"), info.get("video_name")]
    parents = {Path(f.path).parent for f in frames if getattr(f, "path", None) is not None}
    if len(parents) == 1:
        candidates.append(next(iter(parents)).name)
    p = Path(path)
    candidates += [p.stem, p.absolute().parent.name, p.absolute().parent.parent.name]
    for c in candidates:
        if isinstance(c, (str, int)) and not isinstance(c, bool) and str(c).strip() \
                and not _GENERIC_NAMES.match(str(c).strip()):
            return str(c).strip()
    return p.stem
