"""The run folder: state for resuming, per-cycle records (results.json + results.csv), model checkpoints.

Every file is written atomically (:mod:`vatl.fileio`), so a run killed at any point leaves the last
finished cycle intact; ``state.json`` is the commit point of a cycle. Everything read back is treated as
data: JSON is checked field by field, models are loaded with ``torch.load(weights_only=True)`` (tensors
and plain containers only, never code), and every error names the file.

Layout::

    <out>/run.lock           held by the process working in the folder (:mod:`vatl.atl.run_lock`)
    <out>/config.json        run settings (a resume must use the same)
    <out>/state.json         labels, rejected samples, per-cycle records, next cycle, stop information
    <out>/pending_query.json the selection of the cycle waiting for its answers
    <out>/results.json       per-cycle records + summary (ALC)
    <out>/results.csv        one row per cycle
    <out>/models/cycle_XX.pt the estimator (and optimizer) after cycle XX's retraining
"""

from __future__ import annotations

import csv
import io
import json
import pickle
from pathlib import Path
from typing import Any

import torch

from vatl.atl.run_lock import RunLock
from vatl.fileio import atomic_path, ensure_folder, write_atomic, write_json

CSV_COLUMNS = ("cycle", "labeled_percent", "num_labeled", "num_queried", "num_answered", "num_skipped",
               "num_rejected", "AP@0.6_raw", "AP@0.6", "AP_raw", "AP", "correct_raw", "correct", "G", "epochs",
               "num_retrained_R",
               "stop_value", "stop_met", "t_estimate", "t_evaluate", "t_select", "t_retrain", "t_total")


def records_csv(records: list[dict[str, Any]]) -> str:
    """One row per cycle with the most used columns (all of them are in results.json)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in records:
        writer.writerow(["" if r.get(c) is None else r.get(c) for c in CSV_COLUMNS])
    return out.getvalue()


def read_json_file(path: Path, what: str) -> Any:
    """The JSON in ``path``; ValueError naming the file (``what`` says what it is) when it is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: corrupt {what} ({exc}); remove the file (or the run folder) to start "
                         "that part over") from None


class RunStore:
    """Reads and writes one run folder (created on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = ensure_folder(Path(root), "run folder")
        self.models = self.root / "models"

    def lock(self) -> RunLock:
        """The folder's lock (not yet acquired)."""
        return RunLock(self.root)

    # ------------------------------------------------------------------------------ state and config
    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    def has_state(self) -> bool:
        return self.state_path.exists()

    def load_state(self) -> dict[str, Any]:
        state = read_json_file(self.state_path, "run state")
        if not isinstance(state, dict):
            raise ValueError(f"{self.state_path}: corrupt run state (not a JSON object)")
        return state

    def save_state(self, state: dict[str, Any]) -> None:
        write_json(self.state_path, state)

    @property
    def config_path(self) -> Path:
        return self.root / "config.json"

    def load_config(self) -> dict[str, Any] | None:
        if not self.config_path.exists():
            return None
        config = read_json_file(self.config_path, "run config")
        if not isinstance(config, dict):
            raise ValueError(f"{self.config_path}: corrupt run config (not a JSON object)")
        return config

    def save_config(self, config: dict[str, Any]) -> None:
        write_json(self.config_path, config)

    # ------------------------------------------------------------------------------ pending query
    @property
    def pending_path(self) -> Path:
        return self.root / "pending_query.json"

    def load_pending(self, num_samples: int) -> dict[str, Any] | None:
        """The saved selection awaiting answers ``{"cycle": c, "indices": [...]}``, if any.

        Indices must be distinct sample indices in 0..num_samples-1 (else a ValueError naming the file).
        """
        if not self.pending_path.exists():
            return None
        doc = read_json_file(self.pending_path, "pending query")
        bad = _pending_problem(doc, num_samples)
        if bad:
            raise ValueError(f"{self.pending_path}: {bad}; remove the file to select this cycle's query again")
        return doc

    def save_pending(self, pending: dict[str, Any] | None) -> None:
        if pending is None:
            self.pending_path.unlink(missing_ok=True)
        else:
            write_json(self.pending_path, pending)

    # ------------------------------------------------------------------------------ models
    def model_path(self, cycle: int) -> Path:
        return self.models / f"cycle_{cycle:02d}.pt"

    def save_model(self, cycle: int, payload: dict[str, Any]) -> Path:
        """Write cycle ``cycle``'s model (see :meth:`prune_models` for removing older ones)."""
        with atomic_path(self.model_path(cycle)) as tmp:
            torch.save(payload, tmp)
        return self.model_path(cycle)

    def prune_models(self, keep: int) -> None:
        """Keep only the ``keep`` newest model files."""
        for old in sorted(self.models.glob("cycle_*.pt"))[:-keep]:
            old.unlink()

    def load_model(self, cycle: int) -> dict[str, Any]:
        """The payload saved by :meth:`save_model`, read as data (tensors and plain containers only)."""
        path = self.model_path(cycle)
        if not path.exists():
            raise FileNotFoundError(f"{path}: the model of cycle {cycle} is missing; cannot resume this run")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise ValueError(f"{path}: not loaded: the file holds objects other than tensors and plain "
                             f"containers, which vatl never writes ({str(exc).splitlines()[0]})") from None
        except Exception as exc:  # noqa: BLE001 - torch raises many types for a truncated or foreign file
            raise ValueError(f"{path}: cannot read the model of cycle {cycle} (truncated or not a vatl "
                             f"model file: {type(exc).__name__}: {exc})") from None
        if not isinstance(payload, dict) or not {"model", "finetuner"} <= set(payload):
            raise ValueError(f"{path}: not a vatl run model (expected the fields 'model' and 'finetuner')")
        return payload

    # ------------------------------------------------------------------------------ results
    def save_results(self, results: dict[str, Any]) -> None:
        write_json(self.root / "results.json", results)
        write_atomic(self.root / "results.csv", records_csv(results["cycles"]))


def _pending_problem(doc: Any, num_samples: int) -> str | None:
    """What is wrong with a pending-query document, or None."""
    if not isinstance(doc, dict) or not isinstance(doc.get("cycle"), int) or isinstance(doc.get("cycle"), bool):
        return "expected an object with an integer 'cycle' and a list 'indices'"
    indices = doc.get("indices")
    if not isinstance(indices, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in indices):
        return "'indices' must be a list of integer sample indices"
    outside = [i for i in indices if not 0 <= i < num_samples]
    if outside:
        return f"indices {outside[:5]} are outside the video's samples 0..{num_samples - 1}"
    if len(set(indices)) != len(indices):
        return "'indices' holds a sample twice"
    return None
