"""The run folder: state for resuming, per-cycle records (results.json + results.csv), model checkpoints.

Every file is written atomically (temporary file + rename), so a run killed at any point leaves the last
finished cycle intact.

Layout::

    <out>/config.json        run settings (a resume must use the same)
    <out>/state.json         labels, per-cycle records, next cycle, stop information
    <out>/pending_query.json the selection of the cycle waiting for its answers
    <out>/results.json       per-cycle records + summary (ALC)
    <out>/results.csv        one row per cycle
    <out>/models/cycle_XX.pt the estimator (and optimizer) after cycle XX's retraining
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import torch


def write_atomic(path: Path, data: bytes | str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path: Path, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=1, sort_keys=False))


CSV_COLUMNS = ("cycle", "labeled_percent", "num_labeled", "num_queried", "num_answered", "AP@0.6_raw",
               "AP@0.6", "AP_raw", "AP", "G", "epochs", "num_retrained_R", "stop_value", "stop_met",
               "t_estimate", "t_evaluate", "t_select", "t_retrain", "t_total")


def records_csv(records: list[dict[str, Any]]) -> str:
    """One row per cycle with the most used columns (all of them are in results.json)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in records:
        writer.writerow(["" if r.get(c) is None else r.get(c) for c in CSV_COLUMNS])
    return out.getvalue()


class RunStore:
    """Reads and writes one run folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.models = self.root / "models"

    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    def has_state(self) -> bool:
        return self.state_path.exists()

    def load_state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{self.state_path}: corrupt run state ({exc}); remove the folder to start over") from None

    def save_state(self, state: dict[str, Any]) -> None:
        write_json(self.state_path, state)

    @property
    def pending_path(self) -> Path:
        return self.root / "pending_query.json"

    def load_pending(self) -> dict[str, Any] | None:
        """The saved selection awaiting answers (cycle, indices), if any."""
        return json.loads(self.pending_path.read_text()) if self.pending_path.exists() else None

    def save_pending(self, pending: dict[str, Any] | None) -> None:
        if pending is None:
            self.pending_path.unlink(missing_ok=True)
        else:
            write_json(self.pending_path, pending)

    def load_config(self) -> dict[str, Any] | None:
        path = self.root / "config.json"
        return json.loads(path.read_text()) if path.exists() else None

    def save_config(self, config: dict[str, Any]) -> None:
        write_json(self.root / "config.json", config)

    def model_path(self, cycle: int) -> Path:
        return self.models / f"cycle_{cycle:02d}.pt"

    def save_model(self, cycle: int, payload: dict[str, Any], keep: int) -> None:
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        write_atomic(self.model_path(cycle), buffer.getvalue())
        for old in sorted(self.models.glob("cycle_*.pt"))[:-keep]:
            old.unlink()

    def load_model(self, cycle: int) -> dict[str, Any]:
        path = self.model_path(cycle)
        if not path.exists():
            raise FileNotFoundError(f"{path}: the model of cycle {cycle} is missing; cannot resume this run")
        return torch.load(path, map_location="cpu", weights_only=False)

    def save_results(self, results: dict[str, Any]) -> None:
        write_json(self.root / "results.json", results)
        write_atomic(self.root / "results.csv", records_csv(results["cycles"]))
