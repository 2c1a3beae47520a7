"""SLEAP ``.slp`` and DeepLabCut ``CollectedData_*.csv`` / ``.h5`` through ``sleap-io`` (optional extra:
``pip install 'vatl[formats]'``), so that animal users can start from their own labels and take vatl's
queries and poses back to their tool.

Reading (:func:`read_slp`, :func:`read_dlc`) gives a :class:`~vatl.data.video.Video`:

* samples: the *user* instances of one video (predicted instances are not ground truth: they are
  counted in ``skipped['predicted_instance']``); points with coordinates are labels, v = 2 when visible,
  1 when marked not visible; missing points are v = 0;
* boxes: the labeled points' extent padded by 10 % per side, clipped to the frame (neither tool has
  person boxes);
* tracks: the instance's track (SLEAP) or individual (DLC); a frame with several instances and no tracks
  is an error naming it (a video needs tracks); one untracked instance per frame is track 0;
* frames: one per frame number from the first to the last labeled one (unlabeled frames in between
  keep temporal neighbours honest); image-sequence videos give their files; a SLEAP video stored as a
  media file (or embedded) needs ``frames_dir``, where its labeled frames are written as PNG images;
  every image or media file must lie inside the image root (SLEAP: ``image_root``, default the file's
  folder, relative names resolve from it; DLC: the folder above the file's): ``..`` escapes and
  absolute paths elsewhere are errors naming the file and the path;
* the keypoint set: the skeleton's nodes, edges and symmetries (flip pairs; names where it has none),
  sigmas by name (:func:`vatl.skeletons.default_sigmas`). DLC's CSV lists bodyparts in its header order.

Writing (:func:`write_slp`, :func:`write_dlc`) takes the samples ``indices`` and their poses: in SLEAP,
labels become user instances and predictions (``predicted`` rows) predicted instances with their scores,
which SLEAP's GUI offers to correct; DLC's ``CollectedData`` holds labels only, so predictions are written
as the points to correct, in a project folder (``labeled-data/<video>/`` with copies of the frames, which
DLC's labeling GUI expects there). :func:`read_slp_answers` / :func:`read_dlc_answers` read a corrected
file back as answers (matched by frame image name and track, :class:`~vatl.data.formats._tools.SampleMatcher`;
an instance without a track, a track not named by vatl, or two instances for one sample are errors), for
the session's validation.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from vatl.data.formats._files import join_image_path, relative_to_root, video_name
from vatl.data.formats._records import box_from_keypoints
from vatl.data.formats._tools import SampleMatcher
from vatl.data.video import Frame, Video
from vatl.fileio import atomic_path
from vatl.skeletons import KeypointSet, default_sigmas, infer_angle_triples, infer_flip_pairs

log = logging.getLogger(__name__)

SLP_FORMAT, DLC_FORMAT = "slp", "dlc"
SKIP_PREDICTED = "predicted_instance"
BOX_PADDING = 0.1


def _sio():
    try:
        import sleap_io
    except ImportError:
        raise ImportError("reading and writing SLEAP / DeepLabCut files needs sleap-io: "
                          "pip install 'vatl[formats]' (or pip install sleap-io)") from None
    return sleap_io


def _keypoint_set(skeleton: Any, names: list[str] | None = None) -> tuple[KeypointSet, list[int]]:
    """The keypoint set of a sleap-io skeleton, with slots in ``names`` order (default: the skeleton's);
    returns it and, per slot, the skeleton's node index."""
    node_names = list(skeleton.node_names)
    order = [node_names.index(n) for n in names] if names else list(range(len(node_names)))
    slots = [node_names[j] for j in order]
    pos = {j: i for i, j in enumerate(order)}
    edges = tuple((pos[a], pos[b]) for a, b in skeleton.edge_inds if a in pos and b in pos)
    pairs = []
    for sym in getattr(skeleton, "symmetries", []) or []:
        a, b = sorted(pos[node_names.index(n.name)] for n in sym.nodes)
        pairs.append((a, b))
    flips = tuple(sorted(pairs)) or infer_flip_pairs(slots)
    sigmas, source = default_sigmas(slots)
    from vatl.skeletons import angle_triples_from_edges

    triples = infer_angle_triples(slots) or angle_triples_from_edges(len(slots), edges)
    name = getattr(skeleton, "name", None) or "skeleton"
    return KeypointSet(str(name), tuple(slots), sigmas, flip_pairs=flips, skeleton=edges, angle_triples=triples,
                       sigma_source=source), order


def _points(instance: Any, order: list[int]) -> np.ndarray:
    """(K, 3) x, y, v of a sleap-io instance (v = 2 visible, 1 labeled but not visible, 0 missing)."""
    pts = instance.points
    xy = np.asarray(pts["xy"], dtype=np.float64)[order]
    visible = np.asarray(pts["visible"], dtype=bool)[order]
    present = np.isfinite(xy).all(axis=1)
    v = np.where(present, np.where(visible, 2.0, 1.0), 0.0)
    return np.concatenate([np.where(present[:, None], xy, 0.0), v[:, None]], axis=1)


def _frame_number(name: str, fallback: int) -> int:
    digits = re.findall(r"(\d+)", Path(name).stem)
    return int(digits[-1]) if digits else fallback


def _inside(path: Path, root: Path | None, name: str, what: str) -> Path:
    """``name`` (a file the labels refer to) resolved under ``root``; ValueError naming ``path`` when it
    leaves the root (``..`` or an absolute path elsewhere). ``root`` None: names only, taken as given."""
    if root is None:
        return Path(name)
    try:
        return join_image_path(root, name)
    except ValueError as exc:
        raise ValueError(f"{path}: {what} {name!r}: {exc}") from None


def labels_to_video(labels: Any, path: Path, video_index: int | None = None, frames_dir: Path | None = None,
                    names: list[str] | None = None, fmt: str = SLP_FORMAT, image_root: Path | None = None,
                    untracked_track: int = 0) -> Video:
    """A vatl video from sleap-io ``Labels`` (see the module docstring); ``path`` names the file in errors.

    image_root: the folder every image (or media) file the labels name must lie inside (relative names
    resolve from it); None: the names are only names (answers are matched by them, nothing is opened).
    untracked_track: the track id of an instance without a track."""
    if not labels.videos:
        raise ValueError(f"{path}: holds no video")
    if video_index is None:
        if len(labels.videos) > 1:
            raise ValueError(f"{path}: holds {len(labels.videos)} videos; choose one (video_index=0..)")
        video_index = 0
    sio_video = labels.videos[video_index]
    if not labels.skeletons:
        raise ValueError(f"{path}: holds no skeleton")
    ks, order = _keypoint_set(labels.skeletons[0], names)
    frames_of = sorted((lf for lf in labels.labeled_frames if lf.video is sio_video), key=lambda lf: lf.frame_idx)
    filenames = sio_video.filename if isinstance(sio_video.filename, list) else None
    if filenames is not None:
        beyond = [lf.frame_idx for lf in frames_of if not 0 <= int(lf.frame_idx) < len(filenames)]
        if beyond:
            raise ValueError(f"{path}: labeled frame {beyond[0]} of video {video_index} is beyond its "
                             f"{len(filenames)} image files" + (f" (and {len(beyond) - 1} more)" if len(beyond) > 1 else ""))
        filenames = [str(_inside(path, image_root, str(f), "image")) for f in filenames]
    numbers = [(_frame_number(filenames[lf.frame_idx], lf.frame_idx) if filenames and fmt == DLC_FORMAT
                else int(lf.frame_idx)) for lf in frames_of]
    track_ids = {id(t): n for n, t in enumerate(labels.tracks)}
    skipped: dict[str, int] = {}
    rows: list[tuple[int, int, np.ndarray]] = []  # (labeled frame position, track, keypoints)
    for pos, lf in enumerate(frames_of):
        users = list(lf.user_instances)
        if len(lf.predicted_instances):
            skipped[SKIP_PREDICTED] = skipped.get(SKIP_PREDICTED, 0) + len(lf.predicted_instances)
        untracked = [inst for inst in users if inst.track is None]
        if untracked and len(users) > 1:
            raise ValueError(f"{path}: frame {lf.frame_idx} has {len(users)} instances, {len(untracked)} without a "
                             "track; assign tracks (every instance of a video needs its track)")
        for inst in users:
            kp = _points(inst, order)
            if not (kp[:, 2] > 0).any():
                skipped["no_annotated_joint"] = skipped.get("no_annotated_joint", 0) + 1
                continue
            rows.append((pos, untracked_track if inst.track is None else track_ids[id(inst.track)], kp))
    first = min(numbers) if numbers else 0
    count = (max(numbers) - first + 1) if numbers else 0
    frames = [Frame(path=None, image_id=first + j, is_labeled=False) for j in range(count)]
    height, width = (int(sio_video.shape[1]), int(sio_video.shape[2])) if sio_video.shape is not None else (0, 0)
    for pos, lf in enumerate(frames_of):
        j = numbers[pos] - first
        if filenames is not None:
            frame_path = Path(filenames[lf.frame_idx])
        elif frames_dir is not None:
            _open_media(sio_video, path, image_root)
            frame_path = _extract(sio_video, lf.frame_idx, Path(frames_dir), path)
        else:
            raise ValueError(f"{path}: its video {sio_video.filename!r} is a media file (or embedded); give a folder "
                             "to extract its labeled frames to (frames_dir= / --frames-dir)")
        frames[j] = Frame(path=frame_path, image_id=first + j, width=width, height=height, is_labeled=True)
    n = len(rows)
    kp = np.array([r[2] for r in rows]).reshape(n, ks.num_keypoints, 3)
    frame_index = np.array([numbers[r[0]] - first for r in rows], dtype=np.int64)
    boxes = np.array([box_from_keypoints(kp[i], BOX_PADDING, frames[frame_index[i]].width,
                                         frames[frame_index[i]].height) for i in range(n)]).reshape(n, 4)
    empty = (boxes[:, 2] <= 0) | (boxes[:, 3] <= 0)  # one labeled point: give it a box of 1 % of the frame
    if empty.any():
        side = max(1.0, 0.01 * max(width, height, 100))
        boxes[empty, :2] -= side / 2
        boxes[empty, 2:] = side
    name = video_name(path, {}, [f for f in frames if f.path is not None])
    source = {"format": fmt, "path": str(path), "image_root": str(Path(filenames[0]).parent) if filenames else None}
    return Video(name=name, keypoint_set=ks, frames=frames, frame_index=frame_index,
                 track_id=np.array([r[1] for r in rows], dtype=np.int64), boxes=boxes, keypoints=kp,
                 annotation_ids=np.arange(n), skipped=dict(sorted(skipped.items())), source=source)


def _open_media(sio_video: Any, path: Path, image_root: Path | None) -> None:
    """Open a media (or embedded) video of the labels once its file is known to lie inside the image root
    (an embedded video is the labels file itself)."""
    if sio_video.is_open:
        return
    name = str(sio_video.filename)
    own = os.path.abspath(name) == os.path.abspath(path)
    resolved = None if own else _inside(path, image_root, name, "video")
    try:
        sio_video.open() if resolved is None else sio_video.open(filename=str(resolved))
    except Exception as exc:  # noqa: BLE001 - the video backends raise many types
        raise OSError(f"{path}: cannot open its video {name!r}: {exc}") from None


def _extract(sio_video: Any, frame_idx: int, folder: Path, path: Path) -> Path:
    import cv2

    out = folder / f"{frame_idx:06d}.png"
    if not out.is_file():
        try:
            image = np.asarray(sio_video[frame_idx])
        except Exception as exc:  # noqa: BLE001 - the video backends raise many types
            raise OSError(f"{path}: cannot read frame {frame_idx} of {sio_video.filename!r}: {exc}") from None
        if image.ndim == 3 and image.shape[2] == 3:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(out) as tmp:
            if not cv2.imwrite(str(tmp.with_suffix(".png")), image):
                raise OSError(f"cannot write {out}")
            tmp.with_suffix(".png").replace(tmp)
    return out


def _load_slp(p: Path) -> Any:
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    try:
        return _sio().load_slp(str(p), open_videos=False)
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py / sleap-io raise many types for a bad file
        raise ValueError(f"{p}: not a readable SLEAP file ({type(exc).__name__}: {exc})") from None


def read_slp(path: str | os.PathLike, frames_dir: str | os.PathLike | None = None, video_index: int | None = None,
             image_root: str | os.PathLike | None = None) -> Video:
    """A SLEAP ``.slp`` file's user labels of one video as a vatl video (see the module docstring). Its image
    (or media) files must lie inside ``image_root`` (default: the file's folder); relative names resolve
    from there. A media video is opened (to extract frames to ``frames_dir``) only after that check."""
    p = Path(path)
    labels = _load_slp(p)
    root = Path(image_root) if image_root is not None else p.absolute().parent
    return labels_to_video(labels, p, video_index, None if frames_dir is None else Path(frames_dir),
                           image_root=root)


def _csv_header(path: Path) -> tuple[list[str], list[str]]:
    """(bodyparts in header order, individuals in header order) of a DLC CSV."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = [r for _, r in zip(range(4), csv.reader(f))]
    by_key = {r[0]: r for r in rows if r}
    parts = [c for c in by_key.get("bodyparts", [])[1:] if c]
    individuals = [c for c in by_key.get("individuals", [])[1:] if c]
    return list(dict.fromkeys(parts)), list(dict.fromkeys(individuals))


def _dlc_csv(path: Path) -> Path:
    if path.suffix == ".h5":
        csv_path = path.with_suffix(".csv")
        if not csv_path.is_file():
            raise ValueError(f"{path}: DeepLabCut writes CollectedData_*.h5 with a .csv twin; read {csv_path.name} "
                             "(save the labels from DeepLabCut's GUI again to make it)")
        return csv_path
    return path


def read_dlc(path: str | os.PathLike) -> Video:
    """A DeepLabCut ``CollectedData_<scorer>.csv`` (or the ``.h5`` beside its ``.csv`` twin) as a vatl
    video; images are found beside the file (``labeled-data/<video>/``) and must lie inside the folder
    above the file's (:func:`_dlc_root`)."""
    p = _dlc_csv(Path(path))
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    parts, _ = _csv_header(p)
    if not parts:
        raise ValueError(f"{p}: no 'bodyparts' header row (not a DeepLabCut CollectedData file)")
    with p.open(newline="", encoding="utf-8") as f:
        data_rows = [r for r in csv.reader(f) if r and r[0] not in ("scorer", "individuals", "bodyparts", "coords")]
    _check_dlc_images(p, data_rows)
    labels = _sio().load_dlc(str(p), config=False)
    return labels_to_video(labels, p, None, None, names=parts, fmt=DLC_FORMAT, image_root=_dlc_root(p))


def _dlc_root(path: Path) -> Path:
    """The image root of a DLC CSV: the folder above the file's (``labeled-data/`` in DLC's layout), which
    holds every place DLC and sleap-io look for its images."""
    return Path(os.path.abspath(path)).parent.parent


def _check_dlc_images(path: Path, rows: list[list[str]]) -> None:
    """FileNotFoundError naming the labeled images of a DLC CSV that are not where DLC (and sleap-io) look:
    the index path under the file's folder or its parent, or the image name beside the file. ValueError
    naming the file and the image path when a place lies outside :func:`_dlc_root` (``..``, an absolute path)."""
    root = _dlc_root(path)
    missing = []
    for r in rows:
        parts = [c for c in r[:3] if c and not _is_number(c)]
        rel = Path(*parts) if parts else Path(r[0])
        places = (path.parent / rel, path.parent / rel.name, path.parent.parent / rel)
        if any(relative_to_root(c, root) is None for c in places):
            raise ValueError(f"{path}: labeled image {rel.as_posix()!r} lies outside {root} (the folder above the "
                             "file's); image paths must stay inside it")
        if not any(c.is_file() for c in places):
            missing.append(rel.as_posix())
    if missing:
        raise FileNotFoundError(f"{path}: {len(missing)} of {len(rows)} labeled images were not found beside the "
                                f"file (e.g. {missing[:3]}): keep labeled-data/<video>/ with its images")


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _poses(video: Video, indices: Iterable[int] | None, keypoints: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    kp = video.keypoints if keypoints is None else np.asarray(keypoints, dtype=np.float64)
    if kp.shape != video.keypoints.shape:
        raise ValueError(f"keypoints must be {video.keypoints.shape} for video {video.name!r}, got {kp.shape}")
    idx = np.arange(video.num_samples) if indices is None else np.asarray(list(indices), dtype=np.int64)
    return idx, kp


def write_slp(video: Video, path: str | os.PathLike, indices: Iterable[int] | None = None,
              keypoints: np.ndarray | None = None, predicted: np.ndarray | None = None,
              scores: np.ndarray | None = None) -> Path:
    """A SLEAP file with the samples ``indices`` (default: all): rows of ``predicted`` (N,) bool (default:
    none) as predicted instances (point scores = the third column, instance score = ``scores``), the others
    as user instances (points with v > 0; v = 1 marked not visible). Frames are the video's image files;
    when some frames have none (a video file's frames), the SLEAP video is only the frames of the written
    samples, which need them (answers are matched by image name, :func:`read_slp_answers`)."""
    sio = _sio()
    idx, kp = _poses(video, indices, keypoints)
    ks = video.keypoint_set
    used = sorted({int(video.frame_index[i]) for i in idx.tolist()})
    shown = list(range(len(video.frames))) if all(f.path is not None for f in video.frames) else used
    paths = [video.frames[f].path for f in shown]
    if any(p is None for p in paths):
        raise ValueError(f"video {video.name!r}: frame {shown[paths.index(None)]} has no image file for a SLEAP "
                         "image-sequence video")
    position = {f: n for n, f in enumerate(shown)}
    skeleton = sio.Skeleton(nodes=list(ks.keypoints), edges=[(ks.keypoints[a], ks.keypoints[b]) for a, b in ks.skeleton],
                            symmetries=[(ks.keypoints[a], ks.keypoints[b]) for a, b in ks.flip_pairs], name=ks.name)
    sio_video = sio.Video.from_filename([str(Path(p).absolute()) for p in paths])
    tracks = {int(t): sio.Track(name=str(int(t))) for t in np.unique(video.track_id[idx])}
    pred = np.zeros(video.num_samples, bool) if predicted is None else np.asarray(predicted, dtype=bool)
    by_frame: dict[int, list[Any]] = {}
    for i in idx.tolist():
        pose = kp[i]
        track = tracks[int(video.track_id[i])]
        if pred[i]:
            inst = sio.PredictedInstance.from_numpy(pose[:, :2].copy(), skeleton=skeleton, track=track,
                                                    point_scores=pose[:, 2].copy(),
                                                    score=float(scores[i]) if scores is not None else float(pose[:, 2].mean()))
        else:
            xy = np.where((pose[:, 2] > 0)[:, None], pose[:, :2], np.nan)
            inst = sio.Instance.from_numpy(xy, skeleton=skeleton, track=track)
            inst.points["visible"] = pose[:, 2] == 2
        by_frame.setdefault(int(video.frame_index[i]), []).append(inst)
    frames = [sio.LabeledFrame(video=sio_video, frame_idx=position[f], instances=insts)
              for f, insts in sorted(by_frame.items())]
    labels = sio.Labels(labeled_frames=frames, videos=[sio_video], skeletons=[skeleton], tracks=list(tracks.values()))
    out = Path(path)
    with atomic_path(out) as tmp:
        slp = tmp.with_suffix(".slp")
        sio.save_slp(labels, str(slp), verbose=False)
        slp.replace(tmp)
    return out


UNTRACKED = -1  # the track id answers readers give an instance without a track (refused)


def _match_answers(video: Video, found: Video, path: Path, tracks: list[int]) -> dict[int, np.ndarray]:
    """Labels of ``found`` (read back from a tool; ``tracks``: the sample track id of each of its
    instances) by the sample of ``video`` on the same frame image and track; an instance that matches no
    sample, or a second one for the same sample, is an error naming the file, frame and track."""
    if found.keypoint_set.keypoints != video.keypoint_set.keypoints:
        missing = [n for n in video.keypoint_set.keypoints if n not in found.keypoint_set.keypoints]
        if missing:
            raise ValueError(f"{path}: the skeleton lacks keypoints {missing[:5]} of {video.keypoint_set.name!r}")
        order = [found.keypoint_set.keypoints.index(n) for n in video.keypoint_set.keypoints]
    else:
        order = list(range(video.keypoint_set.num_keypoints))
    matcher = SampleMatcher(video)
    answers: dict[int, np.ndarray] = {}
    for j, track in enumerate(tracks):
        image = found.frames[int(found.frame_index[j])].path
        sample = None if image is None else matcher.find(Path(image).as_posix(), track)
        if sample is None:
            raise ValueError(f"{path}: instance on frame {image} with track {track} matches no sample of video "
                             f"{video.name!r}")
        if sample in answers:
            raise ValueError(f"{path}: two instances on frame {image} with track {track}; keep one per animal")
        answers[sample] = found.keypoints[j][order]
    return answers


def _untracked_error(path: Path, found: Video, j: int) -> ValueError:
    image = found.frames[int(found.frame_index[j])].path
    return ValueError(f"{path}: the instance on frame {image} has no track; answers are matched to samples by "
                      "track, give it the track of the animal it is")


def read_slp_answers(path: str | os.PathLike, video: Video) -> dict[int, np.ndarray]:
    """Answers ``{sample: (K, 3) label}``: the user instances of a SLEAP file (e.g. corrected predictions)
    matched to samples by frame image and track name (the sample's track id, as :func:`write_slp` names
    tracks; an instance whose track is not so named, or without a track, is an error). The image names
    are only matched, never opened."""
    p = Path(path)
    labels = _load_slp(p)
    found = labels_to_video(labels, p, None, None, fmt=SLP_FORMAT, untracked_track=UNTRACKED)
    names = [t.name for t in labels.tracks]
    tracks = []
    for j, t in enumerate(found.track_id.tolist()):
        if t == UNTRACKED:
            raise _untracked_error(p, found, j)
        if not re.fullmatch(r"-?\d+", str(names[t]).strip()):
            raise ValueError(f"{p}: track {names[t]!r} is not one vatl wrote (its name is the sample's track id)")
        tracks.append(int(names[t]))
    return _match_answers(video, found, p, tracks)


def write_dlc(video: Video, project: str | os.PathLike, indices: Iterable[int] | None = None,
              keypoints: np.ndarray | None = None, scorer: str = "vatl") -> Path:
    """``<project>/labeled-data/<video>/CollectedData_<scorer>.csv`` (DLC's multi-animal layout: header rows
    scorer / individuals / bodyparts / coords, index labeled-data / video / image) for the samples
    ``indices`` (points with v or confidence > 0), and copies of their frames beside it. Individuals are
    ``track<id>``. Returns the CSV."""
    idx, kp = _poses(video, indices, keypoints)
    ks = video.keypoint_set
    folder = Path(project) / "labeled-data" / video.name
    tracks = [int(t) for t in np.unique(video.track_id[idx])]
    header = [["scorer", "", ""], ["individuals", "", ""], ["bodyparts", "", ""], ["coords", "", ""]]
    for t in tracks:
        for name in ks.keypoints:
            for c in ("x", "y"):
                header[0].append(scorer)
                header[1].append(f"track{t}")
                header[2].append(name)
                header[3].append(c)
    column = {(t, j): 3 + 2 * (n * ks.num_keypoints + j) for n, t in enumerate(tracks) for j in range(ks.num_keypoints)}
    rows: dict[int, list[str]] = {}
    for i in idx.tolist():
        frame = int(video.frame_index[i])
        src = video.frames[frame].path
        if src is None:
            raise ValueError(f"video {video.name!r}: frame {frame} has no image file for DeepLabCut")
        row = rows.setdefault(frame, ["labeled-data", video.name, Path(src).name] + [""] * (len(header[0]) - 3))
        for j in range(ks.num_keypoints):
            if kp[i, j, 2] > 0:
                c = column[(int(video.track_id[i]), j)]
                row[c], row[c + 1] = repr(float(kp[i, j, 0])), repr(float(kp[i, j, 1]))
    names = [r[2] for r in rows.values()]
    if len(set(names)) != len(names):
        raise ValueError(f"video {video.name!r}: frames share image file names; DeepLabCut needs unique names")
    folder.mkdir(parents=True, exist_ok=True)
    for frame in rows:
        src = Path(video.frames[frame].path)
        dst = folder / src.name
        if not dst.exists():
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
    out = folder / f"CollectedData_{scorer}.csv"
    with atomic_path(out) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerows(header)
        writer.writerows(rows[k] for k in sorted(rows))
    return out


def read_dlc_answers(path: str | os.PathLike, video: Video) -> dict[int, np.ndarray]:
    """Answers ``{sample: (K, 3) label}`` from a DLC ``CollectedData`` file (labels corrected in DLC's GUI),
    matched to samples by image file name and individual (``track<id>``)."""
    p = _dlc_csv(Path(path))
    parts, individuals = _csv_header(p)
    with p.open(newline="", encoding="utf-8") as f:
        _check_dlc_images(p, [r for r in csv.reader(f) if r and r[0] not in ("scorer", "individuals", "bodyparts", "coords")])
    labels = _sio().load_dlc(str(p), config=False)
    found = labels_to_video(labels, p, None, None, names=parts, fmt=DLC_FORMAT, untracked_track=UNTRACKED)
    names = [t.name for t in labels.tracks]
    ids = []
    for j, t in enumerate(found.track_id.tolist()):
        if t == UNTRACKED and names:
            raise _untracked_error(p, found, j)
        name = names[t] if t != UNTRACKED else "track0"  # single-animal DLC: no individuals
        m = re.fullmatch(r"track(-?\d+)", str(name))
        if m is None:
            raise ValueError(f"{p}: individual {name!r} is not one vatl wrote (track<id>)")
        ids.append(int(m.group(1)))
    return _match_answers(video, found, p, ids)
