"""Where the other front ends point to a run's report: run/demo hints, bench summary rows, the annotator."""

from __future__ import annotations

import shutil

from starlette.testclient import TestClient

from vatl.annotate.annotator import Annotator
from vatl.annotate.app import build_app
from vatl.atl.runner import RunSpec
from vatl.estimator.checkpoint import default_checkpoint_path
from vatl.explain.links import bench_report_lines, current_report_page, report_cycle, report_hint
from vatl.explain.record import cycle_path
from vatl.explain.report import report_path, write_report

TOKEN = "t" * 32


def test_the_hint_names_the_command_then_the_report_and_whether_it_is_current(finished_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(finished_run[1], run)
    report_path(run).unlink(missing_ok=True)
    assert report_hint(run) == f"why these samples: vatl explain {run}   (writes {run / 'explain.html'})"
    write_report(run, cycle=1, embedding="pca", all_cycles=False)
    assert report_cycle(run) == 1
    assert report_hint(run) == (f"why these samples: {run / 'explain.html'} (cycle 1; cycles up to 3 saved: run "
                                f"`vatl explain {run}` again)")
    write_report(run, embedding="pca", all_cycles=False)
    assert report_hint(run) == f"why these samples: {run / 'explain.html'} (cycle 3)"
    assert report_hint(tmp_path / "elsewhere") is None


def test_bench_summary_rows_link_made_reports_and_name_the_command_for_the_others(finished_run, tmp_path):
    a, b = tmp_path / "runs" / "v" / "a", tmp_path / "runs" / "v" / "b"
    shutil.copytree(finished_run[1], a)
    shutil.copytree(finished_run[1], b)
    report_path(a).unlink(missing_ok=True)
    write_report(b, embedding="pca", all_cycles=False)
    lines = bench_report_lines(tmp_path, [("v", "thc+wpu+duw", str(a)), ("v", "random", str(b)),
                                          ("w", "random", str(tmp_path / "none"))])
    assert "<details><summary>2 runs, 1 reports made</summary>" in lines
    assert f"| v | thc+wpu+duw | `vatl explain {a}` |" in lines
    assert "| v | random | [explain.html](runs/v/b/explain.html) |" in lines
    assert bench_report_lines(tmp_path, [("w", "random", str(tmp_path / "none"))]) == []


def test_the_page_is_made_when_missing_or_stale_and_says_why_when_impossible(finished_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(finished_run[1], run)
    report_path(run).unlink(missing_ok=True)
    status, page = current_report_page(run)
    assert status == 200 and '<meta name="vatl-explain-cycle" content="3">' in page and "PCA" in page
    cycle_path(run, 3).unlink()  # older data only: the cycle-3 report stays as it is (newest saved is 2)
    assert report_cycle(run) == 3
    status, page = current_report_page(tmp_path / "no_run")
    assert status == 404 and "No report yet" in page and "no such run folder" in page


def test_the_annotator_serves_the_report_of_the_current_query(tmp_path, tiny_video_path):
    spec = RunSpec(str(tiny_video_path), str(tmp_path / "run"), {"criterion": "thc+wpu+duw", "max_epochs": 1,
                                                                  "schedule": [20, 100]}, str(default_checkpoint_path()))
    annotator = Annotator.open(spec)
    try:
        annotator.start()
        annotator.wait(120)
        with TestClient(build_app(annotator, TOKEN)) as client:
            assert client.get("/explain").status_code == 401
            page = client.get("/", params={"token": TOKEN}).text
            assert f'href="explain?token={TOKEN}"' in page
            response = client.get("/explain", params={"token": TOKEN})
        assert response.status_code == 200 and '<meta name="vatl-explain-cycle" content="0">' in response.text
        assert "script-src" not in response.headers["content-security-policy"]
        assert "img-src data:" in response.headers["content-security-policy"]
        assert "The selected instances" in response.text
    finally:
        annotator.close(60)
