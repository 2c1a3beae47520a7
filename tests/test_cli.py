import pytest

from vatl.cli import build_parser, main


def test_every_command_is_registered():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"run", "demo", "bench", "synth", "pretrain", "wpu-pretrain", "blazepose"} <= set(sub.choices)


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
