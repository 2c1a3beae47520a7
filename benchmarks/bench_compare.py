"""ALC of finished `vatl bench` runs across benchmark folders and criteria, paired on the same videos (and seeds).

Each column is ``FOLDER:LABEL`` (a benchmark folder and a criterion label as its run folders are named, e.g.
``runs/tune/alpha50:thc+wpu+duw@weighting=increase``); the first column is the reference. Prints (or with
``--out``, writes) a Markdown table: one row per column with the mean ALC over the runs, the mean paired
difference to the reference with its 95 % t-interval over the runs both have, and on how many the column is
higher. ``--per-video`` adds the per-run ALCs. Used for the tuning tables of
docs/results/benchmark_paper_regime/tuning.md::

    .venv/bin/python benchmarks/bench_compare.py --title "Stage A" runs/tune/alpha250:thc+wpu+duw \\
        runs/tune/alpha125:thc+wpu+duw runs/tune/alpha50:thc+wpu+duw
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vatl.bench.tables import mean_ci
from vatl.fileio import write_atomic


def finished_alcs(folder: Path, label: str) -> dict[tuple[str, str], float]:
    """{(video, seed folder or ''): ALC} of the finished runs of ``label`` in a benchmark folder."""
    out = {}
    for path in sorted((folder / "runs").glob(f"*/{label}/results.json")) + \
            sorted((folder / "runs").glob(f"*/seed=*/{label}/results.json")):
        parts = path.relative_to(folder / "runs").parts
        key = (parts[0], parts[1] if parts[1].startswith("seed=") else "")
        alc = json.loads(path.read_text()).get("summary", {}).get("ALC")
        if alc is not None:
            out[key] = float(alc)
    return out


def compare(columns: list[str], per_video: bool = False, title: str | None = None) -> str:
    data = []
    for col in columns:
        folder, sep, label = col.partition(":")
        if not sep or not label:
            raise SystemExit(f"column {col!r}: expected FOLDER:LABEL")
        data.append((col, finished_alcs(Path(folder), label)))
    ref_name, ref = data[0]
    lines = [f"### {title}", ""] if title else []
    lines += [f"Reference: `{ref_name}`.", "",
              "| column | runs | mean ALC | − reference (95 % interval) | higher on |", "|---|---:|---:|---:|---:|"]
    for name, values in data:
        common = [k for k in values if k in ref]
        diffs = [values[k] - ref[k] for k in common]
        mean, _, n = mean_ci(list(values.values()))
        d_mean, d_half, _ = mean_ci(diffs)
        diff = "—" if name == ref_name or d_mean is None else \
            f"{d_mean:+.2f}" + ("" if d_half is None else f" ± {d_half:.2f}")
        lines.append(f"| `{name}` | {n} | {'—' if mean is None else f'{mean:.2f}'} | {diff} | "
                     f"{sum(d > 0 for d in diffs)}/{len(diffs)} |")
    if per_video:
        keys = sorted(set().union(*(v for _, v in data)))
        lines += ["", "| run | " + " | ".join(f"({i + 1})" for i in range(len(data))) + " |",
                  "|---|" + "---:|" * len(data)]
        for key in keys:
            cells = [f"{v[key]:.2f}" if key in v else "—" for _, v in data]
            lines.append(f"| {key[0]}{' ' + key[1] if key[1] else ''} | " + " | ".join(cells) + " |")
        lines += ["", "Columns: " + "; ".join(f"({i + 1}) `{name}`" for i, (name, _) in enumerate(data)) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("columns", nargs="+", help="FOLDER:LABEL, the first is the reference")
    parser.add_argument("--per-video", action="store_true")
    parser.add_argument("--title", default=None)
    parser.add_argument("--out", type=Path, default=None, help="append the table to this Markdown file")
    args = parser.parse_args()
    text = compare(args.columns, args.per_video, args.title)
    if args.out:
        previous = args.out.read_text() if args.out.is_file() else ""
        write_atomic(args.out, previous + ("\n" if previous else "") + text)
    print(text)


if __name__ == "__main__":
    main()
