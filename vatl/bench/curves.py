"""Learning-curve plots (AP@0.6 against labeled %, like the paper's Fig. 6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np

from vatl.fileio import atomic_path

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LINE_STYLES = ("-", "--", ":", "-.")


def line_look(i: int) -> tuple[str, str]:
    """(colour, line style) of the i-th line: matplotlib's colour cycle, then the next line style."""
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return colours[i % len(colours)], LINE_STYLES[(i // len(colours)) % len(LINE_STYLES)]


def plot_learning_curves(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], path: Path,
                         title: str = "", ylabel: str = "AP@0.6 (%)", bands: Mapping[str, tuple] | None = None,
                         zoom_percent: float | None = 40.0) -> Path:
    """One line per criterion: ``curves[name] = (labeled_percent, ap_percent)``.

    ``bands[name] = (labeled_percent, low, high)`` draws a shaded interval (e.g. 95 % over videos), clipped
    to the 0–100 range of AP.
    ``zoom_percent`` adds a second panel over 0…zoom_percent % labeled, where criteria differ most.
    Past ten lines the colours repeat with another line style, so every line stays distinguishable.
    """
    panels = [100.0] + ([zoom_percent] if zoom_percent else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.6), dpi=120, squeeze=False)
    for ax, right in zip(axes[0], panels):
        for i, (name, (x, y)) in enumerate(curves.items()):
            colour, style = line_look(i)
            ax.plot(x, y, marker="o", markersize=3, label=name, color=colour, linestyle=style)
            if bands and name in bands:
                bx, lo, hi = bands[name]
                ax.fill_between(bx, np.clip(lo, 0, 100), np.clip(hi, 0, 100), alpha=0.12, color=colour)
        ax.set_xlabel("labeled samples (%)")
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, right)
        ax.set_ylim(0, 101)
        ax.grid(alpha=0.3)
        if right < 100:
            ax.set_title(f"0–{right:g} % labeled", fontsize=10)
    axes[0][0].legend(loc="lower right", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)
    return Path(path)
