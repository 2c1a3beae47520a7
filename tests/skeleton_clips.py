"""Small clips in a user's own skeletons, made for the tests with OpenCV (issue 15's layouts):

* :func:`human_clip`: a COCO keypoints JSON with ``track_id`` and 15 named joints (neck, belly, face,
  shoulders, elbows, wrists, hips, knees, ankles, spelled as OpenPose does: ``Neck``, ``LShoulder``, …);
* :func:`animal_clip`: two flies with 13 nodes named like ``wingL``, ``forelegR4``, as a SLEAP ``.slp``
  (image sequence) or as a COCO JSON, with or without skeleton edges.

Stick figures are drawn on a noisy background, so an estimator has something to see; the ground truth is
exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

HUMAN_NAMES = ("Neck", "Belly", "Face", "LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist", "RWrist",
               "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle")
HUMAN_EDGES = ((2, 0), (0, 3), (0, 4), (3, 5), (5, 7), (4, 6), (6, 8), (0, 1), (1, 9), (1, 10), (9, 11), (11, 13),
               (10, 12), (12, 14))
# (x, y) in a unit box (x 0..1 left to right in the image, y 0..1 top to bottom); the person's left is the
# image's right (they face the camera)
_HUMAN_POSE = np.array([[0.5, 0.2], [0.5, 0.45], [0.5, 0.08], [0.68, 0.22], [0.32, 0.22], [0.78, 0.38],
                        [0.22, 0.38], [0.82, 0.52], [0.18, 0.52], [0.6, 0.55], [0.4, 0.55], [0.62, 0.75],
                        [0.38, 0.75], [0.63, 0.95], [0.37, 0.95]])

FLY_NAMES = ("head", "thorax", "abdomen", "wingL", "wingR", "forelegL1", "forelegR1", "forelegL4", "forelegR4",
             "hindlegL1", "hindlegR1", "hindlegL4", "hindlegR4")
FLY_EDGES = ((0, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (5, 7), (6, 8), (2, 9), (2, 10), (9, 11), (10, 12))
_FLY_POSE = np.array([[0.5, 0.1], [0.5, 0.35], [0.5, 0.7], [0.85, 0.75], [0.15, 0.75], [0.7, 0.3], [0.3, 0.3],
                      [0.9, 0.12], [0.1, 0.12], [0.68, 0.7], [0.32, 0.7], [0.88, 0.92], [0.12, 0.92]])
COLOURS = ((255, 80, 80), (80, 255, 80), (80, 80, 255), (255, 255, 80), (255, 80, 255), (80, 255, 255))


def _poses(template: np.ndarray, frames: int, people: int, size: tuple[int, int], seed: int,
           box: tuple[float, float]) -> np.ndarray:
    """(frames, people, K, 2) image points: the template in a moving box, limbs swinging a little."""
    rng = np.random.default_rng(seed)
    w, h = size
    bw, bh = box[0] * w, box[1] * h
    out = np.zeros((frames, people, len(template), 2))
    for p in range(people):
        x0 = (p + 0.5) * w / people - bw / 2
        y0 = (h - bh) / 2
        phase = rng.uniform(0, 2 * np.pi)
        for t in range(frames):
            pose = template.copy()
            swing = 0.06 * np.sin(phase + 0.5 * t)
            pose[len(pose) // 2:, 0] += swing * np.sign(pose[len(pose) // 2:, 0] - 0.5)
            out[t, p] = [x0 + 2.0 * t, y0 + 0.5 * t] + pose * [bw, bh]
    return out


def _draw(points: np.ndarray, edges: tuple, size: tuple[int, int], seed: int) -> np.ndarray:
    """(H, W, 3) BGR image: noise, then each figure's edges and joints."""
    w, h = size
    image = np.random.default_rng(seed).integers(40, 90, size=(h, w, 3), dtype=np.uint8)
    for figure in points:
        for n, (a, b) in enumerate(edges):
            cv2.line(image, tuple(int(v) for v in figure[a]), tuple(int(v) for v in figure[b]),
                     COLOURS[n % len(COLOURS)], 2, cv2.LINE_AA)
        for j, pt in enumerate(figure):
            cv2.circle(image, tuple(int(v) for v in pt), 2, (255, 255, 255) if j % 2 else (0, 0, 0), -1)
    return image


def _coco(root: Path, name: str, points: np.ndarray, names: tuple, edges: tuple | None, size: tuple[int, int],
          occluded: tuple[int, int] | None = None, extra: dict | None = None, image_ext: str = "jpg") -> Path:
    frames, people = points.shape[:2]
    images, annotations = [], []
    (root / "frames").mkdir(parents=True, exist_ok=True)
    for t in range(frames):
        file_name = f"frames/{t:06d}.{image_ext}"
        cv2.imwrite(str(root / file_name), _draw(points[t], edges or FLY_EDGES, size, seed=t))
        images.append({"id": t + 1, "file_name": file_name, "width": size[0], "height": size[1], "frame_index": t})
        for p in range(people):
            kp = np.concatenate([points[t, p], np.full((len(names), 1), 2.0)], axis=1)
            if occluded is not None and p == occluded[0] and t % 2 == 0:
                kp[occluded[1], 2] = 1.0  # labeled, occluded
            x0, y0 = kp[:, :2].min(axis=0) - 6
            x1, y1 = kp[:, :2].max(axis=0) + 6
            annotations.append({"id": 100 * (t + 1) + p, "image_id": t + 1, "category_id": 1, "track_id": p,
                                "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)], "iscrowd": 0,
                                "area": float((x1 - x0) * (y1 - y0)), "num_keypoints": len(names),
                                "keypoints": [round(float(v), 3) for v in kp.ravel()]})
    category = {"id": 1, "name": name, "supercategory": name, "keypoints": list(names)}
    if edges is not None:
        category["skeleton"] = [[a + 1, b + 1] for a, b in edges]
    doc = {"images": images, "annotations": annotations, "categories": [category], **(extra or {})}
    path = root / "annotations.json"
    path.write_text(json.dumps(doc))
    return path


def human_clip(root: Path, frames: int = 8, people: int = 2, size: tuple[int, int] = (192, 144), seed: int = 0) -> Path:
    """A COCO keypoints JSON with track_id and the 15 joints of :data:`HUMAN_NAMES` (``root/annotations.json``
    with ``root/frames/*.jpg``); person 0's face is labeled occluded (v = 1) on even frames; the video's
    name is in ``info.video``."""
    points = _poses(_HUMAN_POSE, frames, people, size, seed, box=(0.3, 0.8))
    return _coco(root, "person", points, HUMAN_NAMES, HUMAN_EDGES, size, occluded=(0, 2),
                 extra={"info": {"description": "a user's own skeleton", "video": "dance_clip"}})


def fly_points(frames: int = 8, flies: int = 2, size: tuple[int, int] = (192, 144), seed: int = 1) -> np.ndarray:
    """(frames, flies, 13, 2) points of :data:`FLY_NAMES`."""
    return _poses(_FLY_POSE, frames, flies, size, seed, box=(0.35, 0.7))


def animal_clip_coco(root: Path, frames: int = 8, skeleton: bool = True, size: tuple[int, int] = (192, 144)) -> Path:
    """The fly clip as a COCO JSON with track_id (``skeleton``: with the category's edges or without)."""
    return _coco(root, "fly", fly_points(frames, size=size), FLY_NAMES, FLY_EDGES if skeleton else None, size)


def animal_clip_slp(root: Path, frames: int = 8, size: tuple[int, int] = (192, 144)) -> Path:
    """The fly clip as a SLEAP file (``root/flies.slp``) over PNG frames, tracks ``fly0``/``fly1``, the
    skeleton's edges and left/right symmetries; needs sleap-io."""
    import sleap_io as sio

    points = fly_points(frames, size=size)
    (root / "frames").mkdir(parents=True, exist_ok=True)
    paths = []
    for t in range(frames):
        path = root / "frames" / f"img{t:04d}.png"
        cv2.imwrite(str(path), _draw(points[t], FLY_EDGES, size, seed=t))
        paths.append(str(path))
    skeleton = sio.Skeleton(nodes=list(FLY_NAMES), edges=[(FLY_NAMES[a], FLY_NAMES[b]) for a, b in FLY_EDGES],
                            symmetries=[("wingL", "wingR"), ("forelegL1", "forelegR1"), ("forelegL4", "forelegR4"),
                                        ("hindlegL1", "hindlegR1"), ("hindlegL4", "hindlegR4")], name="fly")
    video = sio.Video.from_filename(paths)
    tracks = [sio.Track(name=f"fly{p}") for p in range(points.shape[1])]
    labeled = [sio.LabeledFrame(video=video, frame_idx=t,
                                instances=[sio.Instance.from_numpy(points[t, p], skeleton=skeleton, track=tracks[p])
                                           for p in range(points.shape[1])]) for t in range(frames)]
    out = root / "flies.slp"
    sio.save_slp(sio.Labels(labeled_frames=labeled, videos=[video], skeletons=[skeleton], tracks=tracks), str(out),
                 verbose=False)
    return out
