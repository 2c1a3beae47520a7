"""Markdown reports of ATL runs (the demo's report; the benchmark's summary uses :mod:`vatl.bench.tables`)."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

import vatl
from vatl.atl.records import PHASES, cycle_records
from vatl.bench.curves import plot_learning_curves
from vatl.data.video import Video
from vatl.fileio import write_atomic


def _f(value: Any, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def cycle_table_markdown(result: Mapping[str, Any]) -> str:
    """Per-cycle table of one run."""
    lines = ["| cycle | labeled % | AP@0.6 raw | AP@0.6 | OKS>θ % | +labels | G_c | E_c | \\|R\\| | stop | time (s) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---|---:|"]
    for r in cycle_records(result):
        stop = "—" if r.stop is None else ("met" if r.stop["met"] else "not met")
        lines.append(f"| {r.cycle} | {r.labeled_percent:.1f} | {_f(r.ap60_raw)} | {_f(r.ap60)} | {_f(r.correct)} | "
                     f"{r.num_answered} | {_f(r.G, '.3f')} | {r.epochs} | {r.num_retrained_R} | "
                     f"{stop} | {r.t_total:.1f} |")
    final = result.get("final") or {}
    if final.get("AP@0.6") is not None:
        lines.append(f"| end | {final['labeled_percent']:.1f} | | {final['AP@0.6']:.2f} | {_f(final.get('correct'))} "
                     "| | | | | | |")
    return "\n".join(lines)


def phase_times(result: Mapping[str, Any]) -> dict[str, float]:
    """Total seconds per phase over the cycles of one run."""
    records = cycle_records(result)
    return {phase: sum(r.phase_times[phase] for r in records) for phase in PHASES}


def write_demo_report(out: Path, video: Video, results: Mapping[str, Mapping[str, Any]], seconds: float) -> Path:
    """``report.md`` + ``learning_curves.png`` comparing the criteria of the demo."""
    out = Path(out)
    curves = {name: (r["summary"]["curve_labeled_percent"], r["summary"]["curve_ap60"]) for name, r in results.items()}
    plot_learning_curves(curves, out / "learning_curves.png",
                         title=f"{video.name}: N = {video.num_samples}, {video.num_tracks} tracks")
    lines = [
        "# vatl demo",
        "",
        f"Video `{video.name}`: {len(video.frames)} frames, {video.num_tracks} tracks, N = {video.num_samples} "
        f"samples (synthetic target domain, exact ground truth). Estimator: the embedded CPU checkpoint "
        f"pretrained on the synthetic source domain. Annotation is simulated from the ground truth.",
        "",
        "AP@0.6 counts labeled samples as correct (as in the paper); 'raw' is the model alone. "
        "ALC: area under AP@0.6 against labeled %, 0–100.",
        "",
        "| criterion | AP@0.6 at 0 % | ALC | stop (SC_All, θ = 0.6) |",
        "|---|---:|---:|---|",
    ]
    for name, r in results.items():
        records = cycle_records(r)
        first = records[0].ap60 if records else None
        met = [c for c in records if c.stop is not None and c.stop["met"]]
        stop = f"met after cycle {met[0].cycle} ({met[0].labeled_percent_after:.0f} % labeled)" if met else "not met"
        lines.append(f"| {name} | {_f(first)} | {_f(r['summary']['ALC'])} | {stop} |")
    lines += ["", "One video and one seed show the loop working, not which criterion is better: for that, "
              "`vatl bench` runs the criteria over the 16 videos of the synthetic benchmark set "
              "(measured results and how they compare with the paper: `docs/results/benchmark/` in the repository).",
              "", "![learning curves](learning_curves.png)", ""]
    for name, r in results.items():
        times = ", ".join(f"{k} {v:.1f} s" for k, v in phase_times(r).items())
        lines += [f"## {name}", "", cycle_table_markdown(r), "", f"Time per phase: {times}.", ""]
    lines += [f"Total wall time {seconds:.0f} s on {platform.machine()} ({os.cpu_count()} CPUs; the runs in parallel "
              f"processes with one torch thread each); "
              f"vatl {vatl.__version__}, torch {torch.__version__}, Python {platform.python_version()}.", ""]
    return write_atomic(out / "report.md", "\n".join(lines))
