"""`vatl run` points to the report; `vatl explain` writes it; errors are one line."""

from __future__ import annotations

from vatl.cli import main

FAST = ["--schedule", "20,100", "--max-epochs", "1", "--threads", "1"]


def test_run_names_the_command_and_explain_writes_the_report(tiny_video_path, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(tiny_video_path), "--out", str(out), *FAST]) == 0
    assert f"why these samples: vatl explain {out}   (writes {out / 'explain.html'})" in capsys.readouterr().out
    assert main(["explain", str(out), "--compare", "mpe,coreset", "--embedding", "pca", "--this-cycle-only"]) == 0
    text = capsys.readouterr().out
    assert f"report: {out / 'explain.html'}" in text and "cycle 1; embedding: PCA (scikit-learn; asked for)" in text
    assert "selected.png, compare_mpe.png, compare_coreset.png, heatmaps.png, embedding.png" in text
    assert (out / "explain" / "report_cycle_01" / "curves.png").is_file()
    assert main(["explain", str(out), "--cycle", "0", "--embedding", "pca"]) == 0
    assert "embedding_cycles.png" in capsys.readouterr().out
    # the finished run, run again: its report's path (of cycle 0 now, while cycle 1 is saved too)
    assert main(["run", str(tiny_video_path), "--out", str(out), *FAST]) == 0
    assert (f"why these samples: {out / 'explain.html'} (cycle 0; cycles up to 1 saved: run `vatl explain {out}` "
            "again)") in capsys.readouterr().out


def test_explain_errors_are_one_line(tmp_path, capsys):
    assert main(["explain", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vatl explain: error: ") and "no such run folder" in err and err.count("\n") == 1
    assert main(["explain", str(tmp_path), "--compare", "nonsense"]) == 2
    assert "'nonsense' cannot be ranked from a saved pass" in capsys.readouterr().err
