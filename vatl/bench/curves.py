"""Learning-curve plots (AP@0.6 against labeled %, like the paper's Fig. 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_learning_curves(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], path: Path,
                         title: str = "", ylabel: str = "AP@0.6 (%)", bands: Mapping[str, tuple] | None = None) -> Path:
    """One line per criterion: ``curves[name] = (labeled_percent, ap_percent)``.

    ``bands[name] = (labeled_percent, low, high)`` draws a shaded interval (e.g. 95 % over videos).
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for name, (x, y) in curves.items():
        ax.plot(x, y, marker="o", markersize=3, label=name)
        if bands and name in bands:
            bx, lo, hi = bands[name]
            ax.fill_between(bx, lo, hi, alpha=0.15)
    ax.set_xlabel("labeled samples (%)")
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
