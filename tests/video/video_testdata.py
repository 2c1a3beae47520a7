"""Small generated clips for the tests of vatl.video: frames drawn here and encoded with PyAV in the test.

Two "people" (filled rectangles of two colours) walk across a grey frame; :func:`people_boxes` gives their
true boxes per frame, so detections and tracks can be checked exactly.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

SIZE = (160, 96)  # width, height


def people_boxes(frame: int) -> np.ndarray:
    """(2, 4) x, y, w, h of the two figures in ``frame``: one walks right, one left."""
    return np.array([[10.0 + 4 * frame, 20.0, 24.0, 60.0], [120.0 - 3 * frame, 14.0, 20.0, 70.0]])


def draw_frame(frame: int, size: tuple[int, int] = SIZE) -> np.ndarray:
    """(H, W, 3) uint8 RGB: grey background with a frame-dependent gradient, the two figures, a frame counter
    bar (so every frame differs)."""
    w, h = size
    img = np.full((h, w, 3), 90, dtype=np.uint8)
    img[:, :, 2] = (np.arange(w) * 255 // max(w - 1, 1)).astype(np.uint8)[None, :]
    for (x, y, bw, bh), colour in zip(people_boxes(frame), ((230, 40, 40), (40, 220, 60))):
        img[int(y):int(y + bh), int(x):int(x + bw)] = colour
    img[h - 6:, : (frame * 7) % w + 4] = 255
    return img


def write_clip(path: Path, frames: int = 16, fps: int = 25, codec: str = "libx264", bframes: int = 2,
               gop: int = 6) -> list[np.ndarray]:
    """Encode ``frames`` drawn frames to ``path`` (H.264 with B-frames and a keyframe every ``gop`` frames);
    returns the drawn frames."""
    drawn = [draw_frame(i) for i in range(frames)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"x264-params": f"bframes={bframes}:keyint={gop}:min-keyint={gop}:scenecut=0",
                              "crf": "12"}
            stream.codec_context.max_b_frames = bframes
        for img in drawn:
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return drawn


def write_mot(path: Path, frames: int, jitter: float = 0.0, extra: bool = False) -> Path:
    """A MOTChallenge det.txt with the figures' true boxes (frames counted from 1); ``extra`` adds a weak
    false box in frame 3."""
    rng = np.random.default_rng(0)
    lines = []
    for f in range(frames):
        for box in people_boxes(f):
            x, y, w, h = box + rng.normal(0, jitter, 4) * (jitter > 0)
            lines.append(f"{f + 1},-1,{x:.2f},{y:.2f},{w:.2f},{h:.2f},0.95,-1,-1,-1")
    if extra:
        lines.append("4,-1,60,60,10,10,0.3,-1,-1,-1")
    path.write_text("\n".join(lines) + "\n")
    return path
