"""load_video / save_video: format detection, dispatch and the errors a user sees."""

from __future__ import annotations

import json

import numpy as np
import pytest
from formats_testdata import BONN_JSON, assert_same_samples, coco_doc, jrdb_doc, posetrack21_doc, write_doc

from vatl.data.formats import FORMATS, detect_format, load_video, save_video
from vatl.skeletons import COCO17, JRDB, POSETRACK21


def test_formats_listed():
    assert FORMATS == ("posetrack21", "jrdb", "coco")


@pytest.mark.parametrize("doc, expected", [
    (posetrack21_doc(), "posetrack21"),
    (jrdb_doc(), "jrdb"),
    (coco_doc(), "coco"),
])
def test_format_is_detected_from_content(tmp_path, doc, expected):
    assert detect_format(doc) == expected
    video = load_video(write_doc(doc, tmp_path / "v.json"))
    assert video.source["format"] == expected


def test_posetrack21_needs_is_labeled_and_a_frame_field_to_be_detected():
    doc = posetrack21_doc()
    for im in doc["images"]:
        del im["is_labeled"]
    assert detect_format(doc) == "coco"
    doc = coco_doc()
    doc["categories"][0]["keypoints"] = list(COCO17.keypoints)
    assert detect_format(doc) == "coco"


def test_explicit_format_and_reader_options(tmp_path):
    path = write_doc(jrdb_doc(), tmp_path / "scene.json")
    video = load_video(path, format="jrdb", max_frames=1)
    assert video.annotation_ids.tolist() == [100, 101]
    as_coco = load_video(path, format="coco")  # the same file read as generic COCO: no boxes to use
    assert as_coco.keypoint_set is JRDB and as_coco.num_samples == 0
    assert as_coco.skipped == {"missing_box": 6}


def test_unknown_format_missing_file_directory_and_not_json(tmp_path):
    path = write_doc(coco_doc(), tmp_path / "v.json")
    with pytest.raises(ValueError, match=r"unknown format 'mot'; known: posetrack21, jrdb, coco"):
        load_video(path, format="mot")
    with pytest.raises(FileNotFoundError, match=r"missing\.json: no such file"):
        load_video(tmp_path / "missing.json")
    with pytest.raises(IsADirectoryError, match=r"is a directory; expected an annotation JSON file"):
        load_video(tmp_path)
    (tmp_path / "img.jpg").write_bytes(b"\xff\xd8\xff\xe0 not json")
    with pytest.raises(ValueError, match=r"img\.jpg: not a JSON file"):
        load_video(tmp_path / "img.jpg")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"list\.json: expected a JSON object at the top level, got list"):
        load_video(tmp_path / "list.json")


def test_save_video_writes_in_the_source_format(tmp_path):
    for doc in (posetrack21_doc(), jrdb_doc(), coco_doc()):
        video = load_video(write_doc(doc, tmp_path / "in.json"))
        out = save_video(video, tmp_path / "out.json")
        again = load_video(out)
        assert again.source["format"] == video.source["format"]
        assert_same_samples(video, again)
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        save_video(video, tmp_path / "x.json", format="xml")
    with pytest.raises(IsADirectoryError):
        save_video(video, tmp_path)


def test_conversion_between_formats_keeps_the_samples(tmp_path):
    video = load_video(write_doc(posetrack21_doc(), tmp_path / "pt.json"))
    converted = save_video(video, tmp_path / "conv" / "coco.json", format="coco")
    # the images lie outside the converted file's folder: their paths are written absolute, and reading
    # them needs the folder that holds them named as the image root
    with pytest.raises(ValueError, match="outside the image root"):
        load_video(converted)
    as_coco = load_video(converted, image_root=tmp_path)
    assert as_coco.source["format"] == "coco" and as_coco.keypoint_set is POSETRACK21
    assert_same_samples(video, as_coco)
    back = load_video(save_video(as_coco, tmp_path / "conv" / "pt.json", format="posetrack21"), image_root=tmp_path)
    assert_same_samples(video, back)
    assert [f.path for f in back.frames] == [f.path for f in video.frames]


def test_save_predictions_of_the_bonn_video(tmp_path):
    if not BONN_JSON.is_file():
        pytest.skip(f"real data not available at {BONN_JSON}")
    video = load_video(BONN_JSON)
    assert video.source["format"] == "posetrack21" and video.num_samples == 164
    pred = video.keypoints.copy()
    pred[..., 2] = 0.9
    out = save_video(video, tmp_path / "pred.json", keypoints=pred, scores=np.full(164, 0.9))
    recs = json.loads(out.read_text())["annotations"]
    assert len(recs) == 164 and all(len(r["scores"]) == 17 and r["score"] == 0.9 for r in recs)


@pytest.mark.parametrize("fmt", FORMATS)
def test_predictions_of_an_in_memory_video_carry_scores_in_every_format(tmp_path, fmt):
    from vatl.data.video import Frame, Video

    kp = np.zeros((3, 17, 3))
    kp[..., 0] = np.arange(17) + 10.0
    kp[..., 1] = 20.0
    kp[..., 2] = np.array([0.25, 0.5, 0.75])[:, None]
    video = Video(name="mem", keypoint_set=JRDB, frames=[Frame(None, image_id=i + 1) for i in range(2)],
                  frame_index=np.array([0, 1, 1]), track_id=np.array([0, 0, 1]),
                  boxes=np.tile([5.0, 6.0, 30.0, 40.0], (3, 1)), keypoints=kp, annotation_ids=np.array([7, 8, 9]))
    out = save_video(video, tmp_path / f"{fmt}.json", scores=np.array([0.1, 0.2, 0.3]), format=fmt)
    recs = json.loads(out.read_text())["annotations"]
    assert [r["score"] for r in recs] == [0.1, 0.2, 0.3]
    assert [r["scores"] for r in recs] == [[0.25] * 17, [0.5] * 17, [0.75] * 17]
    again = load_video(out, format=fmt)
    assert_same_samples(video, again)
