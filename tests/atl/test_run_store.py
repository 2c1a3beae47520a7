import csv
import io

import torch

from vatl.atl.run_store import CSV_COLUMNS, RunStore, records_csv


def test_state_round_trip_and_atomic_files(tmp_path):
    store = RunStore(tmp_path / "run")
    assert not store.has_state()
    store.save_state({"next_cycle": 3, "labels": {}})
    assert store.load_state() == {"next_cycle": 3, "labels": {}}
    assert not list((tmp_path / "run").glob("*.tmp"))


def test_only_the_newest_models_are_kept(tmp_path):
    store = RunStore(tmp_path)
    for c in range(4):
        store.save_model(c, {"model": {"w": torch.tensor([float(c)])}}, keep=2)
    assert sorted(p.name for p in store.models.iterdir()) == ["cycle_02.pt", "cycle_03.pt"]
    assert store.load_model(3)["model"]["w"].item() == 3.0


def test_csv_has_one_row_per_cycle_and_blanks_for_missing_values():
    text = records_csv([{"cycle": 0, "labeled_percent": 0.0, "G": None}, {"cycle": 1, "labeled_percent": 5.0}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1][:2] == ["0", "0.0"] and rows[2][:2] == ["1", "5.0"]
    assert rows[1][CSV_COLUMNS.index("G")] == ""
