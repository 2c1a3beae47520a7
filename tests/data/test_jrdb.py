"""JRDB-Pose reader/writer on small files in the released stitched-COCO layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from formats_testdata import JRDB_RELEASE_NAMES, assert_same_samples, jrdb_doc, mutated, pose17, write_doc

from vatl.data.formats.jrdb import default_image_root, read_jrdb, write_jrdb
from vatl.data.video import Frame, Video
from vatl.skeletons import JRDB, JRDB_SIGMAS, POSETRACK21


def _layout_file(tmp_path: Path, doc: dict | None = None) -> Path:
    return write_doc(jrdb_doc() if doc is None else doc,
                     tmp_path / "jrdb" / "labels" / "labels_2d_pose_stitched_coco" / "scene-a_0.json")


def test_reads_all_frames_by_id_and_the_annotated_instances(tmp_path):
    video = read_jrdb(_layout_file(tmp_path))
    assert video.name == "scene-a_0"
    assert video.keypoint_set is JRDB
    np.testing.assert_array_equal(video.keypoint_set.sigma_array, JRDB_SIGMAS)
    assert [f.image_id for f in video.frames] == [1, 2, 3, 4, 5, 6]
    assert [f.is_labeled for f in video.frames] == [False, True, False, True, False, True]
    assert video.frame_index.tolist() == [1, 1, 3, 3, 5, 5]
    assert video.track_id.tolist() == [0, 5, 0, 5, 0, 5]
    assert video.annotation_ids.tolist() == [100, 101, 102, 103, 104, 105]
    assert video.skipped == {}


def test_visibility_is_kept_as_given(tmp_path):
    video = read_jrdb(_layout_file(tmp_path))
    assert (video.keypoints[:, 1, 2] == 1).all()  # occluded right eye
    assert (video.keypoints[:, 0, 2] == 2).all()
    assert video.visible.all()  # v = 1 (occluded) and 2 (visible) both count as labeled


def test_missing_box_is_derived_from_joints_without_clipping_to_the_width_field(tmp_path):
    video = read_jrdb(_layout_file(tmp_path))
    # track 0 on image 2: x 1002..1034, y 100..260, padded by 10 % of (32, 160) per side
    np.testing.assert_allclose(video.boxes[0], [998.8, 84.0, 38.4, 192.0])


def test_given_box_is_used_and_derivation_can_be_switched_off(tmp_path):
    doc = jrdb_doc()
    doc["annotations"][0]["bbox"] = [990, 80, 50, 200]
    path = _layout_file(tmp_path, doc)
    np.testing.assert_array_equal(read_jrdb(path).boxes[0], [990, 80, 50, 200])
    strict = read_jrdb(path, derive_boxes=False)
    assert strict.annotation_ids.tolist() == [100]
    assert strict.skipped == {"missing_box": 5}


def test_person_across_the_panorama_seam_is_skipped(tmp_path):
    doc = jrdb_doc()
    kp = pose17(3700.0, 100.0, vis=2, zero_slots=())
    kp[0::3] = [3750.0 if j % 2 else 5.0 for j in range(17)]  # x wraps from 3760 to 0
    doc["annotations"][1]["keypoints"] = kp
    video = read_jrdb(_layout_file(tmp_path, doc))
    assert 101 not in video.annotation_ids.tolist()
    assert video.skipped == {"wraps_panorama_seam": 1}
    assert read_jrdb(_layout_file(tmp_path, doc), panorama_width=0).num_samples == 6


def test_unlabeled_joints_and_crowds(tmp_path):
    doc = jrdb_doc()
    kp = doc["annotations"][2]["keypoints"]
    kp[2::3] = [0] * 17
    doc["annotations"][3]["is_crowd"] = 1
    video = read_jrdb(_layout_file(tmp_path, doc))
    assert video.skipped == {"crowd": 1, "no_annotated_joint": 1}
    assert video.num_samples == 4


def test_first_n_annotated_frames(tmp_path):
    video = read_jrdb(_layout_file(tmp_path), max_frames=2)
    assert [f.image_id for f in video.frames] == [1, 2, 3, 4]  # up to the 2nd annotated image
    assert video.annotation_ids.tolist() == [100, 101, 102, 103]
    assert video.skipped == {"after_max_frames": 2}


def test_first_n_images(tmp_path):
    video = read_jrdb(_layout_file(tmp_path), max_frames=3, count_frames="all")
    assert [f.image_id for f in video.frames] == [1, 2, 3]
    assert video.annotation_ids.tolist() == [100, 101]
    assert video.skipped == {"after_max_frames": 4}
    with pytest.raises(ValueError, match="count_frames"):
        read_jrdb(_layout_file(tmp_path), max_frames=3, count_frames="labeled")


def test_annotated_frames_only_makes_annotated_frames_adjacent(tmp_path):
    video = read_jrdb(_layout_file(tmp_path), annotated_frames_only=True)
    assert [f.image_id for f in video.frames] == [2, 4, 6]
    prev, nxt = video.neighbours(max_gap=1)
    assert prev.tolist() == [-1, -1, 0, 1, 2, 3]
    assert nxt.tolist() == [2, 3, 4, 5, -1, -1]
    full = read_jrdb(_layout_file(tmp_path))  # every second image: gap 2
    assert (full.neighbours(max_gap=1)[0] == -1).all()
    assert full.neighbours(max_gap=2)[0].tolist() == [-1, -1, 0, 1, 2, 3]


def test_image_paths_follow_the_jrdb_layout(tmp_path):
    path = _layout_file(tmp_path)
    assert default_image_root(path) == (tmp_path / "jrdb" / "images").absolute()
    video = read_jrdb(path)
    rel = Path("image_stitched") / "scene-a_0" / "000000.jpg"
    assert video.frames[0].path == (tmp_path / "jrdb" / "images" / rel).absolute()
    loose = write_doc(jrdb_doc(), tmp_path / "x" / "s.json")
    assert read_jrdb(loose).frames[0].path == (tmp_path / "x" / rel).absolute()


def test_toolkit_spelling_of_the_names_is_accepted(tmp_path):
    doc = jrdb_doc()
    doc["categories"][0]["keypoints"] = ["head", "right eye", "left eye", "right shoulder", "neck",
                                         "left shoulder", "right elbow", "left elbow", "tailbone", "right hand",
                                         "right hip", "left hip", "left hand", "right knee", "left knee",
                                         "right foot", "left foot"]
    assert read_jrdb(_layout_file(tmp_path, doc)).keypoint_set is JRDB


@pytest.mark.parametrize("mutate, pattern", [
    (lambda d: d["categories"][0].update(keypoints=list(POSETRACK21.keypoints)),
     r"scene-a_0\.json: categories\[0\] \(id=1\): field 'keypoints': not JRDB-Pose's 17 keypoints"),
    (lambda d: d["annotations"][4].pop("track_id"), r"annotations\[4\] \(id=104\): field 'track_id': missing"),
    (lambda d: d["annotations"][4].update(keypoints=[1.0] * 50),
     r"annotations\[4\] \(id=104\): field 'keypoints': expected 51 numbers"),
    (lambda d: d["annotations"][0].update(image_id=77), r"annotations\[0\] \(id=100\): field 'image_id': image id 77"),
    (lambda d: d["images"][3].update(id=1), r"images\[3\] \(id=1\): field 'id': duplicate image id 1"),
])
def test_errors_name_file_record_and_field(tmp_path, mutate, pattern):
    with pytest.raises(ValueError, match=pattern):
        read_jrdb(_layout_file(tmp_path, mutated(jrdb_doc(), mutate)))


def test_write_over_source_keeps_records_and_adds_no_box(tmp_path):
    video = read_jrdb(_layout_file(tmp_path))
    pred = video.keypoints.copy()
    pred[..., 0] += 1.5
    pred[..., 2] = 0.75
    out = write_jrdb(video, tmp_path / "pred.json", keypoints=pred, scores=np.arange(6) / 10)
    doc = json.loads(out.read_text())
    original = jrdb_doc()
    # image paths resolve from where the file is written (its folder: not the JRDB layout)
    assert [im["file_name"] for im in doc["images"]] == [f"jrdb/images/{im['file_name']}" for im in original["images"]]
    assert [{**im, "file_name": None} for im in doc["images"]] == [{**im, "file_name": None} for im in original["images"]]
    assert [f.path for f in read_jrdb(out).frames] == [f.path for f in video.frames]
    assert doc["categories"] == original["categories"]
    assert doc["licenses"] == original["licenses"] and doc["info"] == original["info"]
    rec = doc["annotations"][3]
    assert "bbox" not in rec
    assert rec["is_crowd"] == 0 and rec["num_keypoints"] == 17
    assert rec["scores"] == [0.75] * 17 and rec["score"] == pytest.approx(0.3)
    again = read_jrdb(out, image_root=tmp_path / "jrdb" / "images")
    np.testing.assert_array_equal(again.keypoints, pred)
    np.testing.assert_allclose(again.boxes[:, 0], video.boxes[:, 0] + 1.5)  # derived again from the new joints


def _memory_video() -> Video:
    frames = [Frame(None, image_id=10 + i, width=3760, height=480) for i in range(3)]
    rng = np.random.default_rng(3)
    kp = np.concatenate([rng.uniform(0, 400, (4, 17, 2)), rng.integers(0, 3, (4, 17, 1))], axis=2)
    kp[:, :, 2] = np.maximum(kp[:, :, 2], 1)
    return Video(name="scene-b_1", keypoint_set=JRDB, frames=frames, frame_index=np.array([0, 1, 1, 2]),
                 track_id=np.array([3, 3, 4, 3]), boxes=rng.uniform(1, 80, (4, 4)), keypoints=kp,
                 annotation_ids=np.array([40, 41, 42, 43]))


def test_round_trip_of_an_in_memory_video(tmp_path):
    video = _memory_video()
    path = write_jrdb(video, tmp_path / "labels" / "labels_2d_pose_stitched_coco" / "scene-b_1.json")
    doc = json.loads(path.read_text())
    assert doc["categories"][0]["keypoints"] == JRDB_RELEASE_NAMES
    assert [0, 4] in doc["categories"][0]["skeleton"]  # 0-based as released
    assert doc["images"][0]["file_name"] == "image_stitched/scene-b_1/000000.jpg"
    assert doc["annotations"][2]["bbox"] == pytest.approx(video.boxes[2].tolist())
    again = read_jrdb(path)
    assert_same_samples(video, again)
    assert again.keypoint_set is JRDB
    assert again.frames[2].path == (tmp_path / "images" / "image_stitched" / "scene-b_1" / "000002.jpg").absolute()
    assert write_jrdb(video, tmp_path / "b.json").read_bytes() == write_jrdb(video, tmp_path / "c.json").read_bytes()


def test_writer_refuses_other_keypoint_sets(tmp_path):
    video = _memory_video()
    other = Video(name="x", keypoint_set=POSETRACK21, frames=video.frames, frame_index=video.frame_index,
                  track_id=video.track_id, boxes=video.boxes, keypoints=video.keypoints,
                  annotation_ids=video.annotation_ids)
    with pytest.raises(ValueError, match="JRDB-Pose's keypoint set, got 'posetrack21'"):
        write_jrdb(other, tmp_path / "x.json")
