"""Terminal progress for ATL runs: a status line during each phase and one table row per cycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from vatl.atl.records import CycleRecord

COLUMNS = ("cycle", "labeled%", "AP60raw", "AP@0.6", "OKS>θ%", "+Q", "G_c", "E_c", "|R|", "stop", "sec")
WIDTHS = (5, 8, 7, 7, 6, 4, 6, 4, 4, 4, 6)


def _row(values) -> str:
    return " ".join(f"{v:>{w}}" for v, w in zip(values, WIDTHS))


def _fmt(value: Any, spec: str = ".1f") -> str:
    return "—" if value is None else format(value, spec)


class CycleTable:
    """Used as ``with CycleTable(title) as t: session = ATLSession(..., progress=t.on_event)``."""

    def __init__(self, title: str, console: Console | None = None, prefix: str = "") -> None:
        self.console = console or Console()
        self.title = title
        self.prefix = prefix
        self._status = None

    def __enter__(self) -> CycleTable:
        self.console.print(f"[bold]{self.title}[/bold]")
        self.console.print(self.prefix + _row(COLUMNS), soft_wrap=True, highlight=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_status()

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _set_status(self, text: str) -> None:
        if not self.console.is_terminal:
            return
        if self._status is None:
            self._status = self.console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def on_event(self, event: str, info: Any) -> None:
        """Progress events of :class:`~vatl.atl.session.ATLSession` (a dict, or the CycleRecord at cycle_end)."""
        if event == "cycle_start":
            self._set_status(f"cycle {info['cycle']}: estimating ({info['labeled']} labeled)")
        elif event == "phase":
            self._set_status(f"cycle {info['cycle']}: {info['phase']} done in {info['seconds']:.1f}s; next phase")
        elif event == "cycle_end":
            self._stop_status()
            r: CycleRecord = info
            stop = "—" if r.stop is None else ("met" if r.stop["met"] else "no")
            row = (str(r.cycle), _fmt(r.labeled_percent), _fmt(r.ap60_raw), _fmt(r.ap60), _fmt(r.correct),
                   str(r.num_answered),
                   _fmt(r.G, ".3f"), str(r.epochs), str(r.num_retrained_R), stop, _fmt(r.t_total))
            self.console.print(self.prefix + _row(row), soft_wrap=True, highlight=False)
        elif event == "finished":
            self._stop_status()
            self.console.print(f"{self.prefix}finished: {info['reason']} "
                               f"({info['labeled_percent']:.1f} % labeled"
                               + (f", AP@0.6 {info['AP@0.6']:.1f}" if info.get("AP@0.6") is not None else "") + ")")

    def print_summary(self, results: dict[str, Any], out: Path) -> None:
        summary = results["summary"]
        records = results.get("cycles") or []
        if records and all(r.get("AP@0.6") is None for r in records):  # a clip, or a video without ground truth
            self.console.print("no ground truth: AP and ALC are not measured; G_c per cycle (the model against "
                               "the labels) is in the table above and in results.csv")
            self.console.print(f"results: {out / 'results.json'}, {out / 'results.csv'}")
            return
        table = Table(title="learning curve")
        table.add_column("labeled %", justify="right")
        table.add_column("AP@0.6 (labels counted correct)", justify="right")
        for p, a in zip(summary["curve_labeled_percent"], summary["curve_ap60"]):
            table.add_row(f"{p:.1f}", f"{a:.2f}")
        self.console.print(table)
        alc = summary.get("ALC")
        self.console.print(f"ALC: {alc:.2f}" if alc is not None else f"ALC: — ({summary.get('ALC_note')})")
        if results.get("stop"):
            self.console.print(f"stopped at cycle {results['stop']['cycle']}: {results['stop']['reason']}")
        self.console.print(f"results: {out / 'results.json'}, {out / 'results.csv'}")
