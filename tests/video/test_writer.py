"""Writing mp4 files: frames come back in order at the size written (odd sizes padded); a failed write
leaves no file."""

import numpy as np
import pytest

from vatl.video.reader import open_frames
from vatl.video.writer import Mp4Writer, encode_frames


def test_encode_and_read_back(tmp_path):
    frames = [np.full((31, 45, 3), 20 * i, dtype=np.uint8) for i in range(6)]
    path = encode_frames(frames, tmp_path / "out.mp4", fps=10)
    source = open_frames(path)
    assert source.num_frames == 6 and (source.width, source.height) == (46, 32) and source.fps == 10.0
    assert [round(source.read(i)[5, 5].mean() / 20) for i in range(6)] == list(range(6))


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="frame 1 is 8×8"), Mp4Writer(tmp_path / "x.mp4") as writer:
        writer.write(np.zeros((16, 16, 3), dtype=np.uint8))
        writer.write(np.zeros((8, 8, 3), dtype=np.uint8))
    assert list(tmp_path.iterdir()) == []
