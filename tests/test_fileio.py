"""Atomic writes with unique temporary names (two writers of one path never share a temporary file)."""

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from vatl.fileio import atomic_path, write_atomic, write_json

WRITER = textwrap.dedent("""
    import sys
    from vatl.fileio import write_atomic
    path, tag = sys.argv[1:3]
    for i in range(300):
        write_atomic(path, f"{tag} {i}\\n" * 200)
""")


def test_two_processes_writing_one_file_never_collide(tmp_path):
    path = tmp_path / "state.json"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag], stderr=subprocess.PIPE, text=True)
             for tag in ("a", "b")]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    lines = set(path.read_text().splitlines())
    assert len(lines) == 1 and lines.pop() in ("a 299", "b 299")  # one whole version, never a mix
    assert not list(tmp_path.glob("*.tmp"))


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "f.txt"
    write_atomic(path, "old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["f.txt"]


def test_json_refuses_nan_and_new_files_get_the_usual_permissions(tmp_path):
    with pytest.raises(ValueError):
        write_json(tmp_path / "x.json", {"alpha": float("nan")})
    assert not (tmp_path / "x.json").exists()
    write_json(tmp_path / "y.json", {"a": 1})
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "y.json").stat().st_mode) == 0o666 & ~umask
    with pytest.raises(IsADirectoryError, match="is a directory"):
        write_atomic(tmp_path, "x")
