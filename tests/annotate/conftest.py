"""Fixtures of the annotator's tests: a small run (tiny synthetic video, random model, Random criterion,
6 samples in cycle 0), an opened annotator, a live server in a thread, and Debian's Chromium through
Playwright (skipped with the reason when it is not installed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vatl.annotate.annotator import Annotator
from vatl.annotate.server import AnnotatorServer
from vatl.atl.runner import RunSpec

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SMALL_RUN = {"criterion": "random", "schedule": [20, 40, 60, 80, 100], "max_epochs": 2}


@pytest.fixture()
def run_spec(tmp_path, tiny_video_path, random_checkpoint) -> RunSpec:
    """A run of the tiny video (30 samples): 6 queried in cycle 0, at most 2 retraining epochs a cycle."""
    return RunSpec(str(tiny_video_path), str(tmp_path / "run"), dict(SMALL_RUN), str(random_checkpoint))


@pytest.fixture()
def annotator(run_spec):
    """The run's annotator with cycle 0's query selected."""
    a = Annotator.open(run_spec)
    a.start()
    a.wait(120)
    yield a
    a.close(60)


@pytest.fixture()
def live_server(annotator):
    """The annotator served on a free port of 127.0.0.1 (in a thread)."""
    server = AnnotatorServer(annotator, port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (its own browser download is not used)."""
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium` to run the "
                    "browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    """A fresh browser page; JavaScript errors on it fail the test."""
    context = browser.new_context(viewport={"width": 1420, "height": 900})
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    yield p
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
