"""Run engines: the template every engine passes, and a real local Dask cluster with a killed worker."""

import json
import os
import signal
import time

import pytest

from vatl.bench.engines import ENGINES, DaskEngine, LocalEngine, RunEngine, get_engine
from vatl.bench.runner import make_jobs, run_job, run_jobs
from vatl.criteria.spec import parse_spec


def square_or_fail(x: int) -> int:
    """A job for the template: fails on negative input."""
    if x < 0:
        raise ValueError(f"negative {x}")
    return x * x


@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("distributed")
    client = DaskEngine(workers=2).client()
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_engine_runs_jobs_in_order_and_reports_failures(name, request):
    engine = get_engine(name, workers=2)
    assert isinstance(engine, RunEngine) and engine.name == name
    done = []
    extra = {"client": request.getfixturevalue("dask_client")} if name == "dask" else {}
    results = engine.map(square_or_fail, [3, -1, 4], on_done=lambda i, r, e: done.append((i, r, e)), **extra)
    assert results == [9, None, 16]
    assert sorted(done, key=lambda d: d[0]) == [(0, 9, None), (1, None, "ValueError: negative -1"), (2, 16, None)]


def test_unknown_engines_and_options_are_clear_errors():
    with pytest.raises(ValueError, match="unknown run engine 'ray'; known: local, dask"):
        get_engine("ray")
    with pytest.raises(ValueError, match="local engine takes no scheduler"):
        get_engine("local", scheduler="tcp://x:1")
    assert isinstance(get_engine("local", workers=3, scheduler=None), LocalEngine)


def _job(video_path, checkpoint, out, seed=5):
    config = {"max_epochs": 2, "batch_size": 16, "schedule": [10, 20, 30, 40, 60, 100]}
    return make_jobs([("v", str(video_path))], [parse_spec("coreset")], out, checkpoint, seed, config)[0]


def test_a_run_whose_dask_worker_is_killed_is_finished_by_another_with_the_same_numbers(
        dask_client, tiny_video_path, random_checkpoint, tmp_path):
    job = _job(tiny_video_path, random_checkpoint, tmp_path / "dask")
    state = os.path.join(job.out_dir, "state.json")
    future = dask_client.submit(run_job, job, pure=False, retries=2)
    killed = None
    deadline = time.time() + 120
    while time.time() < deadline and not future.done():  # kill the worker once the run has saved a cycle
        try:
            with open(state) as f:
                cycles = json.load(f)["next_cycle"]
        except (FileNotFoundError, json.JSONDecodeError):
            cycles = 0
        if cycles >= 1:
            busy = [addr for addr, keys in dask_client.processing().items() if future.key in keys]
            if busy:
                pids = dask_client.run(os.getpid, workers=busy)
                killed = pids[busy[0]]
                os.kill(killed, signal.SIGKILL)
                break
        time.sleep(0.05)
    assert killed is not None, "the run ended before its worker could be killed"
    result = future.result(timeout=300)
    straight = run_job(_job(tiny_video_path, random_checkpoint, tmp_path / "straight"))
    keys = ("selected", "G", "AP@0.6", "epochs", "loss_last")
    for a, b in zip(result["cycles"], straight["cycles"], strict=True):
        assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
    assert result["summary"]["ALC"] == straight["summary"]["ALC"]


def test_run_jobs_on_dask_skips_finished_runs(dask_client, tiny_video_path, random_checkpoint, tmp_path):
    job = _job(tiny_video_path, random_checkpoint, tmp_path / "b")
    engine = DaskEngine()
    first = run_jobs([job], engine=_Using(engine, dask_client))
    assert first[0]["final"] is not None
    calls = []
    again = run_jobs([job], engine=_Using(engine, dask_client), on_done=lambda j, r, e: calls.append(e))
    assert again == first and calls == [None]  # read from its folder, not run again


class _Using:
    """A Dask engine bound to the test's cluster (so each test does not start its own)."""

    name = "dask"

    def __init__(self, engine, client):
        self.engine, self.client = engine, client

    def map(self, fn, items, on_done=None):
        return self.engine.map(fn, items, on_done, client=self.client)


def test_bench_command_on_a_local_dask_cluster(tiny_video_path, random_checkpoint, tmp_path, capsys):
    pytest.importorskip("distributed")
    from vatl.cli import main

    out = tmp_path / "bench"
    args = ["bench", "--engine", "dask", "--workers", "2", "--data", str(tiny_video_path), "--out", str(out),
            "--criteria", "random;coreset", "--stop-thetas", "", "--max-epochs", "1",
            "--checkpoint", str(random_checkpoint)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "2 runs, 2 workers" in text and "ALC" in text
    assert (out / "summary.md").is_file()
    (results,) = (out / "runs").glob("*/coreset/results.json")
    assert json.loads(results.read_text())["final"] is not None
