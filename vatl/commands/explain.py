"""vatl explain: why these samples? One cycle's report (HTML + PNGs) from a run folder's saved data."""

from __future__ import annotations

import argparse
from pathlib import Path

from vatl.commands._args import nonnegative_int

HELP = ("write RUN_DIR/explain.html (self-contained) and PNGs for one cycle: the selected instances, other "
        "criteria's top picks on the same pass, heatmap strips, a feature embedding, per-cycle curves")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", type=Path, help="a run folder made by vatl run / demo / bench (finished or running)")
    p.add_argument("--cycle", type=nonnegative_int, default=None, help="the cycle to explain (default: the last saved)")
    p.add_argument("--compare", default="", metavar="CRITERIA",
                   help="criteria to rank from the saved pass, comma-separated, e.g. mpe,coreset (any of random, lc, "
                        "mpe, tpc, thc, wpu, thc+wpu, kmeans, coreset, thc+duw, wpu+duw, thc+wpu+duw, "
                        "thc+wpu+duw-fixed, oracle; options after a colon, separated by ';')")
    p.add_argument("--embedding", choices=("auto", "densmap", "pca"), default="auto",
                   help="auto: DensMAP when umap-learn is installed (pip install 'vatl[explain]'), else PCA")
    p.add_argument("--this-cycle-only", action="store_true",
                   help="embed only the explained cycle (not every saved cycle side by side)")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from vatl.explain.rank import parse_compare
    from vatl.explain.report import write_report

    parse_compare(args.compare)  # a clear error before anything is read
    console = Console(stderr=True)
    with console.status("vatl explain: reading the run") as status:
        report = write_report(args.run_dir, cycle=args.cycle, compare=args.compare, embedding=args.embedding,
                              all_cycles=not args.this_cycle_only,
                              progress=lambda step: status.update(f"vatl explain: {step}"))
    for note in report.notes:
        print(f"note: {note}")
    print(f"cycle {report.cycle}; embedding: {report.embedding}")
    print(f"figures: {', '.join(p.name for p in report.figures.values())} in {next(iter(report.figures.values())).parent}")
    print(f"report: {report.html}")
    return 0
