from vatl.bench.report import write_demo_report
from vatl.bench.runner import make_jobs, run_jobs
from vatl.bench.specs import parse_specs


def test_demo_report_tables_every_criterion_and_points_to_the_benchmark(tiny_video, tiny_video_path,
                                                                       random_checkpoint, tmp_path):
    specs = parse_specs("random;coreset")
    jobs = make_jobs([(tiny_video_path.stem, str(tiny_video_path))], specs, tmp_path / "runs", random_checkpoint,
                     seed=0, config={"max_epochs": 1})
    results = dict(zip((s.label for s in specs), run_jobs(jobs, workers=1)))
    report = write_demo_report(tmp_path, tiny_video, results, seconds=3.0).read_text()
    for label, result in results.items():
        assert f"| {label} | " in report and f"## {label}" in report
        assert f"{result['summary']['ALC']:.2f}" in report
    assert "`vatl bench`" in report and "docs/results/benchmark/" in report
    assert (tmp_path / "learning_curves.png").stat().st_size > 1000
