"""Pointers to a run's report for the other front ends: ``vatl run`` / ``vatl demo`` print one line,
``vatl bench`` lists each run's report in its summary, the annotator serves the current one.

The report is made on demand (``vatl explain RUN``), not at the end of every run: the data it needs is
saved by every cycle anyway, and a report takes seconds to minutes (DensMAP's first use in a process
compiles numba code; ``docs/results/explain_size.md`` times it at 10^4 samples).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from vatl.explain.record import saved_cycles
from vatl.explain.report import report_path

_CYCLE_MARK = re.compile(r'<meta name="vatl-explain-cycle" content="(\d+)">')


def report_cycle(run_dir: str | Path) -> int | None:
    """The cycle the run's ``explain.html`` explains, or None when there is none (or it is unreadable)."""
    try:
        head = report_path(run_dir).read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return None
    match = _CYCLE_MARK.search(head)
    return int(match.group(1)) if match else None


def report_hint(run_dir: str | Path) -> str | None:
    """One line: the report's path (and whether newer cycles exist), or the command that makes it; None
    when the run saved no explain data."""
    cycles = saved_cycles(run_dir)
    if not cycles:
        return None
    made = report_cycle(run_dir)
    if made is None:
        return f"why these samples: vatl explain {run_dir}   (writes {report_path(run_dir)})"
    newer = "" if made >= cycles[-1] else f"; cycles up to {cycles[-1]} saved: run `vatl explain {run_dir}` again"
    return f"why these samples: {report_path(run_dir)} (cycle {made}{newer})"


def current_report(run_dir: str | Path) -> Path:
    """The run's report of its latest saved cycle, made now (PCA embedding, this cycle only: seconds) when
    ``explain.html`` is missing or explains an older cycle. Only saved data is read (no frames: nothing is
    compared). Raises the errors of :func:`vatl.explain.report.write_report` (e.g. no explain data yet)."""
    from vatl.explain.report import write_report

    cycles = saved_cycles(run_dir)
    if cycles and report_cycle(run_dir) == cycles[-1]:
        return report_path(run_dir)
    return write_report(run_dir, embedding="pca", all_cycles=False).html


# the report has no scripts and embeds its images and style: a page served with it may load nothing else
REPORT_CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'")


def current_report_page(run_dir: str | Path) -> tuple[int, str]:
    """(HTTP status, HTML) of :func:`current_report` for a web front end: 200 and the report, or 404 and
    one escaped sentence saying why there is none (yet)."""
    from html import escape

    from vatl.errors import UserError

    try:
        return 200, current_report(run_dir).read_text(encoding="utf-8")
    except (UserError, ValueError, OSError) as exc:
        return 404, (f"<!doctype html><meta charset=\"utf-8\"><title>no report yet</title><p>No report yet: "
                     f"{escape(str(exc))}</p>")


def bench_report_lines(summary_dir: str | Path, runs: Sequence[tuple[str, str, str]]) -> list[str]:
    """Markdown lines for a benchmark summary in ``summary_dir``: per run (video, criterion, run folder) a
    link to its ``explain.html`` when made, else the command that makes it. Runs without explain data are
    left out; no lines when none has any."""
    rows, made = [], 0
    for video, criterion, folder in runs:
        if not saved_cycles(folder):
            continue
        if report_path(folder).is_file():
            made += 1
            link = os.path.relpath(report_path(folder), summary_dir).replace(os.sep, "/")
            rows.append(f"| {video} | {criterion} | [explain.html]({link}) |")
        else:
            rows.append(f"| {video} | {criterion} | `vatl explain {folder}` |")
    if not rows:
        return []
    return ["## Why these samples? (per-run reports)", "",
            "Every cycle of a run saves its pass's scores and features; `vatl explain RUN_FOLDER` draws from them "
            "the selected instances, other criteria's picks on the same pass, THC heatmap strips, the feature "
            "embedding and the per-cycle curves into `RUN_FOLDER/explain.html`.", "",
            f"<details><summary>{len(rows)} runs, {made} reports made</summary>", "",
            "| video | criterion | report |", "|---|---|---|", *rows, "", "</details>", ""]
