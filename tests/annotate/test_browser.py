"""The annotator in a real browser (Debian's Chromium through Playwright): a whole cycle answered with the
mouse and the keyboard, the refusals seen from the page, and a run that resumes after its server is killed.
Skipped with the reason when /usr/bin/chromium is not installed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from vatl.annotate.drafts import draft_path

TIMEOUT_MS = 60_000


def _wait_for(page, expression: str, timeout_ms: int = TIMEOUT_MS) -> None:
    """Poll the JavaScript ``expression`` until it is true (Playwright's wait_for_function evaluates strings,
    which the page's Content-Security-Policy forbids; page.evaluate does not)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(25)


def _open(page, url):
    page.goto(url)
    _wait_for(page, "window.vatl !== undefined && window.vatl.sample() !== null")


def _wait_sample_changes(page, before):
    _wait_for(page, f"window.vatl.sample() !== {before}")


def _visible_joints(page):
    return [j for j, row in enumerate(page.evaluate("window.vatl.label()")) if row[2] > 0]


def _drag_joint(page, joint, dx, dy):
    """Drag ``joint`` of the shown sample by (dx, dy) screen pixels with the mouse."""
    x, y = page.evaluate(f"window.vatl.jointOnCanvas({joint})")
    box = page.locator("#main-canvas").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.down()
    page.mouse.move(box["x"] + x + dx, box["y"] + y + dy, steps=6)
    page.mouse.up()


def _draft(run_dir: Path, cycle: int = 0) -> dict:
    path = draft_path(run_dir, cycle)
    return json.loads(path.read_text())["labels"] if path.exists() else {}


def _answer_with_a_correction(page, dx=40, dy=25):
    """Drag one joint, mark another occluded, save (Enter); returns (sample, dragged, occluded, label shown)."""
    sample = page.evaluate("window.vatl.sample()")
    dragged, occluded = _visible_joints(page)[:2]
    before = page.evaluate("window.vatl.label()")
    _drag_joint(page, dragged, dx, dy)
    page.click(f"#joint-list li[data-joint='{occluded}']")
    page.keyboard.press("o")
    label = page.evaluate("window.vatl.label()")
    assert label[dragged][:2] != before[dragged][:2] and label[occluded][2] == 1
    page.keyboard.press("Enter")
    _wait_sample_changes(page, sample)
    return sample, dragged, occluded, label


def test_a_whole_cycle_in_the_browser(page, live_server, annotator):
    run_dir = annotator.session.store.root
    _open(page, live_server.url)
    assert page.inner_text("#k-of-q") == "1 of 6"
    assert "previous frame" in page.inner_text("#prev-caption") or "no previous" in page.inner_text("#prev-caption")
    page.hover("#main-canvas")

    # 1: drag a joint, mark another occluded, save; the draft on disk has it at once
    corrected, dragged, occluded, label = _answer_with_a_correction(page)
    saved = np.array(_draft(run_dir)[str(corrected)])
    assert np.allclose(saved, label) and saved[occluded, 2] == 1
    prediction = annotator.session.pending.keypoints[corrected]
    assert np.hypot(*(saved[dragged, :2] - prediction[dragged, :2])) > 5  # moved in image pixels

    # 2: accept as is (A); 3: skip (button); 4: reject (R), undone (Z) and rejected again
    order = [corrected]
    for action in ("a", "#skip", "r"):
        sample = page.evaluate("window.vatl.sample()")
        order.append(sample)
        page.click(action) if action.startswith("#") else page.keyboard.press(action)
        _wait_sample_changes(page, sample)
    accepted, skipped, rejected = order[1:]
    assert _draft(run_dir)[str(rejected)] == "reject"
    page.keyboard.press("z")
    _wait_for(page, f"window.vatl.sample() === {rejected}")
    _wait_for(page, "document.querySelector('#answered').textContent.startsWith('3 of 6')")
    assert str(rejected) not in _draft(run_dir)
    page.keyboard.press("r")
    _wait_sample_changes(page, rejected)
    assert list(_draft(run_dir)) == [str(s) for s in order]
    assert page.inner_text("#answered").startswith("4 of 6 answered")

    # submit (Shift+Enter; two samples unanswered: the page asks), the session retrains, the next query appears
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Shift+Enter")
    _wait_for(page, "window.vatl.cycle() === 1")
    next_query = annotator.query()
    assert page.inner_text("#k-of-q") == f"1 of {next_query['total']}" and "cycle 1" in page.inner_text("#sample-info")
    state = json.loads((run_dir / "state.json").read_text())
    (record,) = state["records"]
    assert sorted(state["labels"]) == sorted([str(corrected), str(accepted)])
    assert np.allclose(state["labels"][str(corrected)]["keypoints"], label)
    assert state["rejected"] == {str(rejected): 0} and skipped in record["skipped"]
    assert record["epochs"] >= 1  # the correction made G_c < 1: the model was retrained
    shown = {s["sample"] for s in next_query["samples"]}
    assert not shown & {corrected, accepted, rejected}

    # the run view: labeled %, G_c point, the stopping status; then stop and export
    page.keyboard.press("g")
    page.wait_for_selector("#g-chart circle.g-point")
    assert page.inner_text("#labeled") == f"{100 * 2 / 29:.1f} %"  # 2 labels of 29 people (one rejected)
    assert page.inner_text("#stopping").startswith("SC_All")
    assert page.locator("#cycle-table tbody tr").count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#stop-export")
    _wait_for(page, "document.querySelector('#final').textContent.startsWith('finished: stopped by the annotator')")
    assert "poses_posetrack21.json" in page.inner_text("#final")
    assert (run_dir / "poses_posetrack21.json").is_file()


def test_the_server_refuses_what_it_must_from_the_page(page, live_server, annotator):
    _open(page, live_server.url)
    sample = page.evaluate("window.vatl.sample()")
    token = live_server.token
    statuses = page.evaluate("""async ([token, sample]) => {
        const put = (answer, headers) => fetch(`api/answers/${sample}`, {method: "PUT",
            headers: {"Content-Type": "application/json", ...headers}, body: JSON.stringify({answer})});
        const bad = await put([[1, 2, 2]], {"X-Vatl-Token": token});
        return {
            no_token: (await fetch("api/status")).status,
            wrong_token: (await fetch("api/status", {headers: {"X-Vatl-Token": "x".repeat(43)}})).status,
            answer_without_token: (await put("accept", {})).status,
            malformed: bad.status, malformed_reason: (await bad.json()).error,
            path: (await fetch(`api/samples/..%2F..%2F..%2Fetc%2Fpasswd/image?token=${token}`)).status,
            path_param: (await fetch(`api/image?path=/etc/passwd&token=${token}`)).status,
            outside: (await fetch(`api/samples/100000/image?token=${token}`)).status,
            image: (await fetch(`api/samples/${sample}/image?token=${token}`)).headers.get("content-type"),
        };
    }""", [token, sample])
    assert statuses["no_token"] == 401 and statuses["wrong_token"] == 403 and statuses["answer_without_token"] == 401
    assert statuses["malformed"] == 422 and "needs 17 rows" in statuses["malformed_reason"]
    assert statuses["path"] == statuses["path_param"] == statuses["outside"] == 404
    assert statuses["image"] == "image/jpeg"
    assert not draft_path(annotator.session.store.root, 0).exists()  # nothing was stored
    page.goto(live_server.url.split("?")[0])  # the page without its token: refused
    assert "token" in page.inner_text("body")


# --------------------------------------------------------------------------------- killed and resumed
class ServerProcess:
    """``vatl annotate RUN --port 0`` in its own process (to be killed with SIGKILL)."""

    def __init__(self, run_dir: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "vatl", "annotate", str(run_dir), "--port", "0",
                                         "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=env)
        self.url = self._read_url()
        self.base, self.token = self.url.split("/?token=")

    def _read_url(self) -> str:
        lines = []
        for line in self.process.stdout:
            lines.append(line)
            if line.startswith("http://"):
                return line.strip()
        raise AssertionError(f"the server printed no URL: {''.join(lines)}")

    def status(self) -> dict:
        request = urllib.request.Request(f"{self.base}/api/status", headers={"X-Vatl-Token": self.token})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)


@pytest.fixture()
def person_run(tmp_path, tiny_video_path, random_checkpoint):
    """A run folder made by `vatl run --oracle person` (6 samples in cycle 0); retraining takes a while
    (α large, 40 epochs) so that the server can be killed in the middle of it."""
    from vatl.cli import main

    out = tmp_path / "run"
    assert main(["run", str(tiny_video_path), "--out", str(out), "--checkpoint", str(random_checkpoint),
                 "--criterion", "random", "--schedule", "20,40,60,80,100", "--alpha", "100000", "--max-epochs", "40",
                 "--oracle", "person"]) == 0
    return out


def test_a_run_annotated_in_the_browser_survives_killed_servers(page, person_run):
    servers = [ServerProcess(person_run)]
    try:
        # first server: two answers, then killed while the query is half answered
        _open(page, servers[-1].url)
        given = {}
        sample, *_, label = _answer_with_a_correction(page)
        given[sample] = label
        sample = page.evaluate("window.vatl.sample()")
        page.keyboard.press("a")
        _wait_sample_changes(page, sample)
        given[sample] = "accept"
        servers[-1].kill()

        # second server: the page shows the two answers and the next open sample; the rest is answered, the
        # query submitted, and the server killed while it retrains
        servers.append(ServerProcess(person_run))
        _open(page, servers[-1].url)
        assert page.inner_text("#answered").startswith("2 of 6 answered")
        assert page.evaluate("window.vatl.sample()") not in given
        for key in ("s", "r", "a", "a"):
            sample = page.evaluate("window.vatl.sample()")
            page.keyboard.press(key)
            _wait_for(page, f"document.querySelector('#answered').textContent.startsWith('{len(given) + 1} of 6')")
            given[sample] = {"s": "skip", "r": "reject", "a": "accept"}[key]
        page.keyboard.press("Shift+Enter")
        _wait_for(page, "document.querySelector('#busy-text').textContent.includes('retraining, epoch')")
        status = servers[-1].status()
        assert status["phase"] == "retraining" and status["epochs"] == 40 and status["next_cycle"] == 0
        servers[-1].kill()
        assert not (person_run / "state.json").exists()  # killed before cycle 0 was saved

        # third server: takes the submitted answers again, retrains, shows cycle 1
        servers.append(ServerProcess(person_run))
        _open(page, servers[-1].url)
        _wait_for(page, "window.vatl.cycle() === 1")
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.kill()
    state = json.loads((person_run / "state.json").read_text())
    (record,) = state["records"]
    labels = {int(k): v["keypoints"] for k, v in state["labels"].items()}
    assert set(labels) == {s for s, a in given.items() if not isinstance(a, str) or a == "accept"}
    for s, answer in given.items():  # every answer given to the three servers is in the saved cycle
        if isinstance(answer, list):
            assert np.allclose(labels[s], answer)
        elif answer == "reject":
            assert state["rejected"] == {str(s): 0}
        elif answer == "skip":
            assert s in record["skipped"]
    assert record["num_answered"] == 4 and record["epochs"] == 40
