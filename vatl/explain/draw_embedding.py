"""The feature embedding as the paper's Fig. 5, per cycle, and the per-cycle "where do the picks lie" plot.

Markers: newly selected samples are circles, unlabeled samples not selected are crosses (both coloured
by the normalised uncertainty C), labeled samples small grey dots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from vatl.explain.figure_io import save_png

CMAP = "viridis"


@dataclass
class EmbeddingPanel:
    """One cycle's embedding: coords (M, 2) of samples ``shown`` (M,), masks over N (labeled, pool,
    selected), colour (N,) in [0, 1] and a title."""

    coords: np.ndarray
    shown: np.ndarray
    labeled: np.ndarray
    pool: np.ndarray
    selected: np.ndarray
    colour: np.ndarray
    title: str


def _draw(ax: plt.Axes, p: EmbeddingPanel, big: bool) -> None:
    lab, pool, sel = p.labeled[p.shown], p.pool[p.shown], p.selected[p.shown]
    col = np.nan_to_num(p.colour[p.shown], nan=0.0)
    scale = 1.0 if big else 0.5
    ax.scatter(p.coords[lab, 0], p.coords[lab, 1], s=6 * scale, c="#b0b0b0", marker=".", label="labeled", zorder=1)
    other = pool & ~sel
    ax.scatter(p.coords[other, 0], p.coords[other, 1], s=14 * scale, c=col[other], cmap=CMAP, vmin=0, vmax=1,
               marker="x", linewidths=0.7, label="unlabeled, not selected", zorder=2)
    ax.scatter(p.coords[sel, 0], p.coords[sel, 1], s=46 * scale, c=col[sel], cmap=CMAP, vmin=0, vmax=1, marker="o",
               edgecolors="black", linewidths=0.9, label="newly selected", zorder=3)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(p.title, fontsize=9 if big else 7)


def embedding_figure(panel: EmbeddingPanel, method: str, path: Path) -> bytes:
    """One cycle's embedding with legend and colour bar; written to ``path``; returns the PNG bytes."""
    fig, ax = plt.subplots(figsize=(7.0, 5.4))
    _draw(ax, panel, big=True)
    mappable = plt.cm.ScalarMappable(cmap=CMAP, norm=plt.Normalize(0, 1))
    fig.colorbar(mappable, ax=ax, fraction=0.046, pad=0.02, label="uncertainty C: THC+WPU, normalised over the pool")
    ax.legend(loc="best", fontsize=7, framealpha=0.8)
    fig.text(0.01, 0.01, method, fontsize=6.5, color="#444")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_png(fig, path)


def embedding_grid(panels: Sequence[EmbeddingPanel], method: str, path: Path) -> bytes:
    """Every saved cycle's embedding side by side (each of that cycle's own features)."""
    cols = min(5, max(1, len(panels)))
    rows = max(1, -(-len(panels) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.5 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, p in zip(axes.ravel(), panels):
        ax.axis("on")
        _draw(ax, p, big=False)
    fig.suptitle(f"each cycle's features ({method.split(';')[0].split(',')[0]}); circles: selected in that cycle, "
                 "colour: C", fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return save_png(fig, path)


def pick_position_figure(cycles: Sequence[int], c_pct: Sequence[float | None], d_pct: Sequence[float | None],
                         k_pct: Sequence[float | None], g_prev: Sequence[float | None], path: Path,
                         current: int | None = None) -> bytes:
    """Per cycle: the mean pool percentile of the selected samples' uncertainty C, of their distance to the
    labeled set and of their distance at pick time (50 = what a random pick gets; 100 = Core-Set's), with G
    of the previous cycle (DUW's weight on C)."""
    fig, ax = plt.subplots(figsize=(6.6, 3.4))

    def series(values: Sequence[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    x = np.asarray(cycles)
    ax.plot(x, series(c_pct), marker="o", label="uncertainty C of the picks (pool percentile)")
    ax.plot(x, series(d_pct), marker="s", label="distance to L of the picks (pool percentile)")
    ax.plot(x, series(k_pct), marker="^", label="distance at pick time (pool percentile; Core-Set = 100)")
    ax.plot(x, 100 * series(g_prev), marker=".", linestyle=":", color="#666", label="100 · G of the previous cycle")
    ax.axhline(50, color="#aaa", linewidth=0.8, linestyle="--")
    if current is not None:
        ax.axvline(current, color="#d97706", linewidth=0.8)
    ax.set_ylim(0, 102)
    ax.set_xlabel("cycle")
    ax.set_ylabel("%")
    ax.set_xticks(x)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return save_png(fig, path)
