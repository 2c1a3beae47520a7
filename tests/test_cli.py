import json
import subprocess
import sys

import pytest

from vatl.cli import build_parser, main


def test_every_command_is_registered():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"run", "demo", "bench", "synth", "pretrain", "wpu-pretrain", "blazepose"} <= set(sub.choices)


def test_only_the_named_command_is_imported_and_help_loads_no_torch():
    """`vatl --help` and `vatl run --help` stay fast: torch (and the session) are imported by run(), not here."""
    code = ("import json, sys; from vatl.cli import build_parser; build_parser(sys.argv[1:]); "
            "print(json.dumps(['torch' in sys.modules, sorted(m for m in sys.modules if m.startswith('vatl.commands.'))]))")
    for argv, imported in (([], None), (["run", "--help"], ["vatl.commands._args", "vatl.commands._progress",
                                                           "vatl.commands._video", "vatl.commands.run"])):
        out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True).stdout
        torch_loaded, modules = json.loads(out)
        assert not torch_loaded, argv
        if imported is not None:
            assert modules == imported  # the other commands' modules are not imported


def test_an_unknown_command_is_refused_with_the_list_of_commands(capsys):
    with pytest.raises(SystemExit):
        main(["runn"])
    err = capsys.readouterr().err
    assert "invalid choice: 'runn'" in err and "'run'" in err


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_user_errors_are_one_line_with_exit_code_2(tmp_path, capsys, tiny_video_path):
    assert main(["run", str(tmp_path / "missing.json"), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vatl run: error:") and "missing.json" in err and "Traceback" not in err
    assert main(["run", str(tiny_video_path), "--out", str(tmp_path / "r"), "--criterion", "best"]) == 2
    assert "unknown criterion 'best'" in capsys.readouterr().err
    assert main(["run", str(tiny_video_path), "--out", str(tmp_path / "r"), "--schedule", "50,20"]) == 2
    assert "increase" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse rejects an unknown stopping criterion itself
        main(["run", str(tiny_video_path), "--out", str(tmp_path / "r"), "--stop", "sc_max"])


def test_run_command_end_to_end_and_resume(tmp_path, capsys, tiny_video_path, random_checkpoint):
    args = ["run", str(tiny_video_path), "--out", str(tmp_path / "r"), "--checkpoint", str(random_checkpoint),
            "--criterion", "thc+wpu:weighting=increase", "--schedule", "50,100", "--max-epochs", "1"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "finished: every sample is labeled" in out and "ALC:" in out
    assert (tmp_path / "r" / "poses_posetrack21.json").is_file()
    assert main(args) == 0  # finished run: nothing is redone, the summary is printed again
    assert "ALC:" in capsys.readouterr().out


def test_person_oracle_writes_a_query_and_continues_from_the_answers(tmp_path, capsys, tiny_video_path,
                                                                      random_checkpoint):
    import json

    out = tmp_path / "r"
    args = ["run", str(tiny_video_path), "--out", str(out), "--checkpoint", str(random_checkpoint),
            "--criterion", "random", "--schedule", "50,100", "--max-epochs", "1", "--oracle", "person"]
    assert main(args) == 0
    query = json.loads((out / "query_cycle_00.json").read_text())
    assert "annotate the" in capsys.readouterr().out
    # the annotator answers two of the queried samples (here: with made-up but valid labels)
    labels = {str(q["sample"]): [[10.0, 20.0, 1.0]] * 17 for q in query["query"][:2]}
    (out / "answers_cycle_00.json").write_text(json.dumps({"labels": labels}))
    assert main(args) == 0
    assert (out / "query_cycle_01.json").is_file()
    state = json.loads((out / "state.json").read_text())
    assert sorted(state["labels"]) == sorted(labels) and state["records"][0]["num_answered"] == 2


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def test_bad_paths_and_values_are_one_line_errors(tmp_path, capsys, tiny_video_path):
    run = ["run", str(tiny_video_path)]
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    _one_line_error(capsys, "is a directory")
    (tmp_path / "file").write_text("x")
    assert main([*run, "--out", str(tmp_path / "file")]) == 2
    _one_line_error(capsys, "is a file; the run folder must be a folder")
    assert main([*run, "--out", str(tmp_path / "file" / "sub")]) == 2
    _one_line_error(capsys, "cannot create the run folder", "file is a file")
    assert main(["synth", "--out", str(tmp_path / "file"), "--videos", "1", "--frames", "2"]) == 2
    _one_line_error(capsys, "is a file; the output folder must be a folder")
    assert main(["bench", "--out", str(tmp_path / "file"), "--data", str(tiny_video_path)]) == 2
    _one_line_error(capsys, "is a file; the benchmark folder must be a folder")


@pytest.mark.parametrize("argv, message", [
    (["run", "V", "--out", "R", "--alpha", "nan"], "argument --alpha: expected a finite number, got 'nan'"),
    (["run", "V", "--out", "R", "--margin", "nan"], "argument --margin: expected a finite number"),
    (["run", "V", "--out", "R", "--max-gap", "0"], "argument --max-gap: expected an integer >= 1"),
    (["pretrain", "--epochs", "-1"], "argument --epochs: expected an integer >= 0, got '-1'"),
    (["pretrain", "--lr", "inf"], "argument --lr: expected a finite number"),
    (["synth", "--out", "x", "--workers", "0"], "argument --workers: expected an integer >= 1"),
    (["bench", "--workers", "0"], "argument --workers: expected an integer >= 1"),
])
def test_bad_option_values_are_refused_by_name(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_margin_outside_its_range_and_a_torn_pending_query(tmp_path, capsys, tiny_video_path, random_checkpoint):
    base = ["run", str(tiny_video_path), "--checkpoint", str(random_checkpoint), "--schedule", "50,100",
            "--max-epochs", "1", "--criterion", "random"]
    assert main([*base, "--out", str(tmp_path / "a"), "--margin", "2"]) == 2
    _one_line_error(capsys, "margin must be in [0, 1), got 2.0")
    out = tmp_path / "r"
    assert main([*base, "--out", str(out), "--oracle", "person"]) == 0
    capsys.readouterr()
    (out / "pending_query.json").write_text('{"cycle": 0, "ind')
    assert main([*base, "--out", str(out), "--oracle", "person"]) == 2
    _one_line_error(capsys, str(out / "pending_query.json"), "corrupt pending query")


def test_bad_answers_in_an_answer_file_name_the_file_sample_and_joint(tmp_path, capsys, tiny_video_path,
                                                                     random_checkpoint):
    import json

    out = tmp_path / "r"
    args = ["run", str(tiny_video_path), "--out", str(out), "--checkpoint", str(random_checkpoint),
            "--criterion", "random", "--schedule", "50,100", "--max-epochs", "1", "--oracle", "person"]
    assert main(args) == 0
    query = json.loads((out / "query_cycle_00.json").read_text())["query"]
    first = query[0]["sample"]
    label = [[10.0, 20.0, 2.0]] * 17
    label[6] = [1e300, 20.0, 2.0]
    answers = out / "answers_cycle_00.json"
    answers.write_text(json.dumps({"labels": {str(first): label, "-1": "skip"}}))
    capsys.readouterr()
    assert main(args) == 2
    _one_line_error(capsys, str(answers), f"sample {first}, joint 6 (right_shoulder)", "sample -1 was not queried")
    assert not (out / "state.json").exists()  # nothing was recorded
    answers.write_text(json.dumps({"labels": {str(first): "accept", str(query[1]["sample"]): "reject"}}))
    assert main(args) == 0
    state = json.loads((out / "state.json").read_text())
    assert list(state["labels"]) == [str(first)] and list(state["rejected"]) == [str(query[1]["sample"])]
