import cv2
import numpy as np
import pytest

from vatl.annotate.images import FrameImages, SampleNotFound, encode_jpeg
from vatl.data.video import Frame


def test_the_jpeg_of_a_sample_is_its_frame(tiny_video):
    images = FrameImages(tiny_video, cache_size=2)
    sample = 5
    data = images.jpeg(sample)
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    frame = tiny_video.frames[int(tiny_video.frame_index[sample])].load()
    assert decoded.shape == frame.shape
    assert np.abs(decoded.astype(int) - frame.astype(int)).mean() < 4  # JPEG at quality 90
    assert images.jpeg(sample) is data  # cached


def test_only_samples_of_the_video_are_served(tiny_video):
    images = FrameImages(tiny_video)
    for bad in (-1, tiny_video.num_samples):
        with pytest.raises(SampleNotFound, match="not in the video"):
            images.jpeg(bad)


def test_a_frame_without_an_image_file_is_not_found(tiny_video):
    tiny_video.frames[int(tiny_video.frame_index[0])] = Frame(None, 99, 192, 144)
    with pytest.raises(SampleNotFound, match="no image file"):
        FrameImages(tiny_video).jpeg(0)


def test_the_cache_keeps_the_newest_frames(tiny_video):
    images = FrameImages(tiny_video, cache_size=2)
    firsts = [int(np.flatnonzero(tiny_video.frame_index == f)[0]) for f in range(3)]
    for s in firsts:
        images.jpeg(s)
    assert list(images._cache) == [1, 2]


def test_encode_jpeg_keeps_colours():
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[..., 0] = 255  # red
    bgr = cv2.imdecode(np.frombuffer(encode_jpeg(rgb), np.uint8), cv2.IMREAD_COLOR)
    assert bgr[8, 8, 2] > 240 and bgr[8, 8, 0] < 15
