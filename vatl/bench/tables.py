"""Paper-style summaries of benchmark runs: Table 2/4 (AP@0.6 at 5/10/20/40 % and ALC), Table 3 rows,
Table 5 (stopping), mean learning curves, paired differences.

AP at 5 / 10 / 20 / 40 % is read off each run's curve by linear interpolation (a video of N samples is
evaluated at floor(N·p)/N, not exactly at p). Means come with a 95 % t-interval over the runs (videos, or
videos × seeds). Paired differences pair runs on the same (video, seed); :func:`paired_rows_by_video`
averages each video's seeds first (one value per video, the conservative interval).

The **ALC ceiling** of a run (:func:`alc_ceiling`) is the ALC its curve would have with AP@0.6 = 100 at
every point after 0 %: with the zero-label point fixed, no selection or training can do better, so
ceiling − ALC bounds what any criterion can still gain on that run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from vatl.atl.records import cycle_records
from vatl.metrics import alc, ap_key

CURVE_GRID = (0, 5, 10, 15, 20, 30, 40, 60, 80, 100)
TABLE_POINTS = (5, 10, 20, 40)


def curve_of(result: Mapping[str, Any], key: str = "curve_ap60") -> tuple[np.ndarray, np.ndarray]:
    """(labeled %, AP@0.6 % — or the curve ``key``) of one run, sorted by labeled %; points without a value
    (runs written before a curve existed) are left out."""
    summary = result["summary"]
    x = np.asarray(summary["curve_labeled_percent"], dtype=float)
    y = np.asarray([np.nan if v is None else v for v in summary.get(key, [None] * len(x))], dtype=float)
    keep = np.isfinite(y)
    order = np.argsort(x[keep], kind="stable")
    return x[keep][order], y[keep][order]


def ap_at(result: Mapping[str, Any], percent: float, key: str = "curve_ap60") -> float | None:
    """AP@0.6 (or the curve ``key``) at ``percent`` labeled, interpolated; None when the curve does not
    reach it."""
    x, y = curve_of(result, key)
    if len(x) == 0 or percent < x[0] or percent > x[-1]:
        return None
    return float(np.interp(percent, x, y))


def correct_at(result: Mapping[str, Any], percent: float) -> float | None:
    """The share (%) of samples with OKS > θ (labels counted correct) at ``percent`` labeled."""
    return ap_at(result, percent, "curve_correct")


def alc_ceiling(result: Mapping[str, Any]) -> float | None:
    """The ALC of the run's curve with every AP@0.6 after its 0 % point set to 100 (None without a 0 % and a
    100 % point)."""
    x, y = curve_of(result)
    if len(x) < 2 or x[0] != 0 or x[-1] != 100:
        return None
    return float(alc(x, np.r_[y[0], np.full(len(x) - 1, 100.0)]))


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
    """One row per criterion label: AP@0.6 and OKS>θ at :data:`TABLE_POINTS`, ALC and the ALC ceiling (each
    mean, 95 % half-width, count); ``runs`` counts the runs (videos × seeds)."""
    rows = []
    for label, results in runs.items():
        row: dict[str, Any] = {"criterion": label, "videos": len(results)}
        for p in TABLE_POINTS:
            row[f"AP@0.6@{p}%"] = mean_ci([ap_at(r, p) for r in results])
        for p in TABLE_POINTS:
            row[f"correct@{p}%"] = mean_ci([correct_at(r, p) for r in results])
        row["ALC"] = mean_ci([r["summary"].get("ALC") for r in results])
        row["ALC_ceiling"] = mean_ci([alc_ceiling(r) for r in results])
        rows.append(row)
    return rows


def rows_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    head = ("| criterion | runs | " + " | ".join(f"AP@0.6 {p} %" for p in TABLE_POINTS) + " | "
            + " | ".join(f"OKS>θ {p} %" for p in TABLE_POINTS) + " | ALC | ALC ceiling |")
    lines = [head, "|---|---:|" + "---:|" * (2 * len(TABLE_POINTS) + 2)]
    for r in rows:
        cells = ([_cell(*r.get(f"AP@0.6@{p}%", (None, None))[:2]) for p in TABLE_POINTS]
                 + [_cell(*r.get(f"correct@{p}%", (None, None))[:2]) for p in TABLE_POINTS] + [_cell(*r["ALC"][:2])]
                 + [_cell(*r.get("ALC_ceiling", (None, None))[:2])])
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


def paired_rows(alc: Mapping[str, Mapping[Any, float | None]], references: Sequence[str]) -> list[dict[str, Any]]:
    """Per criterion, its ALC minus each reference's ALC on the same runs.

    alc[label][key] = ALC of one run; the key names the video (or the (video, seed) pair) it ran on.
    Differences on the same video cancel how hard the video is, so their interval is much narrower than the
    gap between two per-criterion intervals suggests.
    Each cell: (mean, 95 % half-width, pairs, pairs where the criterion is higher).
    """
    rows = []
    for label, per_run in alc.items():
        row: dict[str, Any] = {"criterion": label}
        for ref in references:
            common = [v for v in per_run if per_run[v] is not None and alc[ref].get(v) is not None]
            diffs = [per_run[v] - alc[ref][v] for v in common]
            mean, half, n = mean_ci(diffs)
            row[ref] = (mean, half, n, sum(d > 0 for d in diffs))
        rows.append(row)
    return rows


def paired_rows_by_video(alc: Mapping[str, Mapping[tuple[str, int], float | None]], references: Sequence[str]
                         ) -> list[dict[str, Any]]:
    """As :func:`paired_rows` over (video, seed) keys, but each video's differences are averaged over the
    seeds both criteria ran first: one value per video (seeds of one video are not independent)."""
    rows = []
    for label, per_run in alc.items():
        row: dict[str, Any] = {"criterion": label}
        for ref in references:
            diffs_by_video: dict[str, list[float]] = {}
            for key, value in per_run.items():
                other = alc[ref].get(key)
                if value is not None and other is not None:
                    diffs_by_video.setdefault(key[0], []).append(value - other)
            diffs = [float(np.mean(d)) for d in diffs_by_video.values()]
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
