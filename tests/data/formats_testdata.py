"""Small annotation files in the exact layouts of PoseTrack21, JRDB-Pose and COCO (for the format tests)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

from vatl.skeletons import JRDB, POSETRACK21

BONN = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "bonn_posetrack"
BONN_JSON = BONN / "posetrack_data" / "val" / "060470979.json"


def pose17(x0: float, y0: float, vis: int = 1, zero_slots: tuple[int, ...] = (3, 4)) -> list[float]:
    """17 keypoints on a grid starting at (x0, y0): slot j at (x0 + 2j, y0 + 10j); ``zero_slots`` unlabeled."""
    flat = []
    for j in range(17):
        if j in zero_slots:
            flat += [0.0, 0.0, 0.0]
        else:
            flat += [x0 + 2.0 * j, y0 + 10.0 * j, float(vis)]
    return flat


def posetrack21_doc() -> dict:
    """4 images given out of order (frame_id 103, 101, 102, 104; 104 unlabeled) and 8 annotations.

    Image ids (14, 12, 13, 11 for frame_id 101..104) do not sort like the frames.

    Kept: ids 10 (frame 0, track 1), 11 (frame 0, track 2), 12 (frame 1, track 1), 17 (frame 2, track 3).
    Skipped: 13 no joint, 14 empty box, 15 missing box, 16 on the unlabeled frame.
    """
    ids = {101: 14, 102: 12, 103: 13, 104: 11}

    def image(fid: int, labeled: bool = True) -> dict:
        return {"is_labeled": labeled, "nframes": 4, "frame_id": fid, "id": ids[fid], "vid_id": "000001",
                "file_name": f"images/val/vid1/{fid - 101:06d}.jpg", "has_labeled_person": labeled,
                "ignore_regions_x": [[1, 2, 3]], "ignore_regions_y": [[4, 5, 6]], "width": 640, "height": 480}

    def ann(aid: int, image_id: int, track: int, kp: list, bbox) -> dict:
        rec = {"bbox_head": [1.5, 2.5, 3.0, 4.0], "category_id": 1, "id": aid, "image_id": ids[image_id],
               "keypoints": kp, "person_id": track, "track_id": track}
        if bbox is not None:
            rec["bbox"] = bbox
        return rec

    return {
        "images": [image(103), image(101), image(102), image(104, labeled=False)],
        "annotations": [
            ann(10, 101, 1, pose17(100, 50), [90, 40, 60, 200]),
            ann(11, 101, 2, pose17(300, 60), [290, 50, 60, 200]),
            ann(12, 102, 1, pose17(104, 51), [94, 41, 60, 200]),
            ann(13, 102, 2, [0.0] * 51, [290, 50, 60, 200]),
            ann(14, 103, 1, pose17(108, 52), [98, 42, 0, 200]),
            ann(15, 103, 2, pose17(308, 62), None),
            ann(16, 104, 1, pose17(112, 53), [102, 43, 60, 200]),
            ann(17, 103, 3, pose17(500, 70), [490, 60, 60, 200.5]),
        ],
        "categories": [{"supercategory": "person", "id": 1, "name": "person",
                        "keypoints": list(POSETRACK21.keypoints),
                        "skeleton": [[a + 1, b + 1] for a, b in POSETRACK21.skeleton]}],
    }


JRDB_RELEASE_NAMES = ["head", "right eye", "left eye", "right shoulder", "center shoulder", "left shoulder",
                      "right elbow", "left elbow", "center hip", "right wrist", "right hip", "left hip",
                      "left wrist", "right knee", "left knee", "right foot", "left foot"]


def jrdb_doc() -> dict:
    """A JRDB-Pose stitched file: images 1..6 (width 752 as released), annotations on images 2, 4, 6 only,
    no bbox, names as released, 0-based skeleton. Track 0 near x = 1000, track 5 near x = 2000."""
    images = [{"id": i, "width": 752, "height": 480, "file_name": f"image_stitched/scene-a_0/{i - 1:06d}.jpg",
               "license": 0, "flickr_url": "", "coco_url": "", "date_captured": 0} for i in range(1, 7)]
    anns = []
    aid = 100
    for image_id in (2, 4, 6):
        for track, x0 in ((0, 1000.0), (5, 2000.0)):
            kp = pose17(x0 + image_id, 100.0, vis=2, zero_slots=())
            kp[3 * 1 + 2] = 1  # right eye occluded
            anns.append({"id": aid, "track_id": track, "image_id": image_id, "category_id": 1, "is_crowd": 0,
                         "keypoints": kp, "num_keypoints": 17})
            aid += 1
    return {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {"description": "JRDB-Pose", "year": "2022"},
        "categories": [{"id": 1, "name": "person", "keypoints": list(JRDB_RELEASE_NAMES),
                        "skeleton": [[1, 2], [0, 4], [3, 4], [8, 10], [5, 7], [10, 13], [14, 16], [4, 5],
                                     [7, 12], [4, 8], [3, 6], [13, 15], [11, 14], [6, 9], [8, 11]]}],
        "images": images,
        "annotations": anns,
    }


def coco_doc() -> dict:
    """A CVAT-like COCO export of 3 frames of a 5-keypoint custom skeleton.

    Images (ids 7, 8, 9) are listed as frame_10, frame_2, frame_1: natural order is 9, 8, 7.
    Annotations: 1 (image 9, track 4), 2 (image 8, track 4, track id in ``attributes``), 3 (image 7,
    track 4), 4 (crowd), 5 (other category), 6 (image 7, track 6).
    """
    names = ["head", "left_hand", "right_hand", "left_foot", "right_foot"]

    def kp(x0: float) -> list[float]:
        return [x0, 10.0, 2, x0 - 5, 30.0, 2, x0 + 5, 30.0, 1, x0 - 3, 60.0, 2, x0 + 3, 60.0, 0]

    return {
        "licenses": [], "info": {"description": "CVAT export"},
        "categories": [{"id": 1, "name": "person", "supercategory": "", "keypoints": names,
                        "skeleton": [[1, 2], [1, 3], [1, 4], [1, 5]]},
                       {"id": 2, "name": "ball", "supercategory": ""}],
        "images": [{"id": 7, "file_name": "frame_10.jpg", "width": 320, "height": 240},
                   {"id": 8, "file_name": "frame_2.jpg", "width": 320, "height": 240},
                   {"id": 9, "file_name": "frame_1.jpg", "width": 320, "height": 240}],
        "annotations": [
            {"id": 1, "image_id": 9, "category_id": 1, "track_id": 4, "bbox": [40, 5, 20, 60], "iscrowd": 0,
             "keypoints": kp(50), "num_keypoints": 4, "area": 1200},
            {"id": 2, "image_id": 8, "category_id": 1, "bbox": [42, 5, 20, 60], "iscrowd": 0,
             "attributes": {"occluded": False, "track_id": 4, "keyframe": True},
             "keypoints": kp(52), "num_keypoints": 4, "area": 1200},
            {"id": 3, "image_id": 7, "category_id": 1, "track_id": 4, "bbox": [44, 5, 20, 60], "iscrowd": 0,
             "keypoints": kp(54), "num_keypoints": 4, "area": 1200},
            {"id": 4, "image_id": 7, "category_id": 1, "track_id": 9, "bbox": [0, 0, 100, 100], "iscrowd": 1,
             "keypoints": kp(10), "num_keypoints": 4, "area": 10000},
            {"id": 5, "image_id": 7, "category_id": 2, "bbox": [5, 5, 5, 5], "iscrowd": 0, "area": 25},
            {"id": 6, "image_id": 7, "category_id": 1, "track_id": 6, "bbox": [200, 5, 20, 60], "iscrowd": 0,
             "keypoints": kp(210), "num_keypoints": 4, "area": 1200},
        ],
    }


def write_doc(doc: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def mutated(doc: dict, fn) -> dict:
    d = copy.deepcopy(doc)
    fn(d)
    return d


def assert_same_samples(a, b) -> None:
    """The sample arrays of two videos are identical."""
    for name in ("frame_index", "track_id", "boxes", "keypoints", "annotation_ids"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


__all__ = ["BONN", "BONN_JSON", "JRDB", "pose17", "posetrack21_doc", "jrdb_doc", "coco_doc", "write_doc",
           "mutated", "assert_same_samples", "JRDB_RELEASE_NAMES"]
