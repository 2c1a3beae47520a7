"""Generic COCO keypoints (with track ids, as CVAT / Label Studio export) reader and writer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from formats_testdata import assert_same_samples, coco_doc, mutated, write_doc

from vatl.data.formats.coco import default_image_root, read_coco, write_coco
from vatl.data.video import Frame, Video
from vatl.skeletons import COCO17, DEFAULT_SIGMA, JRDB, POSETRACK21, KeypointSet


def _file(tmp_path: Path, doc: dict | None = None) -> Path:
    path = tmp_path / "export" / "annotations" / "person_keypoints_default.json"
    return write_doc(coco_doc() if doc is None else doc, path)


def test_reads_frames_in_natural_file_name_order_and_track_ids(tmp_path):
    video = read_coco(_file(tmp_path))
    assert video.name == "export"  # CVAT's layout: a generic file name gives way to the export's folder
    assert [f.image_id for f in video.frames] == [9, 8, 7]  # frame_1, frame_2, frame_10
    assert video.annotation_ids.tolist() == [1, 2, 3, 6]
    assert video.frame_index.tolist() == [0, 1, 2, 2]
    assert video.track_id.tolist() == [4, 4, 4, 6]  # record 2 carries it in attributes (CVAT)
    np.testing.assert_array_equal(video.boxes[3], [200, 5, 20, 60])
    np.testing.assert_array_equal(video.keypoints[0, :, 2], [2, 2, 1, 2, 0])
    assert video.skipped == {"crowd": 1, "other_category": 1}


def test_keypoint_set_from_the_category(tmp_path):
    ks = read_coco(_file(tmp_path)).keypoint_set
    assert ks.keypoints == ("head", "left_hand", "right_hand", "left_foot", "right_foot")
    assert ks.sigmas == (DEFAULT_SIGMA, 0.062, 0.062, 0.089, 0.089)  # COCO's by name: hand = wrist, foot = ankle
    assert ks.skeleton == ((0, 1), (0, 2), (0, 3), (0, 4))
    assert ks.flip_pairs == ((1, 2), (3, 4))
    assert ks.angle_triples == ()


def test_sigmas_and_zero_based_skeleton_in_the_category(tmp_path):
    doc = coco_doc()
    doc["categories"][0]["sigmas"] = [0.1, 0.2, 0.2, 0.3, 0.3]
    doc["categories"][0]["skeleton"] = [[0, 1], [0, 2]]
    ks = read_coco(_file(tmp_path, doc)).keypoint_set
    assert ks.sigmas == (0.1, 0.2, 0.2, 0.3, 0.3)
    assert ks.skeleton == ((0, 1), (0, 2))


@pytest.mark.parametrize("names, expected", [
    (list(COCO17.keypoints), COCO17),
    (list(POSETRACK21.keypoints), POSETRACK21),
    ([n.replace("_", " ") for n in JRDB.keypoints], JRDB),
])
def test_known_names_give_the_built_in_set(tmp_path, names, expected):
    doc = coco_doc()
    doc["categories"][0]["keypoints"] = names
    for rec in doc["annotations"]:
        if "keypoints" in rec:
            rec["keypoints"] = (rec["keypoints"] * 4)[:51]
    assert read_coco(_file(tmp_path, doc)).keypoint_set is expected


def test_frame_number_field_orders_frames_before_file_names(tmp_path):
    doc = coco_doc()
    for im, idx in zip(doc["images"], (0, 2, 1)):
        im["frame_index"] = idx
    video = read_coco(_file(tmp_path, doc))
    assert [f.image_id for f in video.frames] == [7, 9, 8]
    doc = coco_doc()
    for im in doc["images"]:
        del im["file_name"]
    video = read_coco(_file(tmp_path, doc))  # no frame numbers, no file names: by id
    assert [f.image_id for f in video.frames] == [7, 8, 9]
    assert video.frames[0].path is None


def test_image_root_of_a_cvat_export(tmp_path):
    path = _file(tmp_path)
    assert default_image_root(path) == (tmp_path / "export" / "images").absolute()
    (tmp_path / "export" / "images" / "default").mkdir(parents=True)
    assert default_image_root(path) == (tmp_path / "export" / "images" / "default").absolute()
    assert read_coco(path).frames[0].path == (tmp_path / "export" / "images" / "default" / "frame_1.jpg").absolute()
    loose = write_doc(coco_doc(), tmp_path / "plain" / "video.json")
    assert read_coco(loose).frames[0].path == (tmp_path / "plain" / "frame_1.jpg").absolute()


def test_several_keypoint_categories_need_a_choice(tmp_path):
    doc = coco_doc()
    doc["categories"].append({"id": 3, "name": "robot", "keypoints": ["a", "b"], "skeleton": [[1, 2]]})
    doc["annotations"].append({"id": 9, "image_id": 7, "category_id": 3, "track_id": 1, "bbox": [1, 1, 5, 5],
                               "keypoints": [1, 1, 2, 3, 3, 2]})
    path = _file(tmp_path, doc)
    with pytest.raises(ValueError, match=r"several keypoint categories \(\[1, 3\]\); choose one with category_id"):
        read_coco(path)
    robot = read_coco(path, category_id=3)
    assert robot.keypoint_set.keypoints == ("a", "b") and robot.annotation_ids.tolist() == [9]
    assert robot.skipped == {"other_category": 6}
    with pytest.raises(ValueError, match=r"no keypoint category with id=2"):
        read_coco(path, category_id=2)


def test_keypoint_set_can_be_overridden(tmp_path):
    custom = KeypointSet("five", ("a", "b", "c", "d", "e"), (0.05,) * 5)
    assert read_coco(_file(tmp_path), keypoint_set=custom).keypoint_set is custom
    with pytest.raises(ValueError, match=r"keypoint set 'coco17' has 17 keypoints, the category id=1 has 5"):
        read_coco(_file(tmp_path), keypoint_set="coco17")


@pytest.mark.parametrize("mutate, pattern", [
    (lambda d: d["annotations"][2].pop("track_id"),
     r"person_keypoints_default\.json: annotations\[2\] \(id=3\): field 'track_id': missing \(also no "
     r"'attributes\.track_id'\)"),
    (lambda d: d["annotations"][1]["attributes"].update(track_id="x"),
     r"annotations\[1\] \(id=2\): field 'attributes\.track_id': expected an integer, got 'x'"),
    (lambda d: d["annotations"][0].update(keypoints=[1, 2, 3]),
     r"annotations\[0\] \(id=1\): field 'keypoints': expected 15 numbers"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, None, 4]),
     r"annotations\[0\] \(id=1\): field 'bbox': element 2 is not a number: None"),
    (lambda d: d["categories"][0].update(sigmas=[0.1]), r"categories\[0\] \(id=1\): field 'sigmas': expected 5"),
    (lambda d: d["categories"].pop(0), r"no entry of 'categories' has a 'keypoints' field"),
    (lambda d: [im.update(frame_id=1) for im in d["images"]], r"images\[1\] \(id=8\): field 'frame_id': duplicate"),
])
def test_errors_name_file_record_and_field(tmp_path, mutate, pattern):
    with pytest.raises(ValueError, match=pattern):
        read_coco(_file(tmp_path, mutated(coco_doc(), mutate)))


def test_frame_number_on_only_some_images_is_ignored(tmp_path):
    doc = coco_doc()
    doc["images"].append({"id": 10, "file_name": "frame_1b.jpg", "frame_id": 1})
    assert [f.image_id for f in read_coco(_file(tmp_path, doc)).frames] == [9, 10, 8, 7]


def test_missing_box_is_skipped_unless_derived(tmp_path):
    doc = coco_doc()
    del doc["annotations"][0]["bbox"]
    assert read_coco(_file(tmp_path, doc)).skipped == {"crowd": 1, "missing_box": 1, "other_category": 1}
    derived = read_coco(_file(tmp_path, doc), derive_boxes=True)
    # labeled joints of record 1: x 45..55, y 10..60 -> padded by 10 % per side, clipped to 320 x 240
    np.testing.assert_allclose(derived.boxes[0], [44.0, 5.0, 12.0, 60.0])


def test_write_over_source_with_scores(tmp_path):
    video = read_coco(_file(tmp_path))
    pred = video.keypoints + np.array([1.0, -1.0, 0.0])
    pred[..., 2] = 0.5
    out = write_coco(video, tmp_path / "pred.json", keypoints=pred, scores=np.array([0.9, 0.8, 0.7, 0.6]))
    doc = json.loads(out.read_text())
    original = coco_doc()
    # image paths resolve from where the file is written (CVAT's layout put them under export/images)
    assert [im["file_name"] for im in doc["images"]] == [f"export/images/{im['file_name']}" for im in original["images"]]
    assert [{**im, "file_name": None} for im in doc["images"]] == [{**im, "file_name": None} for im in original["images"]]
    assert doc["categories"] == original["categories"]
    assert doc["annotations"][3] == original["annotations"][3]  # crowd record untouched
    assert doc["annotations"][4] == original["annotations"][4]  # other category untouched
    rec = doc["annotations"][1]
    assert rec["attributes"] == original["annotations"][1]["attributes"]
    assert rec["num_keypoints"] == 5 and rec["score"] == pytest.approx(0.8) and rec["scores"] == [0.5] * 5
    again = read_coco(out)
    np.testing.assert_array_equal(again.keypoints, pred)
    assert [f.path for f in again.frames] == [f.path for f in video.frames]
    np.testing.assert_array_equal(again.boxes, video.boxes)


def test_round_trip_of_an_in_memory_video_with_a_custom_set(tmp_path):
    ks = KeypointSet("paw", ("nose", "left_paw", "right_paw"), (0.03, 0.05, 0.05), flip_pairs=((1, 2),),
                     skeleton=((0, 1), (0, 2)))
    frames = [Frame(tmp_path / "frames" / f"f{i}.png", image_id=30 - i, width=100, height=80) for i in range(3)]
    kp = np.array([[[10, 10, 2], [5, 20, 1], [15, 20, 2]]] * 4, dtype=float) + np.arange(4)[:, None, None] * [1, 0, 0]
    video = Video(name="paws", keypoint_set=ks, frames=frames, frame_index=np.array([0, 1, 2, 2]),
                  track_id=np.array([0, 0, 0, 1]), boxes=np.array([[1, 2, 30, 40.5]] * 4),
                  keypoints=kp, annotation_ids=np.array([5, 6, 7, 8]))
    path = write_coco(video, tmp_path / "paws.json")
    doc = json.loads(path.read_text())
    assert doc["categories"][0]["skeleton"] == [[1, 2], [1, 3]]
    assert doc["categories"][0]["sigmas"] == [0.03, 0.05, 0.05]
    assert [im["frame_index"] for im in doc["images"]] == [0, 1, 2]
    assert doc["images"][0]["file_name"] == "frames/f0.png"
    assert doc["annotations"][0]["area"] == pytest.approx(30 * 40.5)
    again = read_coco(path)
    assert_same_samples(video, again)
    assert again.keypoint_set.keypoints == ks.keypoints and again.keypoint_set.sigmas == ks.sigmas
    assert again.keypoint_set.skeleton == ks.skeleton and again.keypoint_set.flip_pairs == ks.flip_pairs
    assert [f.image_id for f in again.frames] == [30, 29, 28]
    assert write_coco(video, tmp_path / "b.json").read_bytes() == path.read_bytes()
