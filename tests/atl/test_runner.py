"""prepare_run / open_session: a checkpoint of another keypoint set is transferred to the video's, the OKS
sigmas are reported, and a criterion that cannot work on the video's skeleton is refused before cycle 0
or replaced by the fallback; library code reports what it did in RunInputs.notes."""

from __future__ import annotations

import json

import pytest
from skeleton_clips import animal_clip_coco, human_clip

from vatl.atl.runner import RunSpec, open_session, prepare_run
from vatl.criteria.base import UnsuitableCriterion


def _spec(clip, out, **config) -> RunSpec:
    return RunSpec(str(clip), str(out), {"schedule": [50, 100], "max_epochs": 1, **config})


def test_prepare_transfers_the_model_and_notes_it(tmp_path):
    clip = human_clip(tmp_path / "clip")
    inputs = prepare_run(_spec(clip, tmp_path / "run"))
    assert inputs.model.keypoint_set.keypoints == inputs.video.keypoint_set.keypoints
    assert inputs.transfer is not None and sum(inputs.transfer.direct) == 13
    assert any(n.startswith("checkpoint default_cpu_small.pt: new output layer for 'person'") for n in inputs.notes)
    assert any(n.startswith("OKS sigmas (person):") for n in inputs.notes)
    with open_session(_spec(clip, tmp_path / "run"), inputs=inputs) as session:
        assert session.model is inputs.model
    assert json.loads((tmp_path / "run" / "transfer.json").read_text())["target"] == "person"


def test_unsuitable_criterion_is_refused_or_replaced_before_the_session(tmp_path):
    clip = animal_clip_coco(tmp_path / "clip", skeleton=False)
    with pytest.raises(UnsuitableCriterion, match="criterion 'thc\\+wpu\\+duw' cannot run on video 'clip': WPU needs"):
        open_session(_spec(clip, tmp_path / "run"))
    assert not (tmp_path / "run").exists()
    inputs = prepare_run(RunSpec(str(clip), str(tmp_path / "run"), {"schedule": [50, 100]}, fallback="thc+duw:lam=2"))
    assert inputs.config.criterion == "thc+duw" and inputs.config.criterion_options == {"lam": 2}
    assert "running 'thc+duw' instead" in inputs.notes[-1]
    with pytest.raises(UnsuitableCriterion, match="the fallback 'wpu' cannot run either"):
        prepare_run(RunSpec(str(clip), str(tmp_path / "run"), {}, fallback="wpu"))
