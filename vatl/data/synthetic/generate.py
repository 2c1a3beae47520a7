"""Synthesise videos and write them in the PoseTrack21 layout through the real format's writer.

Layout written under a root: ``<root>/images/<split>/<video>/<frame:06d>.jpg`` and
``<root>/posetrack_data/<split>/<video>.json`` (read back by
:func:`vatl.data.formats.posetrack21.read_posetrack21`). Every video draws its randomness from
``numpy.random.default_rng([seed, crc32(domain), crc32(split), index])`` only, so a seed gives the
same JSON bytes and images on every run and with any number of workers. ``<root>/synth_manifest.json``
records what was generated; a video whose JSON, images and parameters match the manifest is skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vatl.data.synthetic.appearance import weighted_choice
from vatl.data.synthetic.backgrounds import make_background
from vatl.data.synthetic.domains import DomainSpec, get_domain
from vatl.data.synthetic.figure import Figure, project_figure
from vatl.data.synthetic.labels import frame_annotations
from vatl.data.synthetic.render import render_frames, sample_style
from vatl.data.synthetic.scene import Scene, sample_scene
from vatl.data.video import Frame, Video
from vatl.fileio import write_atomic
from vatl.parallel import run_parallel
from vatl.skeletons import POSETRACK21

log = logging.getLogger(__name__)

GENERATOR_VERSION = 2
MANIFEST = "synth_manifest.json"
MIN_JOINTS = 3


@dataclass
class SyntheticVideo:
    """A synthesised video in memory.

    images: T × (H, W, 3) uint8 BGR (empty unless kept); id_maps: T × (H, W) uint16 (empty unless kept).
    frame_index (N,), track_id (N,), boxes (N, 4) xywh, keypoints (N, 17, 3): the kept instances, sorted
    by frame then track.
    """

    name: str
    domain: str
    width: int
    height: int
    num_frames: int
    frame_index: np.ndarray
    track_id: np.ndarray
    boxes: np.ndarray
    keypoints: np.ndarray
    scene: Scene
    figures: list[Figure]
    images: list[np.ndarray] = field(default_factory=list)
    id_maps: list[np.ndarray] = field(default_factory=list)

    @property
    def num_samples(self) -> int:
        return len(self.frame_index)


def video_rng(seed: int, domain: str, split: str, index: int) -> np.random.Generator:
    """The only source of randomness of one video."""
    return np.random.default_rng([int(seed), zlib.crc32(domain.encode()), zlib.crc32(split.encode()), int(index)])


def project_scene(scene: Scene) -> list[Figure]:
    cam = scene.camera
    return [project_figure(p.pose, p.shape, p.ground, p.scale, p.depth, cam.matrices, cam.roll, cam.zoom)
            for p in scene.persons]


def canvas_margin(scene: Scene) -> int:
    """Pixels the background must extend beyond the base image so that every frame stays inside it."""
    w, h = scene.width, scene.height
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float64)
    need = 0.0
    for m in scene.camera.matrices:
        a_inv = np.linalg.inv(m[:, :2])
        base = (corners - m[:, 2]) @ a_inv.T
        need = max(need, float(np.max(-base[:, 0])), float(np.max(base[:, 0] - w)),
                   float(np.max(-base[:, 1])), float(np.max(base[:, 1] - h)))
    return int(np.ceil(max(need, 0.0))) + 8


def synthesize_video(domain: DomainSpec, num_frames: int, width: int, height: int, rng: np.random.Generator,
                     name: str = "synthetic", keep_images: bool = True, keep_id_maps: bool = False,
                     on_frame: Callable[[int, np.ndarray], None] | None = None, scene: Scene | None = None,
                     min_joints: int = MIN_JOINTS) -> SyntheticVideo:
    """Draw a scene (unless given), render it and read off the ground truth.

    Args:
        on_frame: called with (frame index, BGR image) as each frame is rendered (to stream to disk).
        scene: render this scene instead of drawing one (tests build scenes by hand).
    """
    if width < 32 or height < 32:
        raise ValueError(f"frame size {width}x{height} is too small (at least 32x32)")
    scene = scene if scene is not None else sample_scene(domain, num_frames, width, height, rng)
    figures = project_scene(scene)
    margin = canvas_margin(scene)
    person_px = float(np.median([p.scale.mean() for p in scene.persons])) if scene.persons else height / 3
    canvas = make_background(
        weighted_choice(domain.backgrounds, rng), rng, height + 2 * margin, width + 2 * margin,
        scene.horizon + margin, clutter=int(rng.integers(domain.clutter[0], domain.clutter[1] + 1)),
        limb_distractors=int(rng.integers(domain.limb_distractors[0], domain.limb_distractors[1] + 1)),
        palette=domain.palette, person_px=person_px)
    style = sample_style(domain, rng)
    track_ids = np.array([p.track_id for p in scene.persons], dtype=np.int64)
    out_frame, out_track, out_box, out_kp, images, id_maps = [], [], [], [], [], []
    for t, (image, ids, drawn) in enumerate(render_frames(scene, figures, canvas, margin, style, rng)):
        slots, kp, boxes = frame_annotations(ids, figures, drawn, t, min_joints)
        order = np.argsort(track_ids[slots], kind="stable")
        out_frame.append(np.full(len(slots), t, dtype=np.int64))
        out_track.append(track_ids[slots][order])
        out_box.append(boxes[order])
        out_kp.append(kp[order])
        if on_frame is not None:
            on_frame(t, image)
        if keep_images:
            images.append(image)
        if keep_id_maps:
            id_maps.append(ids)
    k = POSETRACK21.num_keypoints
    return SyntheticVideo(
        name=name, domain=domain.name, width=width, height=height, num_frames=scene.num_frames,
        frame_index=np.concatenate(out_frame) if out_frame else np.zeros(0, np.int64),
        track_id=np.concatenate(out_track) if out_track else np.zeros(0, np.int64),
        boxes=np.concatenate(out_box).reshape(-1, 4) if out_box else np.zeros((0, 4)),
        keypoints=np.concatenate(out_kp).reshape(-1, k, 3) if out_kp else np.zeros((0, k, 3)),
        scene=scene, figures=figures, images=images, id_maps=id_maps)


def image_id(video_number: int, frame: int) -> int:
    """PoseTrack-style image id ``1 VVVVVV FFFF``."""
    return int(f"1{video_number:06d}{frame:04d}")


def to_video(synth: SyntheticVideo, root: str | os.PathLike, split: str, video_number: int) -> Video:
    """The :class:`Video` of a synthesised clip whose frames are (or will be) under ``root``."""
    folder = Path(root).absolute() / "images" / split / synth.name
    frames = [Frame(path=folder / f"{t:06d}.jpg", image_id=image_id(video_number, t), width=synth.width,
                    height=synth.height, is_labeled=True) for t in range(synth.num_frames)]
    image_ids = np.array([f.image_id for f in frames], dtype=np.int64)
    return Video(name=synth.name, keypoint_set=POSETRACK21, frames=frames, frame_index=synth.frame_index,
                 track_id=synth.track_id, boxes=synth.boxes, keypoints=synth.keypoints,
                 annotation_ids=image_ids[synth.frame_index] * 100 + synth.track_id,
                 source={"format": "synthetic", "domain": synth.domain})


@dataclass(frozen=True)
class VideoJob:
    """One video to generate: everything that decides its content (and where it goes)."""

    root: str
    split: str
    name: str
    domain: str
    num_frames: int
    width: int
    height: int
    seed: int
    index: int
    video_number: int

    @property
    def key(self) -> str:
        return f"{self.split}/{self.name}"

    def content(self) -> dict:
        """The parameters that decide the files (the root excluded), with the generator version."""
        d = asdict(self)
        d.pop("root")
        d["generator_version"] = GENERATOR_VERSION
        spec = json.dumps(get_domain(self.domain).to_dict(), sort_keys=True, default=str)
        d["domain_sha256"] = hashlib.sha256(spec.encode()).hexdigest()
        return d

    @property
    def json_path(self) -> Path:
        return Path(self.root) / "posetrack_data" / self.split / f"{self.name}.json"

    @property
    def image_dir(self) -> Path:
        return Path(self.root) / "images" / self.split / self.name


@dataclass(frozen=True)
class VideoResult:
    key: str
    json_path: str
    frames: int
    samples: int
    json_sha256: str
    skipped: bool = False


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_job(job: VideoJob) -> VideoResult:
    """Generate one video: JPEG frames streamed to disk, then the JSON through ``write_posetrack21``."""
    from vatl.data.formats.posetrack21 import write_posetrack21

    domain = get_domain(job.domain)
    job.image_dir.mkdir(parents=True, exist_ok=True)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(domain.jpeg_quality)]

    def save(t: int, image: np.ndarray) -> None:
        path = job.image_dir / f"{t:06d}.jpg"
        if not cv2.imwrite(str(path), image, params):
            raise OSError(f"cannot write image {path}")

    synth = synthesize_video(domain, job.num_frames, job.width, job.height,
                             video_rng(job.seed, job.domain, job.split, job.index), name=job.name,
                             keep_images=False, on_frame=save)
    write_posetrack21(to_video(synth, job.root, job.split, job.video_number), job.json_path)
    return VideoResult(job.key, str(job.json_path), synth.num_frames, synth.num_samples, sha256_of(job.json_path))


def load_manifest(root: Path) -> dict:
    path = Path(root) / MANIFEST
    if not path.is_file():
        return {"videos": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        log.warning("ignoring unreadable manifest %s", path)
        return {"videos": {}}
    return data if isinstance(data.get("videos"), dict) else {"videos": {}}


def _save_manifest(root: Path, manifest: dict) -> None:
    write_atomic(Path(root) / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def is_up_to_date(job: VideoJob, manifest: dict) -> bool:
    """The job's JSON and frames exist and match what the manifest says was generated with its parameters."""
    entry = manifest.get("videos", {}).get(job.key)
    if not entry or entry.get("job") != job.content() or not job.json_path.is_file():
        return False
    if sha256_of(job.json_path) != entry.get("json_sha256"):
        return False
    return all((job.image_dir / f"{t:06d}.jpg").is_file() for t in range(job.num_frames))


def run_jobs(jobs: Iterable[VideoJob], workers: int = 2,
             on_done: Callable[[VideoResult], None] | None = None) -> list[VideoResult]:
    """Generate the videos of ``jobs`` (up-to-date ones are skipped), ``workers`` processes at a time.

    Results come back in the order of ``jobs``. The manifest of every root is updated as videos finish.
    """
    jobs = list(jobs)
    keys = [(j.root, j.key) for j in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("two jobs write the same video (same root, split and name)")
    manifests = {root: load_manifest(Path(root)) for root in {j.root for j in jobs}}
    results: dict[int, VideoResult] = {}
    todo = []
    for i, job in enumerate(jobs):
        if is_up_to_date(job, manifests[job.root]):
            entry = manifests[job.root]["videos"][job.key]
            results[i] = VideoResult(job.key, str(job.json_path), job.num_frames, int(entry.get("samples", 0)),
                                     entry["json_sha256"], skipped=True)
            if on_done is not None:
                on_done(results[i])
        else:
            todo.append(i)

    def record(i: int, result: VideoResult) -> None:
        job = jobs[i]
        manifests[job.root]["version"] = GENERATOR_VERSION
        manifests[job.root]["videos"][job.key] = {"job": job.content(), "json_sha256": result.json_sha256,
                                                  "samples": result.samples}
        _save_manifest(Path(job.root), manifests[job.root])
        results[i] = result
        if on_done is not None:
            on_done(result)

    # longest first: better balance across the workers
    order = sorted(todo, key=lambda i: -jobs[i].num_frames * jobs[i].width * jobs[i].height)
    run_parallel(run_job, [jobs[i] for i in order], workers, catch=False,
                 on_done=lambda position, result, error: record(order[position], result))
    return [results[i] for i in range(len(jobs))]


def parse_size(text: str) -> tuple[int, int]:
    """``"384x288"`` -> (384, 288); a clear error otherwise."""
    parts = str(text).lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"bad frame size {text!r}: expected WIDTHxHEIGHT, e.g. 384x288") from None
    if w < 32 or h < 32 or w > 4096 or h > 4096:
        raise ValueError(f"bad frame size {text!r}: width and height must be between 32 and 4096")
    return w, h


def video_jobs(root: str | os.PathLike, domain: str, videos: int, frames: int | tuple[int, int],
               width: int, height: int, seed: int = 0, split: str = "val", first_number: int = 0,
               name_prefix: str | None = None) -> list[VideoJob]:
    """Jobs for ``videos`` videos of a domain in one PoseTrack root.

    ``frames``: a count, or a (low, high) range drawn per video from the seed.
    """
    get_domain(domain)
    if videos < 1:
        raise ValueError(f"number of videos must be >= 1, got {videos}")
    lo, hi = (frames, frames) if isinstance(frames, int) else frames
    if lo < 1 or hi < lo or hi > 9999:
        raise ValueError(f"bad number of frames {frames!r}: expected 1..9999 (low <= high)")
    prefix = name_prefix or f"synth_{domain}"
    jobs = []
    for i in range(videos):
        count = lo if lo == hi else int(np.random.default_rng([int(seed), zlib.crc32(b"frames"),
                                                                 zlib.crc32(domain.encode()), i]).integers(lo, hi + 1))
        jobs.append(VideoJob(root=str(Path(root).absolute()), split=split, name=f"{prefix}_{i:04d}", domain=domain,
                             num_frames=count, width=width, height=height, seed=int(seed), index=i,
                             video_number=first_number + i))
    return jobs
