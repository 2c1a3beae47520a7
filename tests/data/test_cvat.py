"""CVAT's COCO Keypoints 1.0: a file written for import, an export in CVAT's documented layout
(annotations/person_keypoints_<subset>.json beside images/<subset>/, track_id in each annotation's
attributes) read back as answers and as a video (round trip)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from skeleton_clips import HUMAN_NAMES, human_clip

from vatl.data.formats import load_video
from vatl.data.formats.coco import read_coco
from vatl.data.formats.cvat import read_cvat_answers, write_cvat


@pytest.fixture()
def clip(tmp_path):
    return load_video(human_clip(tmp_path / "clip", frames=3))


def _cvat_export(written: dict, root, edit=None) -> dict:
    """What CVAT's "COCO Keypoints 1.0" export gives back for an uploaded file: ids renumbered from 1 in its
    own order, keypoints of the skeleton in the label's order (here reversed), CVAT's attribute fields, and
    the images copied to ``images/default`` (``edit(annotation)`` is the annotator's change)."""
    names = written["categories"][0]["keypoints"][::-1]
    doc = {"licenses": [{"name": "", "id": 0, "url": ""}], "info": {"contributor": "", "year": ""},
           "categories": [{"id": 1, "name": "person", "supercategory": "", "keypoints": names,
                           "skeleton": written["categories"][0]["skeleton"]}], "images": [], "annotations": []}
    image_ids = {}
    for n, im in enumerate(reversed(written["images"]), start=1):
        image_ids[im["id"]] = n
        doc["images"].append({**im, "id": n})
        dst = root / "images" / "default" / im["file_name"]
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root.parent / "clip" / im["file_name"], dst)
    for n, rec in enumerate(reversed(written["annotations"]), start=1):
        kp = np.asarray(rec["keypoints"], dtype=float).reshape(-1, 3)[::-1].copy()
        new = {"id": n, "image_id": image_ids[rec["image_id"]], "category_id": 1, "segmentation": [],
               "area": rec["area"], "bbox": rec["bbox"], "iscrowd": 0,
               "attributes": {"occluded": False, "track_id": rec["attributes"]["track_id"], "keyframe": False},
               "keypoints": kp.ravel().tolist(), "num_keypoints": int((kp[:, 2] > 0).sum())}
        doc["annotations"].append(edit(new) if edit else new)
    path = root / "annotations" / "person_keypoints_default.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return doc


def test_written_file_is_coco_keypoints_with_track_ids_in_attributes(clip, tmp_path):
    path = write_cvat(clip, tmp_path / "upload.json", [1, 2], image_root=tmp_path / "clip")
    doc = json.loads(path.read_text())
    assert [im["file_name"] for im in doc["images"]] == ["frames/000000.jpg", "frames/000001.jpg"]
    assert doc["categories"][0]["keypoints"] == list(HUMAN_NAMES) and doc["categories"][0]["skeleton"][0] == [3, 1]
    rec = doc["annotations"][0]
    assert rec["attributes"] == {"track_id": 1, "occluded": False, "keyframe": True}
    assert rec["keypoints"][:3] == [round(v, 3) for v in clip.keypoints[1, 0].tolist()]


def test_round_trip_through_a_cvat_export_keeps_visibility_and_edits(clip, tmp_path):
    written = json.loads(write_cvat(clip, tmp_path / "upload.json").read_text())

    def edit(rec):  # the annotator moves the first keypoint of every person and marks it occluded
        kp = rec["keypoints"]
        kp[0] += 4.0
        kp[2] = 1
        return rec

    _cvat_export(written, tmp_path / "export", edit)
    export = tmp_path / "export" / "annotations" / "person_keypoints_default.json"
    answers = read_cvat_answers(export, clip)
    assert sorted(answers) == list(range(clip.num_samples))
    expected = clip.keypoints.copy()
    last = HUMAN_NAMES.index("RAnkle")  # first in CVAT's (reversed) order
    expected[:, last, 0] += 4.0
    expected[:, last, 2] = 1
    np.testing.assert_allclose(np.stack([answers[i] for i in range(clip.num_samples)]), expected, atol=1e-9)
    # the export is also a video vatl reads: CVAT's layout gives the image root, tracks from attributes
    again = read_coco(export)
    assert again.keypoint_set.keypoints == tuple(HUMAN_NAMES[::-1]) and sorted(set(again.track_id)) == [0, 1]
    assert str(again.frames[0].path).endswith("export/images/default/frames/000000.jpg")


def test_annotations_matching_no_sample_are_errors(clip, tmp_path):
    written = json.loads(write_cvat(clip, tmp_path / "upload.json").read_text())
    doc = _cvat_export(written, tmp_path / "export", lambda rec: {**rec, "attributes": {"track_id": 7}})
    path = tmp_path / "export" / "annotations" / "person_keypoints_default.json"
    with pytest.raises(ValueError, match=r"annotations\[0\] \(id=1\).*no sample of video 'dance_clip' on image "
                                         r"'frames/000002.jpg' with track 7"):
        read_cvat_answers(path, clip)
    doc["categories"][0]["keypoints"] = ["a"] * 15
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="names none of the keypoints"):
        read_cvat_answers(path, clip)


def _export_of(clip, tmp_path, edit=None):
    written = json.loads(write_cvat(clip, tmp_path / "upload.json").read_text())
    doc = _cvat_export(written, tmp_path / "export", edit)
    return doc, tmp_path / "export" / "annotations" / "person_keypoints_default.json"


def test_malformed_categories_and_ids_are_errors_naming_the_record(clip, tmp_path):
    doc, path = _export_of(clip, tmp_path)
    for change, message in [
        (lambda d: d["categories"].append(5), r"categories\[1\] must be an object, got int"),
        (lambda d: d["categories"][0].update(keypoints="Neck"), r"categories\[0\] \(id=1\): field 'keypoints'"),
        (lambda d: d["annotations"][0].update(category_id=[1]), r"annotations\[0\] \(id=1\): field 'category_id'"),
        (lambda d: d["annotations"][0].update(image_id={"a": 1}), r"annotations\[0\] \(id=1\): field 'image_id'"),
        (lambda d: d["annotations"][0]["attributes"].update(track_id="one"),
         r"annotations\[0\] \(id=1\): field 'attributes.track_id': expected an integer, got 'one'"),
        (lambda d: d["annotations"][0].update(keypoints=[None] * 45),
         r"annotations\[0\] \(id=1\): field 'keypoints': element 0 is not a number"),
    ]:
        bad = json.loads(json.dumps(doc))
        change(bad)
        path.write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=message):
            read_cvat_answers(path, clip)


def test_two_skeletons_for_one_person_are_an_error(clip, tmp_path):
    doc, path = _export_of(clip, tmp_path)
    doc["annotations"].append({**doc["annotations"][0], "id": 99})
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"annotations\[6\] \(id=99\).*a second skeleton on image "
                                         r"'frames/000002.jpg' with track 1 \(the first is annotations\[0\]\)"):
        read_cvat_answers(path, clip)


def test_image_names_on_another_drive_fall_back_to_the_file_name(clip, tmp_path, monkeypatch):
    import os

    def other_drive(path, start=None):
        raise ValueError("path is on mount 'C:', start on mount 'D:'")

    monkeypatch.setattr(os.path, "relpath", other_drive)  # what Windows does for another drive
    doc = json.loads(write_cvat(clip, tmp_path / "upload.json", [0]).read_text())
    assert doc["images"][0]["file_name"] == "000000.jpg"


def test_frames_of_unknown_size_are_refused(clip, tmp_path):
    clip.frames[0].width = clip.frames[0].height = 0
    clip.frames[0].path = tmp_path / "nowhere.jpg"
    with pytest.raises(ValueError, match=r"video 'dance_clip': frame 0 has no known size \(CVAT's image records"):
        write_cvat(clip, tmp_path / "upload.json", [0])
