"""The report: every figure from saved data only, self-contained HTML, clear errors."""

from __future__ import annotations

import base64
import re
import shutil

import numpy as np
import pytest
from explain_runs import make_run
from PIL import Image

from vatl.errors import UserError
from vatl.estimator.checkpoint import default_checkpoint_path
from vatl.explain.embedding import densmap_available
from vatl.explain.record import cycle_path, load_cycle, save_cycle
from vatl.explain.report import report_path, write_report

FIGURES = {"selected", "compare_mpe", "compare_coreset", "heatmaps", "embedding", "pick_position", "embedding_cycles",
           "curves"}


def _pngs_in(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_every_figure_is_drawn_from_saved_data_only(tmp_path):
    checkpoint = tmp_path / "model.pt"
    shutil.copy(default_checkpoint_path(), checkpoint)
    video_path, run = make_run(tmp_path, checkpoint=checkpoint)
    # nothing but the run folder's records is left: no frames, no annotation file, no checkpoint, no models
    shutil.rmtree(tmp_path / "data")
    checkpoint.unlink()
    shutil.rmtree(run / "models")
    report = write_report(run, cycle=2, compare="mpe,coreset", embedding="pca")
    assert set(report.figures) == FIGURES and report.cycle == 2 and report.embedding.startswith("PCA")
    for path in report.figures.values():
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size[0] > 300 and image.size[1] > 200
    html = report.html.read_text()
    assert report.html == report_path(run) and len(_pngs_in(html)) == len(FIGURES)
    assert _pngs_in(html)[0] == report.figures["selected"].read_bytes()
    assert not re.search(r'(src|href)="(?!data:)', html)  # nothing outside the file
    # the selected samples' crops were saved with the cycle; the compared picks the cycle did not keep
    # are grey tiles (their frames are gone), and the report says why
    data = load_cycle(cycle_path(run, 2))
    assert report.missing_images["selected"] == 0
    from vatl.explain.rank import rank

    for name in ("mpe", "coreset"):
        not_kept = sum(data.crop(int(s)) is None for s in rank(data, name)[:24])
        assert report.missing_images[f"compare_{name}"] == not_kept
    assert any("the video is not available" in note for note in report.notes)
    for heading in ("The selected instances", "Compared with other criteria", "Heatmaps around", "The features",
                    "The run, cycle by cycle"):
        assert heading in html
    assert "true OKS" in html and "thc+wpu+duw (the run)" in html


def test_compared_picks_are_cut_from_the_frames_when_they_are_there(finished_run):
    _, run = finished_run
    report = write_report(run, cycle=1, compare="coreset,oracle", embedding="pca", all_cycles=False)
    assert report.missing_images == {"selected": 0, "compare_coreset": 0, "compare_oracle": 0}
    assert not report.notes and "embedding_cycles" not in report.figures


def test_names_from_files_are_escaped(finished_run, tmp_path):
    _, run = finished_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    data = load_cycle(cycle_path(copy, 0))
    data.meta["video"] = "<script>alert(1)</script>"
    save_cycle(cycle_path(copy, 0), data)
    html = write_report(copy, cycle=0, embedding="pca", all_cycles=False).html.read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_errors_name_the_folder_and_what_is_missing(finished_run, tmp_path):
    _, run = finished_run
    with pytest.raises(FileNotFoundError, match="no such run folder"):
        write_report(tmp_path / "nothing")
    with pytest.raises(UserError, match="not a run folder \\(no results.json or config.json\\)"):
        write_report(tmp_path)
    copy = tmp_path / "old_run"
    shutil.copytree(run, copy)
    shutil.rmtree(copy / "explain")
    with pytest.raises(UserError, match="no explain data"):
        write_report(copy)
    with pytest.raises(ValueError, match="no explain data for cycle 7; saved cycles: 0, 1, 2, 3"):
        write_report(run, cycle=7)
    with pytest.raises(ValueError, match="'ground' cannot be ranked"):
        write_report(run, compare="ground")


def test_the_latest_cycle_is_the_default_and_a_running_run_can_be_explained(finished_run, tmp_path):
    _, run = finished_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    cycle_path(copy, 3).unlink()  # as if cycle 3 had not been reached yet
    report = write_report(copy, embedding="pca", all_cycles=False)
    assert report.cycle == 2


@pytest.mark.slow
@pytest.mark.skipif(not densmap_available(), reason="umap-learn is not installed (pip install 'vatl[explain]')")
def test_densmap_embedding_is_used_when_umap_learn_is_installed(finished_run):
    report = write_report(finished_run[1], cycle=1, all_cycles=False)
    assert report.embedding.startswith("DensMAP (umap-learn")
    assert "DensMAP (umap-learn" in report.html.read_text()
    assert np.asarray(Image.open(report.figures["embedding"])).std() > 0


def test_a_run_without_ground_truth_is_explained_without_ap_and_oks(finished_run, tmp_path):
    import json

    copy = tmp_path / "run"
    shutil.copytree(finished_run[1], copy)
    for c in range(4):  # as a run answered by a person on an unannotated video would have saved it
        data = load_cycle(cycle_path(copy, c))
        data.true_oks[:] = np.nan
        save_cycle(cycle_path(copy, c), data)
    results = json.loads((copy / "results.json").read_text())
    for rec in results["cycles"]:
        for key in ("AP@0.6", "AP@0.6_raw", "correct", "correct_raw", "true_oks_min"):
            rec[key] = None
    (copy / "results.json").write_text(json.dumps(results))
    report = write_report(copy, cycle=1, compare="coreset", embedding="pca", all_cycles=False)
    html = report.html.read_text()
    assert "true OKS" not in html and "mean true OKS" not in html and set(report.figures) >= {"selected", "curves"}
    with pytest.raises(ValueError, match="the video has no ground truth"):
        write_report(copy, cycle=1, compare="oracle", embedding="pca")
