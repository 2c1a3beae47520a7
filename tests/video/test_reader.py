"""Reading clips: exact frame indexing of an H.264 file with B-frames (sequential and random reads agree),
frame folders in natural order, clear errors for unreadable or empty inputs."""

import pickle

import cv2
import numpy as np
import pytest
from video_testdata import SIZE, write_clip

from vatl.video.reader import ImageFolder, VideoFile, is_media, open_frames


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clip") / "walk.mp4"
    drawn = write_clip(path, frames=24, bframes=2, gop=6)
    return path, drawn


def test_the_clip_has_b_frames(clip):
    import av

    with av.open(str(clip[0])) as c:
        pts = [p.pts for p in c.demux(c.streams.video[0]) if p.size]
    assert pts != sorted(pts), "decode order equals presentation order: the test clip has no B-frames"


def test_sequential_reads_decode_each_frame_once_and_match_the_drawn_frames(clip):
    path, drawn = clip
    source = open_frames(path)
    assert isinstance(source, VideoFile)
    assert (source.num_frames, source.width, source.height, source.fps) == (24, *SIZE, 25.0)
    frames = [source.read(i) for i in range(source.num_frames)]
    assert source.seeks == 1 and source.decoded == source.num_frames  # the opening seek to frame 0, no other
    assert all(f.shape == (SIZE[1], SIZE[0], 3) and f.dtype == np.uint8 for f in frames)
    errors = [np.abs(f.astype(int) - d).mean() for f, d in zip(frames, drawn)]
    assert max(errors) < 4  # lossy but the right frame: neighbouring frames differ by far more
    assert min(np.abs(frames[i].astype(int) - drawn[i + 1]).mean() for i in range(23)) > 2 * max(errors)


def test_random_reads_equal_the_sequential_decode(clip):
    path, _ = clip
    sequential = [f for f in (open_frames(path).read(i) for i in range(24))]
    source = open_frames(path)
    order = np.random.default_rng(1).integers(0, 24, size=40)
    assert all(np.array_equal(source.read(int(i)), sequential[int(i)]) for i in order)
    assert source.seeks > 1  # backward jumps seek to the keyframe before
    assert np.array_equal(source.read(23), sequential[23]) and np.array_equal(source.read(0), sequential[0])


def test_a_frame_source_pickles_and_reads_after_unpickling(clip):
    path, _ = clip
    source = open_frames(path)
    first = source.read(5)
    again = pickle.loads(pickle.dumps(source))
    assert np.array_equal(again.read(5), first)


def test_out_of_range_frames_are_refused(clip):
    source = open_frames(clip[0])
    with pytest.raises(IndexError, match="outside 0..23"):
        source.read(24)


def test_frame_folder_in_natural_order(tmp_path):
    for i in (10, 2, 1):
        img = np.full((8, 12, 3), i * 10, dtype=np.uint8)
        cv2.imwrite(str(tmp_path / f"frame_{i}.png"), img)
    (tmp_path / "notes.txt").write_text("not an image")
    source = open_frames(tmp_path)
    assert isinstance(source, ImageFolder) and source.num_frames == 3 and (source.width, source.height) == (12, 8)
    assert [p.name for p in source.files] == ["frame_1.png", "frame_2.png", "frame_10.png"]
    assert source.read(2)[0, 0, 0] == 100 and source.frame_path(1).name == "frame_2.png"


def test_unreadable_and_empty_inputs_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        open_frames(tmp_path / "missing.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video at all" * 10)
    with pytest.raises(OSError, match="bad.mp4: not a readable video"):
        open_frames(bad)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="is a directory without images"):
        open_frames(empty)
    with pytest.raises(OSError, match="not a readable video"):
        (tmp_path / "zero.mp4").write_bytes(b"")
        open_frames(tmp_path / "zero.mp4")


def test_is_media(tmp_path):
    assert is_media(tmp_path / "a.MP4") and is_media(tmp_path / "b.avi") and is_media(tmp_path)
    assert not is_media(tmp_path / "video.json")
