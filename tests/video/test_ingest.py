"""A clip -> a Video of detected, tracked people: samples, frames decoded from the clip, the run folder's
cache of detections and tracks (a resumed run detects nothing), and load_input's dispatch."""

import json

import numpy as np
import pytest
from video_testdata import draw_frame, people_boxes, write_clip, write_mot

from vatl.data.formats import load_video
from vatl.video import detection
from vatl.video.detection import PersonBoxes
from vatl.video.ingest import DETECTIONS_FILE, INGEST_DIR, TRACKS_FILE, VideoOptions, ingest, load_input

FRAMES = 10


@pytest.fixture()
def clip(tmp_path):
    path = tmp_path / "walk.mp4"
    write_clip(path, frames=FRAMES)
    return path


class CountingDetector:
    """The figures' true boxes, counting the frames it was asked about."""

    name = "counting"
    needs_pixels = True
    calls = 0

    def reset(self):
        pass

    def check_frames(self, num_frames):
        pass

    def settings(self):
        return {"v": 1}

    def detect(self, frame, image):
        assert image.shape == (96, 160, 3)
        CountingDetector.calls += 1
        return PersonBoxes(people_boxes(frame) + 0.1234567, [0.9, 0.9])  # not round: the cache rounds


@pytest.fixture()
def counting(monkeypatch):
    monkeypatch.setitem(detection.DETECTORS, "counting", lambda **o: CountingDetector())
    CountingDetector.calls = 0
    return CountingDetector


def test_ingest_builds_tracked_samples_without_ground_truth(clip, tmp_path):
    options = VideoOptions(detections=str(write_mot(tmp_path / "det.txt", FRAMES)), keypoints="coco17")
    video = ingest(clip, options)
    assert video.num_samples == 2 * FRAMES and video.num_tracks == 2 and len(video.frames) == FRAMES
    assert video.keypoint_set.name == "coco17" and not video.has_ground_truth
    assert video.keypoints.shape == (2 * FRAMES, 17, 3) and (video.keypoints == 0).all()
    assert video.source["format"] == "coco" and video.source["fps"] == 25.0
    f = video.frames[7]
    assert (f.width, f.height, f.path) == (160, 96, None)
    assert np.abs(f.load().astype(int) - draw_frame(7)).mean() < 4  # decoded from the clip on demand
    boxes = video.boxes[video.frame_index == 3]
    assert np.allclose(sorted(boxes.tolist()), sorted(people_boxes(3).tolist()))


def test_the_run_folder_caches_detections_and_tracks(clip, tmp_path, counting):
    options = VideoOptions(detector="counting")
    first = ingest(clip, options, cache_dir=tmp_path / "run")
    assert counting.calls == FRAMES
    for name in (DETECTIONS_FILE, TRACKS_FILE):
        doc = json.loads((tmp_path / "run" / INGEST_DIR / name).read_text())
        assert doc["key"]["detector"] == "counting" and doc["key"]["clip"]["frames"] == FRAMES
    again = ingest(clip, options, cache_dir=tmp_path / "run")
    assert counting.calls == FRAMES  # nothing detected again
    assert np.array_equal(again.boxes, first.boxes) and np.array_equal(again.track_id, first.track_id)
    with pytest.raises(ValueError, match="other settings .*tracker.*use another output folder"):
        ingest(clip, VideoOptions(detector="counting", tracker="sort"), cache_dir=tmp_path / "run")


def test_load_input_reads_annotation_files_as_before(tiny_video_path, clip, tmp_path):
    assert load_input(tiny_video_path).num_samples == load_video(tiny_video_path).num_samples
    video = load_input(clip, {"detections": str(write_mot(tmp_path / "det.txt", FRAMES))})
    assert video.num_samples == 2 * FRAMES


def test_bad_options_and_inputs_are_clear_errors(clip, tmp_path):
    with pytest.raises(ValueError, match="keypoint set 'jrdb' for a clip"):
        VideoOptions(keypoints="jrdb")
    with pytest.raises(ValueError, match="unknown video options"):
        VideoOptions.from_dict({"detecter": "blazepose"})
    with pytest.raises(ValueError, match="beyond the clip's 10 frames"):
        ingest(clip, VideoOptions(detections=str(write_mot(tmp_path / "det.txt", FRAMES + 3))))
    empty = tmp_path / "frames"
    empty.mkdir()
    with pytest.raises(ValueError, match="is a directory without images"):
        ingest(empty, VideoOptions(detections=str(tmp_path / "det.txt")))
