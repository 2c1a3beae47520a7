"""What a clip run leaves: the overlay mp4 (readable, one frame per clip frame), the PoseTrack21 poses file
next to the COCO one, and the queried samples' images."""

import numpy as np
import pytest
from video_testdata import write_clip, write_mot

from vatl.data.formats import load_video, save_video
from vatl.video.ingest import VideoOptions, ingest
from vatl.video.outputs import (
    COCO_POSES,
    OVERLAY,
    POSETRACK_POSES,
    draw_poses,
    read_exported_poses,
    write_clip_outputs,
    write_query_images,
)
from vatl.video.reader import open_frames

FRAMES = 8


@pytest.fixture()
def video(tmp_path):
    write_clip(tmp_path / "walk.mp4", frames=FRAMES)
    return ingest(tmp_path / "walk.mp4", VideoOptions(detections=str(write_mot(tmp_path / "det.txt", FRAMES))))


def fake_poses(video):
    """Every sample's box corners and centre as keypoints (so drawn joints land on the figure)."""
    k = video.keypoint_set.num_keypoints
    kp = np.zeros((video.num_samples, k, 3))
    x, y, w, h = video.boxes.T
    kp[:, :, 0] = (x + w / 2)[:, None] + np.linspace(-w / 3, w / 3, k).T
    kp[:, :, 1] = (y + h / 2)[:, None] + np.linspace(-h / 3, h / 3, k).T
    kp[:, :, 2] = 0.9
    return kp


def test_clip_outputs_after_a_run(video, tmp_path):
    run = tmp_path / "run"
    kp = fake_poses(video)
    keep = np.arange(1, video.num_samples)  # sample 0 was rejected: not in the export
    save_video(video.subset(keep), run / COCO_POSES, keypoints=kp[keep], scores=np.full(len(keep), 1.5))
    got, scores, present = read_exported_poses(run / COCO_POSES, video)
    assert not present[0] and present[1:].all() and np.allclose(got[1:], kp[1:]) and (scores[1:] == 1.5).all()
    labeled = np.zeros(video.num_samples, dtype=bool)
    labeled[3] = True
    written = write_clip_outputs(video, run, labeled)
    assert [p.name for p in written] == [COCO_POSES, POSETRACK_POSES, OVERLAY]
    pt = load_video(run / POSETRACK_POSES)
    assert pt.num_samples == video.num_samples - 1 and pt.keypoint_set.name == "posetrack21"
    overlay = open_frames(run / OVERLAY)
    assert overlay.num_frames == FRAMES and (overlay.width, overlay.height) == (160, 96)
    # the drawn frame differs from the clip's where a person is, and the labeled sample has its white box
    frame = int(video.frame_index[3])
    drawn, plain = overlay.read(frame).astype(int), video.frames[frame].load().astype(int)
    x, y, w, h = np.round(video.boxes[3]).astype(int)
    assert np.abs(drawn - plain)[y:y + h, x:x + w].mean() > 5
    assert drawn[y + h + 2, x + w // 2].min() > 180  # the white "labeled" outline just below the box


def test_draw_poses_leaves_the_input_alone(video):
    image = video.frames[0].load()
    before = image.copy()
    out = draw_poses(image, video, np.flatnonzero(video.frame_index == 0), fake_poses(video),
                     np.zeros(video.num_samples, dtype=bool))
    assert np.array_equal(image, before) and not np.array_equal(out, image)


def test_query_images_one_per_queried_sample(video, tmp_path):
    indices = np.array([5, 0, 9])
    files = write_query_images(video, indices, fake_poses(video)[indices], tmp_path / "q")
    assert sorted(p.name for p in files) == ["sample_0.jpg", "sample_5.jpg", "sample_9.jpg"]
    assert all(p.stat().st_size > 100 for p in files)
