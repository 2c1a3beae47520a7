"""vatl sigmas: estimate, report, write them into a copy of the file's category; the run then says so."""

from __future__ import annotations

import json

from skeleton_clips import human_clip

from vatl.cli import main
from vatl.data.formats import load_video


def test_sigmas_from_one_clip_written_into_the_category(tmp_path, capsys):
    clip = human_clip(tmp_path / "clip", frames=8)
    out = tmp_path / "elsewhere" / "with_sigmas.json"  # another folder: image paths are rewritten
    assert main(["sigmas", str(clip), "--out", str(tmp_path / "s.json"), "--write-category", str(out),
                 "--min-count", "4"]) == 0
    text = capsys.readouterr().out
    assert "label spread along the tracks of one clip" in text and "Neck" in text
    est = json.loads((tmp_path / "s.json").read_text())
    assert est["method"] == "clip" and len(est["sigmas"]) == 15 and all(est["estimated"])
    video = load_video(out, image_root=tmp_path / "clip")
    assert video.keypoint_set.sigma_source == "the category's sigmas field"
    assert list(video.keypoint_set.sigmas) == est["sigmas"]
    assert [f.path for f in video.frames] == [f.path for f in load_video(clip).frames]
    assert main(["sigmas", str(clip), "--write-category", str(clip)]) == 2
    assert "would overwrite the input file" in capsys.readouterr().err


def test_sigmas_from_repeated_labels(tmp_path, capsys):
    a = human_clip(tmp_path / "a", frames=4)
    b = human_clip(tmp_path / "b", frames=4)
    doc = json.loads(b.read_text())
    for rec in doc["annotations"]:
        rec["keypoints"] = [v + 1.0 if n % 3 == 0 else v for n, v in enumerate(rec["keypoints"])]
    b.write_text(json.dumps(doc))
    # the two labelings' frames are different files: matched by frame image, so copy a's images' names
    assert main(["sigmas", str(a), str(b), "--min-count", "1"]) == 2
    assert "share no instance labeled twice" in capsys.readouterr().err
    (tmp_path / "a" / "second.json").write_text(json.dumps(doc))
    assert main(["sigmas", str(a), str(tmp_path / "a" / "second.json"), "--min-count", "1"]) == 0
    assert "repeated labels (2 labelings)" in capsys.readouterr().out
