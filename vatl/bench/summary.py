"""The benchmark's summary: tables (Markdown + JSON) and mean learning curves from finished runs."""

from __future__ import annotations

import platform
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

import vatl
from vatl.atl.records import cycle_records
from vatl.bench.curves import plot_learning_curves
from vatl.bench.runner import BenchJob
from vatl.bench.specs import ORACLE, TABLE2, TABLE3
from vatl.bench.tables import (
    TABLE_POINTS,
    criterion_rows,
    mean_curve,
    paired_markdown,
    paired_rows,
    paired_rows_by_video,
    rows_markdown,
    stopping_markdown,
    stopping_rows,
)
from vatl.criteria.spec import parse_spec
from vatl.explain.links import bench_report_lines
from vatl.fileio import write_atomic, write_json

# the paper's baseline, the two diversity criteria, and the paper's method (each a column when it ran)
PAIRED_REFERENCES = ("random", "kmeans", "coreset", "thc+wpu+duw")
MAX_BANDED_CURVES = 4  # more shaded intervals than this hide the lines


def write_summary(out: Path, jobs: Sequence[BenchJob], results: Sequence[Mapping[str, Any] | None],
                  command: str, seconds: float | None, failures: Mapping[str, str] | None = None,
                  finished_before: int = 0, references: Sequence[str] = PAIRED_REFERENCES,
                  name: str = "summary") -> Path:
    """``summary.md``, ``summary.json`` and ``learning_curves.png`` (+ ``_ablation.png``) under ``out``.

    ``name``: another summary of the same folder (e.g. of other criteria or seeds) goes to ``<name>.md``,
    ``<name>.json`` and ``<name>_learning_curves.png``.

    ``finished_before``: runs that were already finished when the command started (skipped, so not in
    its wall time). ``references``: criterion labels whose ALC every criterion is paired with (those
    that ran).
    """
    out = Path(out)
    curves_png = "learning_curves" if name == "summary" else f"{name}_learning_curves"
    by_label: dict[str, list] = defaultdict(list)
    alc_by_label: dict[str, dict[tuple[str, int], float | None]] = defaultdict(dict)
    by_theta: dict[float, list] = defaultdict(list)
    videos = sorted({j.video_name for j in jobs})
    seeds = sorted({j.seed for j in jobs})
    for job, result in zip(jobs, results):
        if result is None:
            continue
        if Path(job.out_dir).name.startswith("stop_theta="):
            by_theta[float(job.config["theta"])].append(result)
        else:
            by_label[job.spec.label].append(result)
            alc_by_label[job.spec.label][(job.video_name, job.seed)] = result["summary"].get("ALC")
    rows = criterion_rows(by_label)
    table3_labels = {parse_spec(s).label for s in TABLE3}
    main_rows = [r for r in rows if r["criterion"] not in table3_labels or r["criterion"] in TABLE2]
    ablation_rows = [r for r in rows if r["criterion"] in table3_labels]
    stop_rows = stopping_rows(by_theta) if by_theta else []
    references = [ref for ref in references if ref in alc_by_label]
    pairs = len({key for per_run in alc_by_label.values() for key in per_run})
    paired = paired_rows(alc_by_label, references) if references and pairs > 1 else []
    paired_video = paired_rows_by_video(alc_by_label, references) if paired and len(seeds) > 1 else []

    title = f"mean over {len(videos)} videos"
    _plot_rows(by_label, main_rows, out / f"{curves_png}.png", title)
    if ablation_rows:
        _plot_rows(by_label, ablation_rows, out / f"{curves_png}_ablation.png", "ablation: " + title)

    lines = ["# Benchmark summary", "",
             f"Command: `{command}`", "",
             f"{len(videos)} videos × {len(seeds)} seed{'s' if len(seeds) > 1 else ''} "
             f"({', '.join(str(s) for s in seeds)}); {_time_text(seconds, results, finished_before)}; "
             f"vatl {vatl.__version__}, torch {torch.__version__}, Python {platform.python_version()}, "
             f"{platform.machine()}.", "",
             "AP@0.6 counts labeled samples as correct (as in the paper), interpolated at "
             + " / ".join(str(p) for p in TABLE_POINTS) + " % labeled; "
             "OKS>θ = the share of samples whose pose (labels counted correct) has OKS above the run's θ "
             "(what a user gets; it does not depend on prediction scores); "
             "ALC = area under AP@0.6 vs labeled %, 0–100; ALC ceiling = the ALC with AP@0.6 = 100 at every point "
             "after 0 % (the zero-label point fixed: no criterion can exceed it). Values: mean ± 95 % t-interval "
             "over the runs (videos × seeds).", "",
             "## Comparison (Table 2/4 style)", "", rows_markdown(main_rows), ""]
    if any(r["criterion"] == ORACLE for r in rows):
        lines += [f"`{ORACLE}` selects by the true error (lowest OKS against ground truth): a ceiling for "
                  "uncertainty criteria, not a method.", ""]
    if ablation_rows:
        lines += ["## Ablation (Table 3 rows)", "", rows_markdown(ablation_rows), "",
                  "THC and WPU are combined with equal weights (`const`) unless `weighting=increase|decrease` "
                  "(THC's weight rising / falling linearly with the labeled fraction). DUW uses the default "
                  "normalised distances (λ = 1); `normalise=False` is the paper-exact form (raw distances, "
                  "λ = 0.01); `-fixed` drops G (normalised min-distance + λ·C, λ = 1 as in the paper).", ""]
    if paired:
        lines += ["## Paired ALC differences", "",
                  "Each criterion's ALC minus the reference's ALC on the same video and seed (mean ± 95 % t-interval "
                  "over the (video, seed) pairs; in brackets: in how many pairs the criterion is higher). Pairing "
                  "removes how hard each video is, so these intervals are narrower than the gaps between the "
                  "intervals above.", "", paired_markdown(paired, references), ""]
    if paired_video:
        lines += ["Seed-averaged: each video's differences averaged over its seeds first (one value per video; "
                  "seeds of one video are not independent, so this interval is the conservative one):", "",
                  paired_markdown(paired_video, references), ""]
    if stop_rows:
        lines += ["## Stopping criteria (Table 5 style)", "",
                  "Runs with 10 % steps in report mode; 'stopped' = first cycle whose criterion is met (AP@θ with "
                  "labels at that point); a criterion never met counts as stopping at 100 %. 'actual' = the "
                  "labeled % from which every sample truly has OKS > θ.", "", stopping_markdown(stop_rows), ""]
    if failures:
        lines += ["## Failed or unfinished runs", ""] + [f"- {k}: {v}" for k, v in failures.items()] + [""]
    lines += bench_report_lines(out, [(j.video_name, j.spec.label, j.out_dir) for j in jobs])  # `vatl explain`
    lines += [f"![learning curves]({curves_png}.png)", ""]
    if ablation_rows:
        lines += [f"![ablation learning curves]({curves_png}_ablation.png)", ""]
    write_atomic(out / f"{name}.md", "\n".join(lines))
    write_json(out / f"{name}.json", {
        "command": command, "seconds": seconds, "finished_before": finished_before, "videos": videos,
        "seeds": seeds, "rows": rows, "paired": paired, "paired_by_video": paired_video, "stopping": stop_rows,
        "failures": dict(failures or {}),
    })
    return out / f"{name}.md"


def _plot_rows(by_label: Mapping[str, list], rows: Sequence[Mapping[str, Any]], path: Path, title: str) -> None:
    """Mean learning curves of the criteria of ``rows``; 95 % bands when few enough to stay readable."""
    curves, bands = {}, {}
    for label in (r["criterion"] for r in rows):
        xs, means, halves = mean_curve(by_label[label])
        curves[label] = (xs, means)
        bands[label] = (xs, [m - h for m, h in zip(means, halves)], [m + h for m, h in zip(means, halves)])
    if len(curves) <= MAX_BANDED_CURVES:
        plot_learning_curves(curves, path, bands=bands, title=title + " (95 % interval shaded)")
    else:
        plot_learning_curves(curves, path, title=title + " (95 % intervals: see the tables)")


def _time_text(seconds: float | None, results: Sequence[Mapping[str, Any] | None], finished_before: int) -> str:
    """Wall time of the command (when it ran the benchmark) and the summed time of the finished runs."""
    summed = sum(c.t_total for r in results if r for c in cycle_records(r))
    wall = ""
    if seconds is not None:
        ran = sum(r is not None for r in results) - finished_before
        resumed = f" (runs made: {ran}; finished before and skipped: {finished_before})" if finished_before else ""
        wall = f"wall time {seconds / 60:.1f} min{resumed}, "
    return f"{wall}run times summed over the finished runs {summed / 60:.1f} min"
