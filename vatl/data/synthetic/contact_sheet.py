"""A contact sheet of the synthetic domains: frames of every domain, ground truth drawn over some.

Usage: ``python -m vatl.data.synthetic.contact_sheet [OUT.png] [--seed S]`` (default
``docs/synthetic_contact_sheet.png``). The videos are written to a temporary PoseTrack21 root and read
back with :func:`~vatl.data.formats.posetrack21.read_posetrack21`, so the drawn ground truth is what
the loader returns.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

from vatl.skeletons import POSETRACK21

LEFT, RIGHT, CENTRE = (255, 160, 0), (0, 90, 255), (0, 230, 0)   # BGR: left blue-ish, right orange


def _joint_colour(name: str) -> tuple[int, int, int]:
    return LEFT if name.startswith("left_") else RIGHT if name.startswith("right_") else CENTRE


def draw_ground_truth(image: np.ndarray, keypoints: np.ndarray, boxes: np.ndarray,
                      track_ids: np.ndarray | None = None) -> np.ndarray:
    """A copy of ``image`` (H, W, 3 BGR) with boxes (M, 4 xywh), skeletons and labeled joints (M, 17, 3)."""
    out = image.copy()
    names = POSETRACK21.keypoints
    for m in range(len(keypoints)):
        kp, (x, y, w, h) = keypoints[m], boxes[m]
        cv2.rectangle(out, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))), (255, 255, 255), 1)
        if track_ids is not None:
            cv2.putText(out, str(int(track_ids[m])), (int(x) + 2, int(y) + 10), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                        (255, 255, 255), 1, cv2.LINE_AA)
        for a, b in POSETRACK21.skeleton:
            if kp[a, 2] > 0 and kp[b, 2] > 0:
                colour = _joint_colour(names[b])   # limbs take the side of their outer joint
                cv2.line(out, (int(round(kp[a, 0])), int(round(kp[a, 1]))), (int(round(kp[b, 0])), int(round(kp[b, 1]))),
                         colour, 1, cv2.LINE_AA)
        for k in np.flatnonzero(kp[:, 2] > 0):
            cv2.circle(out, (int(round(kp[k, 0])), int(round(kp[k, 1]))), 2, _joint_colour(names[k]), -1, cv2.LINE_AA)
    return out


def make_contact_sheet(out_path: str | Path, seed: int = 3, columns: int = 4, width: int = 384, height: int = 288,
                       frames: int = 24, workers: int = 2, scale: float = 0.75) -> Path:
    """Render one row per domain: ``columns`` videos, ground truth over the even columns.

    The frames are those of ``vatl synth`` at ``width``×``height``; the sheet is resized by ``scale``.
    """
    from vatl.data.formats.posetrack21 import read_posetrack21
    from vatl.data.synthetic.domains import DOMAINS
    from vatl.data.synthetic.generate import run_jobs, video_jobs

    rows = []
    with tempfile.TemporaryDirectory(prefix="vatl_sheet_") as tmp:
        jobs = [job for name in DOMAINS for job in
                video_jobs(Path(tmp) / name, name, columns, frames, width, height, seed=seed, split="val")]
        results = run_jobs(jobs, workers=workers)
        for name in DOMAINS:
            tiles = []
            for c, res in enumerate(r for r in results if Path(r.json_path).parts[-4] == name):
                video = read_posetrack21(res.json_path, check_images=True)
                t = (frames // 2 + 5 * c) % frames
                image = cv2.imread(str(video.frames[t].path), cv2.IMREAD_COLOR)
                if c % 2 == 0:
                    sel = video.frame_index == t
                    image = draw_ground_truth(image, video.keypoints[sel], video.boxes[sel], video.track_id[sel])
                tiles.append(image)
            row = np.concatenate([np.pad(tile, ((2, 2), (2, 2), (0, 0)), constant_values=255) for tile in tiles], axis=1)
            label = np.full((22, row.shape[1], 3), 255, np.uint8)
            cv2.putText(label, f"{name}  (ground truth on columns 1 and 3)" if name == "source" else name, (6, 16),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
            rows.append(np.concatenate([label, row], axis=0))
    sheet = np.concatenate(rows, axis=0)
    if scale != 1.0:
        sheet = cv2.resize(sheet, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"cannot write {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/synthetic_contact_sheet.png")
    parser.add_argument("--seed", type=int, default=3, help="seed 3 shows all three source backgrounds")
    args = parser.parse_args(argv)
    print(make_contact_sheet(args.out, seed=args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
