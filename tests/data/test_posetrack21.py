"""PoseTrack21 reader/writer on small files in the exact layout and on the real Bonn video."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from formats_testdata import BONN, BONN_JSON, assert_same_samples, mutated, pose17, posetrack21_doc, write_doc

from vatl.data.formats import missing_frames, require_samples
from vatl.data.formats.posetrack21 import default_image_root, read_posetrack21, write_posetrack21
from vatl.data.video import Frame, Video
from vatl.skeletons import DEFAULT_SIGMA, POSETRACK21


def _layout_file(tmp_path: Path, doc: dict | None = None) -> Path:
    path = tmp_path / "ds" / "posetrack_data" / "val" / "vid1.json"
    return write_doc(posetrack21_doc() if doc is None else doc, path)


def test_reads_samples_in_file_order_on_frames_sorted_by_frame_id(tmp_path):
    video = read_posetrack21(_layout_file(tmp_path))
    assert video.name == "000001"  # the video's name comes from the data (vid_id) before the file's (vid1)
    assert [f.image_id for f in video.frames] == [14, 12, 13, 11]  # by frame_id 101..104, not by id
    assert [f.is_labeled for f in video.frames] == [True, True, True, False]
    assert (video.frames[0].width, video.frames[0].height) == (640, 480)
    assert video.annotation_ids.tolist() == [10, 11, 12, 17]
    assert video.frame_index.tolist() == [0, 0, 1, 2]
    assert video.track_id.tolist() == [1, 2, 1, 3]
    np.testing.assert_array_equal(video.boxes[3], [490, 60, 60, 200.5])
    np.testing.assert_array_equal(video.keypoints[1].ravel(), pose17(300, 60))
    assert video.keypoint_set is POSETRACK21


def test_skipped_instances_are_counted_by_reason(tmp_path):
    video = read_posetrack21(_layout_file(tmp_path))
    assert video.skipped == {"empty_box": 1, "missing_box": 1, "no_annotated_joint": 1, "unlabeled_frame": 1}


def test_visibility_is_stored_as_given_and_ears_are_unlabeled(tmp_path):
    doc = posetrack21_doc()
    doc["annotations"][0]["keypoints"] = pose17(100, 50, vis=2)
    video = read_posetrack21(_layout_file(tmp_path, doc))
    assert set(video.keypoints[0, :, 2].tolist()) == {0.0, 2.0}
    assert not video.visible[:, [3, 4]].any()
    assert video.visible[:, [0, 1, 2, 5]].all()


def test_frame_paths_follow_the_posetrack_layout(tmp_path):
    path = _layout_file(tmp_path)
    video = read_posetrack21(path)
    assert default_image_root(path) == (tmp_path / "ds").absolute()
    assert video.frames[1].path == (tmp_path / "ds" / "images" / "val" / "vid1" / "000001.jpg").absolute()


def test_image_root_falls_back_to_json_folder_and_can_be_given(tmp_path):
    path = write_doc(posetrack21_doc(), tmp_path / "loose" / "vid1.json")
    assert read_posetrack21(path).frames[0].path == (tmp_path / "loose" / "images/val/vid1/000000.jpg").absolute()
    given = read_posetrack21(path, image_root=tmp_path / "elsewhere")
    assert given.frames[0].path == tmp_path / "elsewhere" / "images" / "val" / "vid1" / "000000.jpg"


def test_images_are_not_checked_unless_asked(tmp_path):
    path = _layout_file(tmp_path)
    video = read_posetrack21(path)  # no image exists: reading still works
    assert len(missing_frames(video)) == 4
    with pytest.raises(FileNotFoundError, match=r"vid1\.json: 4 of 4 frame images are missing"):
        read_posetrack21(path, check_images=True)


def test_keypoint_set_without_categories_is_posetrack21(tmp_path):
    doc = posetrack21_doc()
    del doc["categories"]
    assert read_posetrack21(_layout_file(tmp_path, doc)).keypoint_set is POSETRACK21


def test_keypoint_set_from_a_custom_category(tmp_path):
    doc = posetrack21_doc()
    doc["categories"] = [{"id": 1, "name": "person", "keypoints": ["head", "left_hand", "right_hand"],
                          "skeleton": [[1, 2], [1, 3]]}]
    for rec in doc["annotations"]:
        rec["keypoints"] = rec["keypoints"][:9]
    video = read_posetrack21(_layout_file(tmp_path, doc))
    ks = video.keypoint_set
    assert ks.keypoints == ("head", "left_hand", "right_hand")
    assert ks.skeleton == ((0, 1), (0, 2))
    assert ks.flip_pairs == ((1, 2),)
    assert ks.sigmas == (DEFAULT_SIGMA, 0.062, 0.062)  # COCO's wrist sigma for the hands (by name)
    assert video.keypoints.shape == (4, 3, 3)


@pytest.mark.parametrize("mutate, pattern", [
    (lambda d: d["annotations"][2].pop("keypoints"),
     r"vid1\.json: annotations\[2\] \(id=12\): field 'keypoints': missing"),
    (lambda d: d["annotations"][2].update(keypoints=d["annotations"][2]["keypoints"][:48]),
     r"vid1\.json: annotations\[2\] \(id=12\): field 'keypoints': expected 51 numbers .* got 48"),
    (lambda d: d["annotations"][1].update(image_id=999),
     r"annotations\[1\] \(id=11\): field 'image_id': image id 999 is not in 'images'"),
    (lambda d: d["annotations"][0].update(bbox=["a", 1, 2, 3]),
     r"annotations\[0\] \(id=10\): field 'bbox': element 0 is not a number: 'a'"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]),
     r"annotations\[0\] \(id=10\): field 'bbox': expected 4 numbers"),
    (lambda d: d["annotations"][7].pop("track_id"), r"annotations\[7\] \(id=17\): field 'track_id': missing"),
    (lambda d: d["annotations"][7].update(id=10),
     r"annotations\[7\] \(id=10\): field 'id': duplicate annotation id 10"),
    (lambda d: d["images"][1].pop("frame_id"), r"images\[1\] \(id=14\): field 'frame_id': missing"),
    (lambda d: d["images"][2].update(frame_id=101), r"field 'frame_id': duplicate frame_id 101"),
    (lambda d: d["images"][0].pop("is_labeled"), r"images\[0\] \(id=13\): field 'is_labeled': missing"),
    (lambda d: d["images"][0].pop("file_name"), r"images\[0\] \(id=13\): field 'file_name': missing"),
    (lambda d: d.pop("annotations"), r"vid1\.json: missing top-level field 'annotations'"),
])
def test_errors_name_file_record_and_field(tmp_path, mutate, pattern):
    path = _layout_file(tmp_path, mutated(posetrack21_doc(), mutate))
    with pytest.raises(ValueError, match=pattern):
        read_posetrack21(path)


def test_not_json_and_missing_file_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{'images': [")
    with pytest.raises(ValueError, match=r"bad\.json: not valid JSON \(line 1, column 2"):
        read_posetrack21(bad)
    with pytest.raises(FileNotFoundError, match=r"nope\.json: no such file"):
        read_posetrack21(tmp_path / "nope.json")


def test_same_track_twice_in_a_frame_is_read_with_a_warning(tmp_path, caplog):
    doc = posetrack21_doc()
    doc["annotations"][1]["track_id"] = 1  # ids 10 and 11 both track 1 on frame_id 101
    with caplog.at_level("WARNING", logger="vatl.data.formats._samples"):
        video = read_posetrack21(_layout_file(tmp_path, doc))
    assert video.track_id.tolist() == [1, 1, 1, 3]
    assert "vid1.json: 1 instance(s) share a track id" in caplog.text


def test_video_without_usable_instances_is_empty_not_an_error(tmp_path):
    doc = posetrack21_doc()
    for rec in doc["annotations"]:
        rec["keypoints"] = [0.0] * 51
    video = read_posetrack21(_layout_file(tmp_path, doc))
    assert video.num_samples == 0 and len(video.frames) == 4
    assert video.keypoints.shape == (0, 17, 3)
    # the joint check comes before the box check; the unlabeled frame's instance is not parsed at all
    assert video.skipped == {"no_annotated_joint": 7, "unlabeled_frame": 1}
    prev, nxt = video.neighbours()
    assert prev.shape == (0,) and nxt.shape == (0,)
    with pytest.raises(ValueError, match=r"vid1\.json: no usable person instance in 4 frames "
                                         r"\(skipped: 7 no_annotated_joint, 1 unlabeled_frame\)"):
        require_samples(video)
    full = read_posetrack21(_layout_file(tmp_path))
    assert require_samples(full) is full


def test_write_over_source_replaces_keypoints_adds_scores_and_keeps_the_rest(tmp_path):
    video = read_posetrack21(_layout_file(tmp_path))
    new_kp = video.keypoints.copy()
    new_kp[..., :2] += 3.25
    new_kp[..., 2] = np.linspace(0.1, 0.9, 17)
    out = write_posetrack21(video, tmp_path / "pred" / "vid1.json", keypoints=new_kp,
                            scores=np.array([0.5, 0.6, 0.7, 0.8]))
    doc = json.loads(out.read_text())
    original = posetrack21_doc()
    # unlabeled frame and ignore regions kept; the images lie outside the written file's root: absolute paths
    root = tmp_path / "ds"
    assert [im["file_name"] for im in doc["images"]] == [str(root / im["file_name"]) for im in original["images"]]
    assert [{**im, "file_name": None} for im in doc["images"]] == [{**im, "file_name": None} for im in original["images"]]
    again = read_posetrack21(out, image_root=root)  # read back with the folder that holds the images
    assert [f.path for f in again.frames] == [f.path for f in video.frames]
    assert doc["categories"] == original["categories"]
    by_id = {rec["id"]: rec for rec in doc["annotations"]}
    assert [rec["id"] for rec in doc["annotations"]] == [10, 11, 12, 13, 14, 15, 16, 17]
    for skipped_id in (13, 14, 15, 16):  # records that gave no sample stay exactly as they were
        assert by_id[skipped_id] == next(r for r in original["annotations"] if r["id"] == skipped_id)
    rec = by_id[12]
    assert rec["bbox_head"] == [1.5, 2.5, 3.0, 4.0]
    assert rec["keypoints"] == pytest.approx(new_kp[2].ravel().tolist())
    assert rec["scores"] == pytest.approx(np.linspace(0.1, 0.9, 17).tolist())
    assert rec["score"] == pytest.approx(0.7)
    again = read_posetrack21(out, image_root=tmp_path / "ds")
    np.testing.assert_array_equal(again.keypoints, new_kp)
    np.testing.assert_array_equal(again.boxes, video.boxes)


def _memory_video(tmp_path: Path) -> Video:
    root = tmp_path / "ds"
    frames = [Frame(root / "images" / "val" / "mem" / f"{i:06d}.jpg", image_id=500 + i, width=64, height=48,
                    is_labeled=(i != 2)) for i in range(4)]
    rng = np.random.default_rng(0)
    kp = np.concatenate([rng.uniform(0, 60, (5, 17, 2)), rng.integers(0, 2, (5, 17, 1))], axis=2)
    kp[:, 0, 2] = 1.0  # at least one labeled joint
    return Video(name="mem", keypoint_set=POSETRACK21, frames=frames,
                 frame_index=np.array([0, 0, 1, 3, 3]), track_id=np.array([7, 8, 7, 7, 8]),
                 boxes=rng.uniform(1, 50, (5, 4)), keypoints=kp, annotation_ids=np.array([1, 2, 3, 4, 5]))


def test_round_trip_of_an_in_memory_video_gives_identical_arrays(tmp_path):
    video = _memory_video(tmp_path)
    path = write_posetrack21(video, tmp_path / "ds" / "posetrack_data" / "val" / "mem.json")
    doc = json.loads(path.read_text())
    assert doc["images"][1] == {"is_labeled": True, "nframes": 4, "frame_id": 501, "id": 501, "vid_id": "mem",
                                "file_name": "images/val/mem/000001.jpg", "width": 64, "height": 48}
    assert doc["images"][2]["is_labeled"] is False
    assert doc["annotations"][0]["category_id"] == 1 and doc["annotations"][0]["person_id"] == 7
    assert doc["categories"][0]["skeleton"][0] == [16, 14]  # 1-based
    again = read_posetrack21(path)
    assert_same_samples(video, again)
    assert [f.path for f in again.frames] == [f.path.absolute() for f in video.frames]
    assert again.keypoint_set is POSETRACK21 and again.skipped == {}


def test_writing_is_deterministic(tmp_path):
    video = _memory_video(tmp_path)
    a = write_posetrack21(video, tmp_path / "a.json").read_bytes()
    b = write_posetrack21(video, tmp_path / "b.json").read_bytes()
    assert a == b
    src = read_posetrack21(_layout_file(tmp_path))
    c = write_posetrack21(src, tmp_path / "c.json").read_bytes()
    assert c == write_posetrack21(src, tmp_path / "d.json").read_bytes()


def test_file_names_outside_the_written_files_root_are_absolute_and_need_the_root_named(tmp_path):
    video = _memory_video(tmp_path)
    doc = json.loads(write_posetrack21(video, tmp_path / "out" / "mem.json").read_text())
    assert doc["images"][0]["file_name"] == (tmp_path / "ds" / "images" / "val" / "mem" / "000000.jpg").as_posix()
    with pytest.raises(ValueError, match=r"images\[0\].*field 'file_name'.*outside the image root"):
        read_posetrack21(tmp_path / "out" / "mem.json")
    again = read_posetrack21(tmp_path / "out" / "mem.json", image_root=tmp_path / "ds")
    assert again.frames[0].path == video.frames[0].path.absolute()
    inside = json.loads(write_posetrack21(video, tmp_path / "ds" / "mem.json").read_text())
    assert inside["images"][0]["file_name"] == "images/val/mem/000000.jpg"  # inside its root: relative


@pytest.mark.parametrize("file_name", ["../../../etc/passwd", "/etc/passwd", "images/../../outside.jpg"])
def test_image_paths_that_leave_the_image_root_are_refused(tmp_path, file_name):
    doc = json.loads(_layout_file(tmp_path).read_text())
    doc["images"][1]["file_name"] = file_name
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"images\[1\].*field 'file_name'.*outside the image root") as err:
        read_posetrack21(path)
    assert str(path) in str(err.value)


def test_writer_refuses_wrong_shapes_and_non_finite_values(tmp_path):
    video = _memory_video(tmp_path)
    with pytest.raises(ValueError, match=r"keypoints must be \(N, K, 3\) = \(5, 17, 3\)"):
        write_posetrack21(video, tmp_path / "x.json", keypoints=np.zeros((5, 15, 3)))
    with pytest.raises(ValueError, match=r"scores must be \(N,\) = \(5,\)"):
        write_posetrack21(video, tmp_path / "x.json", scores=np.zeros(4))
    kp = video.keypoints.copy()
    kp[3, 2, 0] = np.nan
    with pytest.raises(ValueError, match="sample 3"):
        write_posetrack21(video, tmp_path / "x.json", keypoints=kp)
    assert not (tmp_path / "x.json").exists()


# ----------------------------------------------------------------------------- the real Bonn video

def _bonn() -> Video:
    if not BONN_JSON.is_file():
        pytest.skip(f"real data not available at {BONN_JSON}")
    return read_posetrack21(BONN_JSON)


def test_bonn_video_counts():
    video = _bonn()
    assert len(video.frames) == 41
    assert video.num_samples == 164
    assert video.num_tracks == 4
    assert np.bincount(video.track_id).tolist() == [41, 41, 41, 41]
    assert video.skipped == {}
    assert all(f.is_labeled for f in video.frames)
    assert video.keypoint_set is POSETRACK21
    assert not video.visible[:, [0, 3, 4]].any()  # nose and ears are never annotated in this conversion


def test_bonn_frames_are_ordered_and_load_lazily():
    video = _bonn()
    names = [f.path.name for f in video.frames]
    assert names == [f"{i:06d}.jpg" for i in range(41)]
    assert video.frames[0].path.resolve() == (BONN / "images" / "val" / "060470979" / "000000.jpg").resolve()
    assert missing_frames(video) == []
    image = video.frames[7].load()
    assert image.shape == (540, 960, 3) and image.dtype == np.uint8


def test_bonn_neighbours_link_consecutive_frames_of_each_track():
    video = _bonn()
    prev, nxt = video.neighbours(max_gap=1)
    first = video.frame_index == 0
    last = video.frame_index == 40
    assert (prev[first] == -1).all() and (prev[~first] >= 0).all()
    assert (nxt[last] == -1).all() and (nxt[~last] >= 0).all()
    assert (video.track_id[prev[~first]] == video.track_id[~first]).all()
    assert (video.frame_index[prev[~first]] == video.frame_index[~first] - 1).all()


def test_bonn_round_trip_through_the_writer_is_lossless(tmp_path):
    video = _bonn()
    out = write_posetrack21(video, tmp_path / "posetrack_data" / "val" / "060470979.json")
    written, original = json.loads(out.read_text()), json.loads(BONN_JSON.read_text())
    # everything is kept; the image paths, outside the written file's root, become absolute
    for im in original["images"]:
        im["file_name"] = str((BONN / im["file_name"]).resolve())
    assert written == original
    again = read_posetrack21(out, image_root=BONN)
    assert_same_samples(video, again)
    assert again.frames[0].path.resolve() == video.frames[0].path.resolve()


@pytest.mark.parametrize("field, value, message", [
    ("v", 7, r"keypoint 5: visibility v = 7; expected 0"),
    ("x", 1e30, r"keypoint 5 at \(1e\+30, .*\) lies outside the image 640×480"),
    ("x", float("inf"), "non-finite"),
    ("bbox", [1e30, 40, 60, 200], r"field 'bbox'.*does not fit the image 640×480"),
    ("bbox", [90, 40, 1e30, 200], r"field 'bbox'.*does not fit"),
])
def test_implausible_ground_truth_names_the_record_and_field(tmp_path, field, value, message):
    doc = posetrack21_doc()
    rec = doc["annotations"][0]
    if field == "bbox":
        rec["bbox"] = value
    else:
        rec["keypoints"][3 * 5 + {"x": 0, "v": 2}[field]] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))  # inf is written as the bare Infinity token Python reads back
    with pytest.raises(ValueError, match=message) as err:
        read_posetrack21(path)
    assert str(path) in str(err.value) and "annotations[0] (id=10)" in str(err.value)


def test_joints_outside_the_frame_within_the_margin_are_kept(tmp_path):
    doc = posetrack21_doc()
    doc["annotations"][0]["keypoints"][3 * 5:3 * 5 + 3] = [-150.0, 700.0, 1]  # a truncated person
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(doc))
    assert read_posetrack21(path).keypoints[0, 5].tolist() == [-150.0, 700.0, 1.0]
