"""Paper-style summaries of benchmark runs: Table 2/4 (AP@0.6 at 5/20/40 % and ALC), Table 3 rows,
Table 5 (stopping), mean learning curves.

AP at 5 / 20 / 40 % is read off each video's curve by linear interpolation (a video of N samples is
evaluated at floor(N·p)/N, not exactly at p). Means come with a 95 % t-interval over videos.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from vatl.atl.records import cycle_records
from vatl.metrics import ap_key

CURVE_GRID = (0, 5, 10, 15, 20, 30, 40, 60, 80, 100)
TABLE_POINTS = (5, 20, 40)


def curve_of(result: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(labeled %, AP@0.6 %) of one run, sorted by labeled %."""
    x = np.asarray(result["summary"]["curve_labeled_percent"], dtype=float)
    y = np.asarray(result["summary"]["curve_ap60"], dtype=float)
    order = np.argsort(x, kind="stable")
    return x[order], y[order]


def ap_at(result: Mapping[str, Any], percent: float) -> float | None:
    """AP@0.6 at ``percent`` labeled, interpolated; None when the curve does not reach it."""
    x, y = curve_of(result)
    if len(x) == 0 or percent < x[0] or percent > x[-1]:
        return None
    return float(np.interp(percent, x, y))


def mean_ci(values: Sequence[float | None]) -> tuple[float | None, float | None, int]:
    """Mean, half-width of the 95 % t-interval (None for fewer than 2 values) and the count."""
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if len(v) == 0:
        return None, None, 0
    if len(v) == 1:
        return float(v[0]), None, 1
    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return float(v.mean()), half, len(v)


def _cell(mean: float | None, half: float | None) -> str:
    if mean is None:
        return "—"
    return f"{mean:.2f}" if half is None else f"{mean:.2f} ± {half:.2f}"


def criterion_rows(runs: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One row per criterion label: AP@0.6 at 5/20/40 % and ALC (mean, 95 % half-width, videos)."""
    rows = []
    for label, results in runs.items():
        row: dict[str, Any] = {"criterion": label, "videos": len(results)}
        for p in TABLE_POINTS:
            row[f"AP@0.6@{p}%"] = mean_ci([ap_at(r, p) for r in results])
        row["ALC"] = mean_ci([r["summary"].get("ALC") for r in results])
        rows.append(row)
    return rows


def rows_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    head = "| criterion | videos | " + " | ".join(f"AP@0.6 {p} %" for p in TABLE_POINTS) + " | ALC |"
    lines = [head, "|---|---:|" + "---:|" * (len(TABLE_POINTS) + 1)]
    for r in rows:
        cells = [_cell(*r[f"AP@0.6@{p}%"][:2]) for p in TABLE_POINTS] + [_cell(*r["ALC"][:2])]
        lines.append(f"| {r['criterion']} | {r['videos']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mean_curve(results: Sequence[Mapping[str, Any]], grid: Sequence[float] = CURVE_GRID) -> tuple[list, list, list]:
    """Mean AP@0.6 over videos at the grid points (interpolated), with the 95 % half-widths."""
    means, halves, xs = [], [], []
    for p in grid:
        m, h, _ = mean_ci([ap_at(r, p) for r in results])
        if m is not None:
            xs.append(p)
            means.append(m)
            halves.append(h or 0.0)
    return xs, means, halves


def stop_point(result: Mapping[str, Any], criterion: str, theta: float) -> tuple[float, float]:
    """(AP@θ with labels at the stop, labeled % at the stop) for ``sc_min``/``sc_all`` recorded in a
    report-mode run. A criterion never met stops at the end of the schedule (all labeled: AP 100)."""
    key = ap_key(theta)
    for c in cycle_records(result):
        if getattr(c, f"{criterion}_met"):
            return c.ap_after_labels[key], c.labeled_percent_after
    final = result["final"]
    return final["ap_with_labels"][key], final["labeled_percent"]


def actual_point(result: Mapping[str, Any], theta: float) -> float:
    """The labeled % from which every sample truly has OKS > θ (predictions with the labels so far)."""
    for c in cycle_records(result):
        if c.true_oks_min is not None and c.true_oks_min > theta:
            return c.labeled_percent
        if c.true_oks_min_after is not None and c.true_oks_min_after > theta:
            return c.labeled_percent_after
    return result["final"]["labeled_percent"]


def stopping_rows(stop_runs: Mapping[float, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Table 5: per criterion and θ, AP@θ at the stop, labeled % at the stop, and the actual %."""
    rows = []
    for criterion in ("sc_min", "sc_all"):
        for theta, results in sorted(stop_runs.items()):
            points = [stop_point(r, criterion, theta) for r in results]
            rows.append({"criterion": criterion, "theta": theta, "videos": len(results),
                         "AP@theta": mean_ci([a for a, _ in points]),
                         "stopped_percent": mean_ci([p for _, p in points]),
                         "actual_percent": mean_ci([actual_point(r, theta) for r in results])})
    return rows


def stopping_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = ["| SC | θ | videos | AP@θ at stop (%) | stopped at (% labeled) | actual (% labeled) |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['criterion']} | {r['theta']:g} | {r['videos']} | {_cell(*r['AP@theta'][:2])} | "
                     f"{_cell(*r['stopped_percent'][:2])} | {_cell(*r['actual_percent'][:2])} |")
    return "\n".join(lines)


def paired_rows(alc: Mapping[str, Mapping[str, float | None]], references: Sequence[str]) -> list[dict[str, Any]]:
    """Per criterion, its ALC minus each reference's ALC on the same videos.

    alc[label][video] = ALC of one run. Differences on the same video cancel how hard the video is, so
    their interval is much narrower than the gap between two per-criterion intervals suggests.
    Each cell: (mean, 95 % half-width, videos, videos where the criterion is higher).
    """
    rows = []
    for label, per_video in alc.items():
        row: dict[str, Any] = {"criterion": label}
        for ref in references:
            common = [v for v in per_video if per_video[v] is not None and alc[ref].get(v) is not None]
            diffs = [per_video[v] - alc[ref][v] for v in common]
            mean, half, n = mean_ci(diffs)
            row[ref] = (mean, half, n, sum(d > 0 for d in diffs))
        rows.append(row)
    return rows


def paired_markdown(rows: Sequence[Mapping[str, Any]], references: Sequence[str]) -> str:
    lines = ["| criterion | " + " | ".join(f"ALC − {ref} (higher on)" for ref in references) + " |",
             "|---|" + "---:|" * len(references)]
    for r in rows:
        cells = []
        for ref in references:
            mean, half, n, wins = r[ref]
            cells.append("—" if r["criterion"] == ref or mean is None
                         else f"{mean:+.2f}" + ("" if half is None else f" ± {half:.2f}") + f" ({wins}/{n})")
        lines.append(f"| {r['criterion']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
