"""One process at a time in a run folder."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vatl.atl.config import ATLConfig
from vatl.atl.run_lock import RunFolderInUse, RunLock
from vatl.atl.session import ATLSession
from vatl.estimator.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]

HOLD = textwrap.dedent("""
    import sys, time
    from vatl.atl.config import ATLConfig
    from vatl.atl.session import ATLSession
    from vatl.data.formats import load_video
    from vatl.estimator.checkpoint import load_checkpoint

    video_path, checkpoint, out = sys.argv[1:4]
    session = ATLSession(load_video(video_path), load_checkpoint(checkpoint), ATLConfig(criterion="random"), out)
    print("holding", flush=True)
    time.sleep(60)
""")


def _hold(tiny_video_path, checkpoint, out):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tiny_video_path), str(checkpoint), str(out)],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_a_second_process_on_the_same_folder_is_refused_with_the_holders_pid(tiny_video, tiny_video_path,
                                                                             random_checkpoint, tmp_path):
    out = tmp_path / "run"
    holder = _hold(tiny_video_path, random_checkpoint, out)
    try:
        with pytest.raises(RunFolderInUse, match=f"{out} is in use by pid {holder.pid}"):
            ATLSession(tiny_video, load_checkpoint(random_checkpoint), ATLConfig(criterion="coreset"), out)
        assert not (out / "state.json").exists()  # the refused session wrote nothing
    finally:
        holder.kill()
        holder.wait()
    # a killed holder leaves no stale lock: the kernel released it
    with ATLSession(tiny_video, load_checkpoint(random_checkpoint), ATLConfig(criterion="random"), out) as s:
        assert s.next_cycle == 0


def test_two_sessions_of_one_process_and_release_on_close(tiny_video, random_checkpoint, tmp_path):
    first = ATLSession(tiny_video, load_checkpoint(random_checkpoint), ATLConfig(), tmp_path)
    with pytest.raises(RunFolderInUse, match=f"pid {os.getpid()} \\(this process"):
        ATLSession(tiny_video, load_checkpoint(random_checkpoint), ATLConfig(), tmp_path)
    first.close()
    ATLSession(tiny_video, load_checkpoint(random_checkpoint), ATLConfig(), tmp_path).close()


def test_a_session_that_fails_to_open_releases_the_folder(tiny_video, random_checkpoint, tmp_path):
    (tmp_path / "state.json").write_text("{torn")
    (tmp_path / "config.json").write_text(json.dumps(ATLConfig().to_dict()))
    with pytest.raises(ValueError, match="corrupt run state"):
        ATLSession(tiny_video, load_checkpoint(random_checkpoint), ATLConfig(), tmp_path)
    with RunLock(tmp_path) as lock:  # not left held by the failed session
        assert lock.held


def test_lock_file_names_the_holder(tmp_path):
    with RunLock(tmp_path):
        assert (tmp_path / "run.lock").read_text().strip() == str(os.getpid())
