"""vatl annotate RUN_DIR (and vatl run --oracle browser): the run folder alone reopens the session."""

import json
import urllib.request
from pathlib import Path

import pytest

from vatl.annotate.server import AnnotatorServer
from vatl.atl.runner import INPUTS_FILE, spec_from_run_folder
from vatl.cli import main


def _person_run(tmp_path, tiny_video_path, random_checkpoint) -> Path:
    out = tmp_path / "run"
    assert main(["run", str(tiny_video_path), "--out", str(out), "--checkpoint", str(random_checkpoint),
                 "--criterion", "random", "--schedule", "20,100", "--max-epochs", "1", "--oracle", "person"]) == 0
    return out


def test_a_run_folder_records_what_reopens_it(tmp_path, tiny_video_path, random_checkpoint, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = _person_run(Path("."), Path(tiny_video_path), random_checkpoint)  # relative paths are made absolute
    inputs = json.loads((out / INPUTS_FILE).read_text())
    assert inputs["video_path"] == str(Path(tiny_video_path).resolve())
    assert inputs["checkpoint"] == str(Path(random_checkpoint).resolve()) and inputs["device"] == "cpu"
    spec = spec_from_run_folder(tmp_path / "run")
    assert spec.video_path == inputs["video_path"] and spec.checkpoint == inputs["checkpoint"]
    assert spec.config["schedule"] == [20, 100] and spec.config["criterion"] == "random"


def test_annotate_refuses_a_folder_without_inputs_in_one_line(tmp_path, capsys):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "config.json").write_text("{}")
    assert main(["annotate", str(tmp_path / "old")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vatl annotate: error:") and "inputs.json" in err and "vatl run" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("field, value, needle", [("video_path", 3, "'video_path' must be a non-empty string"),
                                                  ("device", None, "'device' must be a non-empty string"),
                                                  ("script", "x.py", "unknown fields")])
def test_a_malformed_inputs_file_names_the_field(tmp_path, tiny_video_path, random_checkpoint, field, value, needle):
    out = _person_run(tmp_path, tiny_video_path, random_checkpoint)
    inputs = json.loads((out / INPUTS_FILE).read_text())
    inputs[field] = value
    (out / INPUTS_FILE).write_text(json.dumps(inputs))
    with pytest.raises(ValueError, match=needle) as info:
        spec_from_run_folder(out)
    assert INPUTS_FILE in str(info.value)


def test_annotate_serves_the_run_and_prints_the_url(tmp_path, tiny_video_path, random_checkpoint, capsys, monkeypatch):
    out = _person_run(tmp_path, tiny_video_path, random_checkpoint)
    capsys.readouterr()
    seen = {}

    def serve_once(self):  # instead of serving until Ctrl-C: one request through the real server
        self.start()
        self.annotator.wait(60)
        request = urllib.request.Request(f"{self.base_url}/api/query", headers={"X-Vatl-Token": self.token})
        with urllib.request.urlopen(request, timeout=10) as response:
            seen["query"] = json.loads(response.read())
        self.stop()

    monkeypatch.setattr(AnnotatorServer, "serve", serve_once)
    assert main(["annotate", str(out), "--port", "0"]) == 0
    printed = capsys.readouterr().out
    url = next(line for line in printed.splitlines() if line.startswith("http://"))
    assert url.startswith("http://127.0.0.1:") and "/?token=" in url and len(url.split("token=")[1]) >= 40
    query_file = json.loads((out / "query_cycle_00.json").read_text())  # what `--oracle person` asked
    assert [s["sample"] for s in seen["query"]["samples"]] == [q["sample"] for q in query_file["query"]]


def test_run_with_the_browser_oracle_starts_the_annotator(tmp_path, tiny_video_path, random_checkpoint, monkeypatch):
    import vatl.commands.annotate as annotate_command

    started = []
    monkeypatch.setattr(annotate_command, "serve", lambda spec, *a: started.append(spec) or 0)
    out = tmp_path / "run"
    assert main(["run", str(tiny_video_path), "--out", str(out), "--checkpoint", str(random_checkpoint),
                 "--oracle", "browser", "--max-epochs", "3"]) == 0
    (spec,) = started
    assert spec.out_dir == str(out) and spec.config["max_epochs"] == 3 and spec.checkpoint == str(random_checkpoint)
