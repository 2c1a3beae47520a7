import json

import pytest

from vatl.bench.runner import finished_result, make_jobs, run_jobs
from vatl.bench.specs import parse_specs
from vatl.bench.summary import write_summary
from vatl.criteria.spec import parse_spec


def test_specs_parse_options_and_tables():
    spec = parse_spec("thc+wpu:weighting=increase")
    assert spec.name == "thc+wpu" and spec.options == {"weighting": "increase"}
    assert spec.label == "thc+wpu@weighting=increase"
    assert [s.label for s in parse_specs("random;coreset;random")] == ["random", "coreset"]
    assert len(parse_specs("table2")) == 7


def test_bad_specs_are_clear_errors():
    import pytest

    with pytest.raises(ValueError, match="unknown criterion 'best'"):
        parse_spec("best")
    with pytest.raises(ValueError, match="no option colour"):
        parse_spec("random:colour=red")
    with pytest.raises(ValueError, match="not key=value"):
        parse_spec("thc+wpu:increase")


def test_bench_runs_resumes_and_summarises(tiny_video_path, random_checkpoint, tmp_path):
    videos = [("a", str(tiny_video_path)), ("b", str(tiny_video_path))]
    specs = parse_specs("random;coreset")
    jobs = make_jobs(videos, specs, tmp_path, random_checkpoint, seed=0, config={"max_epochs": 1},
                     stop_thetas=[0.5], stop_spec=parse_spec("random"))
    assert len(jobs) == 2 * 2 + 2
    seen = []
    results = run_jobs(jobs, workers=1, on_done=lambda job, result, error: seen.append(error))
    assert seen == [None] * len(jobs) and all(r["final"] for r in results)
    stop_run = json.loads(jobs[-1].results_path.read_text())
    assert stop_run["config"]["schedule"] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]

    # a second call finds every run finished and does not run them again
    mtimes = [j.results_path.stat().st_mtime_ns for j in jobs]
    again = run_jobs(jobs, workers=1)
    assert [j.results_path.stat().st_mtime_ns for j in jobs] == mtimes
    assert [r["summary"]["ALC"] for r in again] == [r["summary"]["ALC"] for r in results]
    assert finished_result(jobs[0]) is not None

    summary = write_summary(tmp_path, jobs, results, "vatl bench (test)", 1.0).read_text()
    assert "| random | 2 |" in summary and "| coreset | 2 |" in summary
    assert "| sc_all | 0.5 | 2 |" in summary and "| sc_min | 0.5 | 2 |" in summary
    assert "| criterion | ALC − random (higher on) | ALC − coreset (higher on) |" in summary
    assert (tmp_path / "learning_curves.png").stat().st_size > 1000
    assert "coreset" in summary.split("## Ablation")[1]  # coreset is a Table 3 row too
    assert (tmp_path / "learning_curves_ablation.png").stat().st_size > 1000


def test_summary_only_reports_finished_runs_and_names_the_unfinished(tiny_video_path, random_checkpoint, tmp_path,
                                                                     capsys):
    from vatl.cli import main

    common = ["bench", "--out", str(tmp_path), "--data", str(tiny_video_path), "--criteria", "random;coreset",
              "--stop-thetas", "", "--checkpoint", str(random_checkpoint), "--max-epochs", "1", "--workers", "1"]
    run_jobs(make_jobs([(tiny_video_path.stem, str(tiny_video_path))], parse_specs("random"), tmp_path,
                       random_checkpoint, seed=0, config={"max_epochs": 1}), workers=1)
    assert main(common + ["--summary-only"]) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "| random | 1 |" in summary and "| coreset |" not in summary
    assert "1 of 2 runs are not finished yet" in summary
    assert not (tmp_path / "runs" / tiny_video_path.stem / "coreset").exists()  # nothing was run

    # the full command then runs only the missing pair and says so next to its wall time
    assert main(common) == 0
    summary = (tmp_path / "summary.md").read_text()
    assert "| random | 1 |" in summary and "| coreset | 1 |" in summary
    assert "(runs made: 1; finished before and skipped: 1)" in summary


def test_every_table3_row_goes_to_the_ablation_table(tmp_path):
    from vatl.bench.runner import BenchJob
    from vatl.bench.specs import TABLE3

    specs = parse_specs("table2;oracle;table3")
    jobs = [BenchJob("v.json", "v", s, str(tmp_path / s.label), "ckpt", 0) for s in specs]
    result = {"summary": {"curve_labeled_percent": [0, 5, 20, 40, 100], "curve_ap60": [10, 50, 80, 90, 100],
                          "ALC": 90.0}, "cycles": [], "final": {}}
    summary = write_summary(tmp_path, jobs, [result] * len(jobs), "vatl bench (test)", None).read_text()
    main, ablation = summary.split("## Ablation")
    for text in TABLE3:
        label = parse_spec(text).label
        assert f"| {label} |" in ablation
        assert (f"| {label} |" in main) == (label in ("coreset", "thc+wpu+duw"))  # Table 2 rows too
    assert "| thc+wpu+duw@normalise=False |" in ablation


def test_the_run_seed_does_not_change_the_synthetic_benchmark_set(monkeypatch, tmp_path):
    import argparse

    import vatl.data.synthetic.benchmark_set as benchmark_set
    from vatl.commands.bench import add_arguments, find_videos

    seeds, sets = [], []
    monkeypatch.setattr(benchmark_set, "generate_set",
                        lambda root, name, seed, workers: (seeds.append(seed), sets.append(name)))
    monkeypatch.setattr(benchmark_set, "set_files",
                        lambda root, name: [tmp_path / name / f"v{i}" / "a.json" for i in range(4)])
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    videos = find_videos(parser.parse_args(["--seed", "3", "--synth-root", str(tmp_path)]))
    assert seeds == [0] and sets == ["paper-regime"] and len(videos) == 4  # the default set
    assert videos[0][0] == "v0_a"
    find_videos(parser.parse_args(["--seed", "3", "--synth-seed", "5", "--synth-root", str(tmp_path),
                                   "--set", "standard"]))
    assert seeds == [0, 5] and sets[-1] == "standard"


def test_several_seeds_are_runs_of_their_own_and_pair_per_video_and_seed(tmp_path):
    from vatl.bench.runner import BenchJob

    specs = parse_specs("random;thc+wpu+duw")
    jobs = make_jobs([("v", "v.json"), ("w", "w.json")], specs, tmp_path, "ckpt", seed=[0, 1])
    assert len(jobs) == 8 and {j.seed for j in jobs} == {0, 1}
    folders = {(j.video_name, j.seed, j.spec.label): j.out_dir for j in jobs}
    assert folders[("v", 0, "random")] == str(tmp_path / "runs" / "v" / "random")
    assert folders[("v", 1, "random")] == str(tmp_path / "runs" / "v" / "seed=1" / "random")

    def result(alc):
        return {"summary": {"curve_labeled_percent": [0, 5, 100], "curve_ap60": [60, alc, 100], "ALC": alc},
                "cycles": [], "final": {}}

    alcs = {("v", 0): (90, 92), ("v", 1): (91, 92), ("w", 0): (80, 83), ("w", 1): (82, 83)}
    results = [result(alcs[(j.video_name, j.seed)][j.spec.label != "random"]) for j in jobs]
    summary = write_summary(tmp_path, jobs, results, "vatl bench (test)", None).read_text()
    assert "2 videos × 2 seeds (0, 1)" in summary
    assert "| thc+wpu+duw | +1.75 ± " in summary and "(4/4) |" in summary  # paired over 4 (video, seed) pairs
    assert "Seed-averaged" in summary and "(2/2) |" in summary
    with pytest.raises(ValueError, match="distinct"):
        make_jobs([("v", "v.json")], specs, tmp_path, "ckpt", seed=[1, 1])
    assert isinstance(jobs[0], BenchJob)


def test_bench_fine_tuning_options_reach_every_run(tiny_video_path, random_checkpoint, tmp_path, capsys):
    from vatl.cli import main

    out = tmp_path / "bench"
    assert main(["bench", "--data", str(tiny_video_path), "--out", str(out), "--criteria", "random",
                 "--stop-thetas", "", "--max-epochs", "1", "--workers", "1", "--checkpoint", str(random_checkpoint),
                 "--freeze", "backbone", "--pack-epochs"]) == 0
    capsys.readouterr()
    (results,) = (out / "runs").glob("*/random/results.json")
    config = json.loads(results.read_text())["config"]
    assert config["finetune"] == {"freeze": ["backbone"], "pack_epochs": True}
