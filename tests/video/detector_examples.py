"""One example per registered person detector for the template test (a registered detector without one fails
there). An example gets a folder and the number of frames of the test clip and returns a new detector."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from video_testdata import write_mot

from vatl.video.detection import PersonDetector, get_detector


def _blazepose(folder: Path, frames: int) -> PersonDetector:
    from vatl.estimator.blazepose.fetch import cached_detector_path, cached_model_path

    if not (cached_detector_path().is_file() and cached_model_path().is_file()):
        pytest.skip("BlazePose's models are not cached (run `vatl blazepose fetch`; make setup does)")
    return get_detector("blazepose", grids=(1,))


def _coco_results(folder: Path, frames: int) -> PersonDetector:
    import json

    from video_testdata import people_boxes

    records = [{"image_id": f, "category_id": 1, "bbox": b.tolist(), "score": 0.9}
               for f in range(frames) for b in people_boxes(f)]
    path = folder / "dets.json"
    path.write_text(json.dumps(records))
    return get_detector("coco-results", path=str(path))


def _mot(folder: Path, frames: int) -> PersonDetector:
    return get_detector("mot", path=str(write_mot(folder / "det.txt", frames)))


EXAMPLES: dict[str, Callable[[Path, int], PersonDetector]] = {
    "blazepose": _blazepose,
    "coco-results": _coco_results,
    "mot": _mot,
}
