"""Obtain BlazePose's two models from the ``mediapipe`` wheel on PyPI and cache them: the landmark model
``pose_landmark_full.tflite`` (the pose estimator) and the person detector ``pose_detection.tflite``.

The wheel is downloaded once with ``pip download --no-deps`` into a temporary folder (mediapipe is never
installed), both files are read out of the wheel's zip archive and kept under the user's cache folder
(``$VATL_CACHE``, else ``$XDG_CACHE_HOME/vatl``, else ``~/.cache/vatl``). ``make setup`` runs
``vatl blazepose fetch``; nothing is downloaded at run time.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from vatl.fileio import write_atomic

log = logging.getLogger(__name__)

MEDIAPIPE_VERSION = "0.10.21"
MODEL_MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
MODEL_FILENAME = f"pose_landmark_full-mediapipe-{MEDIAPIPE_VERSION}.tflite"
DETECTOR_MEMBER = "mediapipe/modules/pose_detection/pose_detection.tflite"
DETECTOR_FILENAME = f"pose_detection-mediapipe-{MEDIAPIPE_VERSION}.tflite"


class FetchError(RuntimeError):
    """The model file could not be obtained (offline, pip missing, unexpected wheel)."""


def cache_dir() -> Path:
    """The folder where vatl caches downloaded models."""
    if os.environ.get("VATL_CACHE"):
        return Path(os.environ["VATL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vatl"


def cached_model_path() -> Path:
    """Where the TFLite file lives once fetched (it may not exist yet)."""
    return cache_dir() / MODEL_FILENAME


def cached_detector_path() -> Path:
    """Where the person detector's TFLite file lives once fetched (it may not exist yet)."""
    return cache_dir() / DETECTOR_FILENAME


def extract_model(wheel: str | os.PathLike, dest: str | os.PathLike, member: str = MODEL_MEMBER) -> Path:
    """Copy ``member`` (default :data:`MODEL_MEMBER`) out of the wheel (a zip file) to ``dest`` (written
    atomically)."""
    wheel, dest = Path(wheel), Path(dest)
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                data = zf.read(member)
            except KeyError:
                raise FetchError(f"wheel {wheel} has no member {member}") from None
    except zipfile.BadZipFile:
        raise FetchError(f"{wheel} is not a wheel (zip) file") from None
    return write_atomic(dest, data)


def download_wheel(folder: Path, version: str = MEDIAPIPE_VERSION, timeout: float = 600.0) -> Path:
    """``pip download --no-deps mediapipe==version`` into ``folder``; returns the wheel's path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "-d", str(folder), f"mediapipe=={version}"]
    log.info("downloading the mediapipe %s wheel (about 35 MB): %s", version, " ".join(cmd))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise FetchError(f"cannot run pip with {sys.executable}") from None
    except subprocess.TimeoutExpired:
        raise FetchError(f"pip download of mediapipe=={version} did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise FetchError(f"could not download mediapipe=={version} from the package index (offline? no wheel "
                         f"for this platform?). pip said:\n{tail}\nAlternatively place a copy of "
                         f"{MODEL_MEMBER} from any mediapipe {version} wheel at {cached_model_path()}")
    wheels = sorted(folder.glob("mediapipe-*.whl"))
    if not wheels:
        raise FetchError(f"pip download succeeded but left no mediapipe wheel in {folder}")
    return wheels[0]


def fetch_model(force: bool = False, wheel: str | os.PathLike | None = None, detector: bool = False) -> Path:
    """The path of the cached landmark model, downloading the wheel first when needed; with ``detector``
    the person detector must be taken from the wheel too (:func:`fetch_models` fetches both).

    ``wheel``: use this local wheel file instead of downloading. ``force``: fetch again even if cached.
    """
    wanted = {MODEL_MEMBER: cached_model_path()}
    if detector:
        wanted[DETECTOR_MEMBER] = cached_detector_path()
    missing = {m: d for m, d in wanted.items() if force or not d.is_file()}
    if missing:
        if wheel is not None:
            for member, dest in missing.items():
                extract_model(wheel, dest, member)
        else:
            with tempfile.TemporaryDirectory(prefix="vatl-mediapipe-") as tmp:
                downloaded = download_wheel(Path(tmp))
                for member, dest in missing.items():
                    extract_model(downloaded, dest, member)
        for dest in missing.values():
            log.info("cached %s (%d bytes)", dest, dest.stat().st_size)
    return wanted[MODEL_MEMBER]


def fetch_models(force: bool = False, wheel: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """(landmark model, person detector): both cached from one wheel (downloaded only if one is missing)."""
    fetch_model(force=force, wheel=wheel, detector=True)
    return cached_model_path(), cached_detector_path()


def require_model() -> Path:
    """The cached TFLite file; a clear error (with the command that fetches it) when absent."""
    path = cached_model_path()
    if not path.is_file():
        raise FileNotFoundError(f"the BlazePose model {path} is not cached yet; run `vatl blazepose fetch`")
    return path


def require_detector() -> Path:
    """The cached person detector's TFLite file; a clear error (with the command that fetches it) when absent."""
    path = cached_detector_path()
    if not path.is_file():
        raise FileNotFoundError(f"BlazePose's person detector {path} is not cached yet; run `vatl blazepose fetch` "
                                "(make setup does)")
    return path
