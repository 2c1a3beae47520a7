import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from vatl.data.formats.posetrack21 import read_posetrack21
from vatl.data.synthetic.benchmark_set import BENCHMARK_SET, IMAGE_SIZE, benchmark_jobs
from vatl.data.synthetic.domains import DOMAINS, TARGET_DOMAINS, get_domain
from vatl.data.synthetic.generate import parse_size, run_jobs, synthesize_video, video_jobs, video_rng


def _jobs(root, seed=0, domain="festival", videos=2, frames=6):
    return video_jobs(root, domain, videos, frames, 128, 96, seed=seed, split="val")


def test_written_videos_load_through_the_posetrack21_reader_with_the_same_arrays(tmp_path):
    [result] = run_jobs(_jobs(tmp_path, videos=1), workers=1)
    video = read_posetrack21(result.json_path, check_images=True)
    synth = synthesize_video(get_domain("festival"), 6, 128, 96, video_rng(0, "festival", "val", 0), keep_images=True)
    assert video.keypoint_set.name == "posetrack21" and video.skipped == {}
    assert video.num_samples == synth.num_samples == result.samples > 0
    np.testing.assert_array_equal(video.keypoints, synth.keypoints)
    np.testing.assert_array_equal(video.boxes, synth.boxes)
    np.testing.assert_array_equal(video.track_id, synth.track_id)
    np.testing.assert_array_equal(video.frame_index, synth.frame_index)
    assert len(video.frames) == 6 and video.frames[0].path == tmp_path / "images/val/synth_festival_0000/000000.jpg"
    # the JPEG is the rendered frame up to compression
    decoded = cv2.imread(str(video.frames[3].path)).astype(float)
    error = np.abs(decoded - synth.images[3]).mean()
    assert error < 10.0 and error < 0.5 * np.abs(decoded - synth.images[3][:, ::-1]).mean()
    # PoseTrack conventions: ears never labeled, unlabeled joints stored as 0, 0, 0
    assert (video.keypoints[:, 3:5] == 0).all()
    assert (video.keypoints[video.keypoints[..., 2] == 0] == 0).all()


def test_same_seed_gives_the_same_bytes_with_any_number_of_workers(tmp_path):
    a = run_jobs(_jobs(tmp_path / "a"), workers=1)
    b = run_jobs(_jobs(tmp_path / "b"), workers=2)
    c = run_jobs(_jobs(tmp_path / "c", seed=1), workers=1)
    for ra, rb, rc in zip(a, b, c):
        assert Path(ra.json_path).read_bytes() == Path(rb.json_path).read_bytes()
        assert Path(ra.json_path).read_bytes() != Path(rc.json_path).read_bytes()
    frame = "images/val/synth_festival_0001/000004.jpg"
    assert (tmp_path / "a" / frame).read_bytes() == (tmp_path / "b" / frame).read_bytes()


def test_generation_skips_up_to_date_videos_and_redoes_changed_ones(tmp_path):
    first = run_jobs(_jobs(tmp_path), workers=1)
    again = run_jobs(_jobs(tmp_path), workers=1)
    assert not any(r.skipped for r in first) and all(r.skipped for r in again)
    assert [r.samples for r in again] == [r.samples for r in first]
    # a damaged JSON, a missing frame or other parameters regenerate that video only
    path = tmp_path / "posetrack_data/val/synth_festival_0000.json"
    path.write_text(json.dumps({"images": []}))
    (tmp_path / "images/val/synth_festival_0001/000002.jpg").unlink()
    third = run_jobs(_jobs(tmp_path), workers=1)
    assert [r.skipped for r in third] == [False, False]
    assert [r.json_sha256 for r in third] == [r.json_sha256 for r in first]
    fourth = run_jobs(_jobs(tmp_path, frames=7), workers=1)
    assert not any(r.skipped for r in fourth)


def test_every_domain_renders_people_with_labels():
    for name, domain in DOMAINS.items():
        v = synthesize_video(domain, 5, 192, 144, video_rng(3, name, "val", 0), keep_images=True)
        per_frame = np.bincount(v.frame_index, minlength=5)
        assert per_frame.min() >= 1 and per_frame.max() <= 6, name
        assert ((v.keypoints[..., 2] > 0).sum(axis=1) >= 3).all(), name
        assert v.images[0].shape == (144, 192, 3) and v.images[0].dtype == np.uint8


def test_target_domains_differ_from_the_source_in_many_factors():
    source = get_domain("source").to_dict()
    factors = ("palette", "backgrounds", "motions", "person_height_frac", "noise_sigma", "blur_sigma", "roll_deg",
               "textures", "child_prob", "girth", "light_gain")
    for name in TARGET_DOMAINS:
        target = get_domain(name).to_dict()
        changed = [f for f in factors if target[f] != source[f]]
        assert len(changed) >= 5, (name, changed)
        assert target["motions"] != source["motions"] and target["backgrounds"] != source["backgrounds"]


def test_the_standard_set_has_a_source_training_set_and_twelve_target_videos():
    jobs = benchmark_jobs("/nonexistent/root", seed=0)
    targets = [j for j in jobs if j.domain != "source"]
    train = [j for j in jobs if j.domain == "source" and j.split == "train"]
    assert len({j.domain for j in targets}) >= 3 and len(targets) >= 12
    assert all(30 <= j.num_frames <= 60 for j in targets)
    assert sum(j.num_frames for j in train) >= 1000 and any(j.split == "val" and j.domain == "source" for j in jobs)
    assert {(j.width, j.height) for j in jobs} == {IMAGE_SIZE}
    assert len({j.video_number for j in jobs}) == len(jobs)
    assert benchmark_jobs("/nonexistent/root", seed=0) == jobs        # deterministic frame counts
    assert len(BENCHMARK_SET) == 2 + len(TARGET_DOMAINS)


def test_clear_errors_for_unknown_domains_and_bad_sizes():
    with pytest.raises(ValueError, match="known: source, night"):
        get_domain("underwater")
    with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
        parse_size("640")
    with pytest.raises(ValueError, match="between 32 and 4096"):
        parse_size("16x16")
    assert parse_size("320x240") == (320, 240)
    with pytest.raises(ValueError, match="number of frames"):
        video_jobs("/tmp/x", "source", 1, 0, 64, 64)


def test_synth_command_writes_a_posetrack_root(tmp_path):
    from vatl.commands import synth

    parser = argparse.ArgumentParser()
    synth.add_arguments(parser)
    args = parser.parse_args(["--domain", "drone", "--videos", "1", "--frames", "4", "--size", "96x64",
                              "--out", str(tmp_path), "--workers", "1"])
    assert synth.run(args) == 0
    video = read_posetrack21(tmp_path / "posetrack_data/val/synth_drone_0000.json", check_images=True)
    assert len(video.frames) == 4 and video.frames[0].width == 96
    with pytest.raises(ValueError, match="unknown synthetic domain"):
        synth.run(parser.parse_args(["--domain", "mars", "--out", str(tmp_path)]))
