"""Time from the annotator's page to the next query on the demo video, retraining included (in a browser).

The demo video of `vatl demo` is generated (synthetic 'night' domain, 40 frames, seed 0), a run folder is
made with the default settings (THC+WPU+DUW, α = 250, θ = 0.6, the default schedule) and the embedded
checkpoint, and `vatl annotate RUN --port 0 --threads T` is started as its own process. Debian's Chromium
(Playwright) drives the page and measures, with the wall clock of this process:

* **cold start**: the server process started → the first query drawn in the page (the server loads the
  video and the model, estimates every sample and selects cycle 0's query);
* **page open**: a second page opened on the running server → its query drawn (page, meta, query, frame);
* **per cycle**: Submit clicked in the page → the next query drawn in the page: the session retrains E_c
  epochs, saves the cycle, estimates every sample with the new model and selects the next query; the page
  polls the status every 400 ms. The answers are the ground truth labels (a person who corrects every joint),
  given through the same PUT requests the page makes; only the time after Submit is measured.

Writes docs/results/annotator.md and benchmarks/results/annotate_latency.json; with --screenshots also
docs/annotator_annotate.png (cycle 1, a joint being corrected) and docs/annotator_run.png (the run view
while cycle 3 retrains; that cycle's time includes the view switch and the screenshot, and is marked).

    .venv/bin/python benchmarks/annotate_latency.py [--threads 1] [--screenshots]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOT_CYCLES = {"annotate": 1, "run": 3}


def make_demo_run(work: Path) -> tuple[Path, Path]:
    """The demo video (as `vatl demo` makes it) and a run folder for it with the default settings."""
    from vatl.atl.config import ATLConfig
    from vatl.atl.runner import RunSpec, open_session
    from vatl.commands.demo import DEMO_DOMAIN
    from vatl.data.synthetic.benchmark_set import IMAGE_SIZE
    from vatl.data.synthetic.generate import run_jobs, video_jobs

    jobs = video_jobs(work / "data", DEMO_DOMAIN, videos=1, frames=40, width=IMAGE_SIZE[0], height=IMAGE_SIZE[1],
                      seed=0, split="val", name_prefix=f"demo_{DEMO_DOMAIN}")
    run_jobs(jobs, workers=1)
    run_dir = work / "run"
    open_session(RunSpec(str(jobs[0].json_path), str(run_dir), ATLConfig().to_dict())).close()  # inputs.json
    return jobs[0].json_path, run_dir


class Server:
    """`vatl annotate RUN --port 0` in its own process."""

    def __init__(self, run_dir: Path, threads: int) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, "-m", "vatl", "annotate", str(run_dir), "--port", "0",
                                         "--threads", str(threads)], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        for line in self.process.stdout:
            if line.startswith("http://"):
                self.url = line.strip()
                break
        else:
            raise SystemExit("the annotator printed no URL")
        self.base, self.token = self.url.split("/?token=")

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        headers = {"X-Vatl-Token": self.token, **({"Content-Type": "application/json"} if data else {})}
        with urllib.request.urlopen(urllib.request.Request(self.base + path, data=data, method=method,
                                                           headers=headers), timeout=60) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wait_for(page, expression: str, timeout: float = 600.0) -> float:
    """Poll ``expression`` in the page every 10 ms until true; the time it became true (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while not page.evaluate(expression):
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {expression}")
        time.sleep(0.01)
    return time.perf_counter()


def drawn(cycle: int) -> str:
    return f"window.vatl !== undefined && window.vatl.cycle() === {cycle} && window.vatl.drawn() === window.vatl.sample()"


def answer_with_ground_truth(server: Server, video, query: dict) -> int:
    """PUT the ground truth label of every queried sample (skip where it labels no joint); returns |answers|."""
    for s in query["samples"]:
        gt = video.keypoints[s["sample"]]
        answer = gt.tolist() if (gt[:, 2] > 0).any() else "skip"
        server.request("PUT", f"/api/answers/{s['sample']}", {"answer": answer})
    return len(query["samples"])


def correct_a_joint(page) -> None:
    """Drag a joint and mark another occluded (for the annotation view's screenshot; never sent)."""
    label = page.evaluate("window.vatl.label()")
    joints = [j for j, row in enumerate(label) if row[2] > 0]
    x, y = page.evaluate(f"window.vatl.jointOnCanvas({joints[-1]})")
    box = page.locator("#main-canvas").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.down()
    page.mouse.move(box["x"] + x + 28, box["y"] + y + 12, steps=5)
    page.mouse.up()
    page.click(f"#joint-list li[data-joint='{joints[2]}']")
    page.keyboard.press("o")
    page.mouse.move(box["x"] + x + 28, box["y"] + y + 12)
    time.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the annotator's process")
    parser.add_argument("--screenshots", action="store_true", help="write docs/annotator_{annotate,run}.png")
    parser.add_argument("--keep", type=Path, default=None, help="keep the run folder here (default: a temp folder)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from vatl.data.formats import load_video

    work = args.keep or Path(tempfile.mkdtemp(prefix="vatl_annotate_latency_"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    load_before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    video_path, run_dir = make_demo_run(work)
    video = load_video(video_path)
    cycles: list[dict] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1420, "height": 900})
        page.on("dialog", lambda dialog: dialog.accept())
        server = Server(run_dir, args.threads)
        try:
            page.goto(server.url)
            cold = wait_for(page, drawn(0)) - server.started
            second = browser.new_page(viewport={"width": 1420, "height": 900})
            t = time.perf_counter()
            second.goto(server.url)
            page_open = wait_for(second, drawn(0)) - t
            second.close()
            cycle = 0
            while True:
                query = server.request("GET", "/api/query")
                if args.screenshots and cycle == SCREENSHOT_CYCLES["annotate"]:
                    correct_a_joint(page)
                    page.screenshot(path=str(REPO / "docs" / "annotator_annotate.png"))
                answered = answer_with_ground_truth(server, video, query)
                shot = args.screenshots and cycle == SCREENSHOT_CYCLES["run"]
                t = time.perf_counter()
                page.click("#submit")
                if shot:
                    page.keyboard.press("g")
                    wait_for(page, "document.querySelector('#run-progress').textContent.includes('epoch')")
                    time.sleep(1.0)
                    page.screenshot(path=str(REPO / "docs" / "annotator_run.png"))
                    page.keyboard.press("g")
                ended = wait_for(page, f"{drawn(cycle + 1)} || document.querySelector('#status').textContent === "
                                       "'run finished'")
                status = server.request("GET", "/api/status")
                results = json.loads((run_dir / "results.json").read_text())
                record = results["cycles"][cycle]
                entry = {"cycle": cycle, "answered": answered, "E_c": record["epochs"], "G": record["G"],
                         "t_retrain": record["t_retrain"], "page_seconds": ended - t, "screenshot": shot,
                         "finished": status["finished"]}
                cycles.append(entry)
                print(f"cycle {cycle}: E_c {entry['E_c']}, retrain {entry['t_retrain']:.1f} s, Submit → "
                      f"{'run finished' if status['finished'] else 'next query drawn'} {entry['page_seconds']:.2f} s",
                      flush=True)
                if status["finished"]:
                    break
                cycle += 1
        finally:
            server.stop()
            browser.close()
    load_after = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    write_results(cycles, cold, page_open, args, load_before, load_after, video)
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


def write_results(cycles: list[dict], cold: float, page_open: float, args: argparse.Namespace, load_before: str,
                  load_after: str, video) -> None:
    import torch

    measured = [c for c in cycles if not c["screenshot"] and not c["finished"]]
    next_query = [c["page_seconds"] for c in measured]
    overhead = [c["page_seconds"] - c["t_retrain"] for c in measured]
    record = {"video": video.name, "N": video.num_samples, "threads": args.threads, "cold_start_seconds": cold,
              "page_open_seconds": page_open, "cycles": cycles,
              "median_submit_to_next_query_seconds": statistics.median(next_query),
              "median_seconds_besides_retraining": statistics.median(overhead),
              "load_before": load_before, "load_after": load_after}
    (REPO / "benchmarks" / "results").mkdir(parents=True, exist_ok=True)
    (REPO / "benchmarks" / "results" / "annotate_latency.json").write_text(json.dumps(record, indent=1))
    command = "`.venv/bin/python benchmarks/annotate_latency.py --threads {}{}`".format(
        args.threads, " --screenshots" if args.screenshots else "")
    lines = [
        "# The browser annotator: time from the page to the next query", "",
        f"Measured {time.strftime('%Y-%m-%d')} with {command}: the demo video `{video.name}` (N = {video.num_samples} "
        f"samples; `vatl demo`'s synthetic night video), default settings (THC+WPU+DUW, α = 250, θ = 0.6, default "
        f"schedule), the embedded checkpoint; `vatl annotate` in its own process with {args.threads} torch "
        f"thread(s) (torch {torch.__version__}, {platform.machine()}), the page in Debian's Chromium (headless, "
        "Playwright). The answers are the ground truth labels (a person who corrects every joint), sent by this "
        "script with the PUT requests the page itself makes; then *Submit* is clicked in the page and only what "
        "follows it is timed. The page polls the status every 400 ms, which is part of what a person waits.",
        "", f"Machine load: `{load_before}` before, `{load_after}` after (2 shared cores; other people's jobs run).",
        "", "| what | seconds |", "|---|---:|",
        f"| cold start: `vatl annotate` started → first query drawn in the page (load, estimate, select) | {cold:.2f} |",
        f"| page opened on a running server → its query drawn | {page_open:.2f} |",
        f"| **Submit → next query drawn, median over {len(measured)} cycles** (retraining included) | "
        f"**{statistics.median(next_query):.2f}** |",
        f"| the same minus the session's retraining time, median (save, estimate, select, poll, draw) | "
        f"{statistics.median(overhead):.2f} |", "",
        "Per cycle (E_c = floor(α (1 − G_c)) epochs; *retrain*: the session's own `t_retrain`):", "",
        "| cycle | answers | G_c | E_c | retrain (s) | Submit → next query drawn (s) |", "|---:|---:|---:|---:|---:|---:|"]
    for c in cycles:
        what = f"{c['page_seconds']:.2f}" + (" (run finished)" if c["finished"] else "")
        what += " (incl. run view + screenshot)" if c["screenshot"] else ""
        g = "—" if c["G"] is None else f"{c['G']:.3f}"
        lines.append(f"| {c['cycle']} | {c['answered']} | {g} | {c['E_c']} | {c['t_retrain']:.2f} | {what} |")
    lines += ["", "Figures: `benchmarks/results/annotate_latency.json`."
              + (" Screenshots: `docs/annotator_annotate.png`, `docs/annotator_run.png`." if args.screenshots else ""),
              ""]
    (REPO / "docs" / "results").mkdir(parents=True, exist_ok=True)
    (REPO / "docs" / "results" / "annotator.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
