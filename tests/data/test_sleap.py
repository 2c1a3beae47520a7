"""SLEAP .slp and DeepLabCut CollectedData through sleap-io: a user's own labels read as a video, queries
written for each tool, corrected files read back as answers (round trips)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from skeleton_clips import FLY_NAMES, animal_clip_slp, fly_points

sio = pytest.importorskip("sleap_io")

from vatl.data.formats import load_video  # noqa: E402
from vatl.data.formats.sleap import read_dlc, read_dlc_answers, read_slp, read_slp_answers, write_dlc, write_slp  # noqa: E402


@pytest.fixture()
def flies(tmp_path):
    return animal_clip_slp(tmp_path / "clip", frames=4)


def test_a_user_slp_file_reads_as_a_video(flies):
    video = load_video(flies)  # recognised by its suffix
    points = fly_points(4)
    assert video.name == "flies" and video.source["format"] == "slp"
    assert video.keypoint_set.keypoints == FLY_NAMES and video.num_samples == 8 and len(video.frames) == 4
    ks = video.keypoint_set
    assert ks.flip_pairs == ((3, 4), (5, 6), (7, 8), (9, 10), (11, 12))
    assert len(ks.angle_triples) == 4  # forelegs and hindlegs: the joints with two skeleton neighbours
    assert ks.sigma_source == "the default sigma 0.025 for every joint"
    np.testing.assert_allclose(video.keypoints[:, :, :2], points.reshape(8, 13, 2))
    assert (video.keypoints[..., 2] == 2).all() and sorted(set(video.track_id)) == [0, 1]
    assert (video.boxes[:, 2] > 0).all() and video.frames[1].path.name == "img0001.png"


def test_an_untracked_frame_with_two_instances_is_an_error(tmp_path, flies):
    labels = sio.load_slp(str(flies))
    for lf in labels.labeled_frames:
        for inst in lf.instances:
            inst.track = None
    bad = tmp_path / "untracked.slp"
    sio.save_slp(labels, str(bad), verbose=False)
    with pytest.raises(ValueError, match="frame 0 has 2 instances, 2 without a track"):
        read_slp(bad)


def test_query_to_sleap_and_corrected_instances_back(tmp_path, flies):
    video = read_slp(flies)
    query = np.array([1, 2, 5])
    predictions = video.keypoints.copy()
    predictions[..., :2] += 2.0
    predictions[..., 2] = 0.7
    out = write_slp(video, tmp_path / "query.slp", query, predictions, predicted=np.ones(video.num_samples, bool))
    labels = sio.load_slp(str(out))
    assert sum(len(lf.predicted_instances) for lf in labels.labeled_frames) == 3
    # in SLEAP the annotator corrects each prediction: a user instance made from it (from_predicted)
    for lf in labels.labeled_frames:
        for pred in list(lf.predicted_instances):
            xy = pred.numpy() - 2.0
            xy[3] = np.nan  # wingL left out
            lf.instances.append(sio.Instance.from_numpy(xy, skeleton=pred.skeleton, track=pred.track, from_predicted=pred))
    sio.save_slp(labels, str(tmp_path / "corrected.slp"), verbose=False)
    answers = read_slp_answers(tmp_path / "corrected.slp", video)
    assert sorted(answers) == query.tolist()
    for i in query:
        expected = video.keypoints[i].copy()
        expected[3] = 0
        np.testing.assert_allclose(answers[i], expected, atol=1e-4)


def test_labels_keep_their_visibility_through_sleap(tmp_path, flies):
    video = read_slp(flies)
    kp = video.keypoints.copy()
    kp[0, 2, 2] = 1  # occluded
    again = read_slp(write_slp(video, tmp_path / "labels.slp", keypoints=kp))
    np.testing.assert_allclose(again.keypoints, kp, atol=1e-4)


def test_query_to_deeplabcut_and_corrected_labels_back(tmp_path, flies):
    video = read_slp(flies)
    query = np.array([0, 3, 4])
    path = write_dlc(video, tmp_path / "project", query)
    assert path.name == "CollectedData_vatl.csv" and path.parent == tmp_path / "project" / "labeled-data" / "flies"
    assert sorted(p.name for p in path.parent.glob("*.png")) == ["img0000.png", "img0001.png", "img0002.png"]
    rows = list(csv.reader(path.open()))
    assert [r[0] for r in rows[:4]] == ["scorer", "individuals", "bodyparts", "coords"]
    assert rows[2][3:5] == ["head", "head"] and rows[3][3:5] == ["x", "y"] and rows[4][:3] == ["labeled-data", "flies", "img0000.png"]
    # the annotator moves the head of track0 on the first image by 3 px (as DLC's GUI saves it)
    rows[4][3] = repr(float(rows[4][3]) + 3.0)
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    answers = read_dlc_answers(path, video)
    assert sorted(answers) == query.tolist()
    expected = video.keypoints[0].copy()
    expected[0, 0] += 3.0
    np.testing.assert_allclose(answers[0], expected, atol=1e-6)
    np.testing.assert_allclose(answers[4], video.keypoints[4], atol=1e-6)
    # a DLC file is a video vatl reads too, bodyparts in the file's order (sleap-io sorts them by name)
    dlc = read_dlc(path)
    assert dlc.keypoint_set.keypoints == FLY_NAMES and dlc.name == "flies" and dlc.source["format"] == "dlc"
    assert dlc.num_samples == 3


def test_deeplabcut_images_must_be_beside_the_file(tmp_path, flies):
    video = read_slp(flies)
    path = write_dlc(video, tmp_path / "project", [0, 3])
    (path.parent / "img0001.png").unlink()
    with pytest.raises(FileNotFoundError, match="1 of 2 labeled images were not found"):
        read_dlc(path)
    with pytest.raises(ValueError, match="with a .csv twin"):
        read_dlc(tmp_path / "CollectedData_x.h5")


def _relabel(flies, out, change):
    labels = sio.load_slp(str(flies), open_videos=False)
    change(labels)
    sio.save_slp(labels, str(out), verbose=False)
    return out


def _with_images(names):
    """A change of the labels: their video's image files are ``names`` (as stored)."""
    def change(labels):
        video = sio.Video.from_filename(names)
        for lf in labels.labeled_frames:
            lf.video = video
        labels.videos[:] = [video]
    return change


def test_image_files_outside_the_files_folder_are_refused(tmp_path, flies):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    moved = elsewhere / "flies.slp"
    moved.write_bytes(flies.read_bytes())  # its images (absolute paths) now lie outside its folder
    with pytest.raises(ValueError, match=r"flies.slp: image '.*img0000.png': '.*img0000.png' lies outside the image root"):
        read_slp(moved)
    assert read_slp(moved, image_root=tmp_path).num_samples == 8  # the folder that holds them, named

    escape = _with_images([f"../clip/frames/img{t:04d}.png" for t in range(4)])
    with pytest.raises(ValueError, match=r"image '../clip/frames/img0000.png': .*lies outside the image root"):
        read_slp(_relabel(flies, tmp_path / "clip" / "frames" / "escape.slp", escape))
    inside = _relabel(flies, tmp_path / "clip" / "relative.slp", _with_images([f"frames/img{t:04d}.png" for t in range(4)]))
    assert read_slp(inside).frames[0].path == tmp_path / "clip" / "frames" / "img0000.png"


def test_a_labeled_frame_beyond_the_image_list_is_an_error(tmp_path, flies):
    shorten = _with_images([str(tmp_path / "clip" / "frames" / f"img{t:04d}.png") for t in range(2)])
    with pytest.raises(ValueError, match=r"short.slp: labeled frame 2 of video 0 is beyond its 2 image files "
                                         r"\(and 1 more\)"):
        read_slp(_relabel(flies, tmp_path / "clip" / "short.slp", shorten))


def test_answers_need_tracks_named_by_their_track_id(tmp_path, flies):
    video = read_slp(flies)
    written = write_slp(video, tmp_path / "query.slp", [0, 1])

    def rename(labels):  # tracks named otherwise: their list position would be another sample's track
        labels.tracks[0].name, labels.tracks[1].name = "fly1", "fly0"

    with pytest.raises(ValueError, match=r"track 'fly1' is not one vatl wrote"):
        read_slp_answers(_relabel(written, tmp_path / "renamed.slp", rename), video)

    def untrack(labels):  # one instance left on the frame, without its track
        lf = labels.labeled_frames[0]
        lf.instances = lf.instances[:1]
        lf.instances[0].track = None

    with pytest.raises(ValueError, match=r"has no track; answers are matched to samples by track"):
        read_slp_answers(_relabel(written, tmp_path / "untracked.slp", untrack), video)

    def twice(labels):
        lf = labels.labeled_frames[0]
        lf.instances[1].track = lf.instances[0].track

    with pytest.raises(ValueError, match=r"two instances on frame .*img0000.png with track 0"):
        read_slp_answers(_relabel(written, tmp_path / "twice.slp", twice), video)


def test_deeplabcut_image_paths_may_not_leave_the_project(tmp_path, flies):
    video = read_slp(flies)
    path = write_dlc(video, tmp_path / "project", [0, 3])
    rows = list(csv.reader(path.open()))
    rows[4][:3] = ["..", "..", "secret.png"]
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(ValueError, match=r"CollectedData_vatl.csv: labeled image '../../secret.png' lies outside"):
        read_dlc(path)
