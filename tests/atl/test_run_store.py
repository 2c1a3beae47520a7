import csv
import io

import pytest
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
        store.save_model(c, {"model": {"w": torch.tensor([float(c)])}, "finetuner": {}})
        store.prune_models(keep=2)
    assert sorted(p.name for p in store.models.iterdir()) == ["cycle_02.pt", "cycle_03.pt"]
    assert store.load_model(3)["model"]["w"].item() == 3.0


def test_csv_has_one_row_per_cycle_and_blanks_for_missing_values():
    text = records_csv([{"cycle": 0, "labeled_percent": 0.0, "G": None}, {"cycle": 1, "labeled_percent": 5.0}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1][:2] == ["0", "0.0"] and rows[2][:2] == ["1", "5.0"]
    assert rows[1][CSV_COLUMNS.index("G")] == ""


class RunsCode:
    """A pickle that would create ``marker`` when loaded (what a replaced model file could hold)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_model_file_that_holds_code_is_refused_without_running_it(tmp_path):
    store = RunStore(tmp_path)
    marker = tmp_path / "pwned"
    store.models.mkdir()
    torch.save({"model": RunsCode(marker), "finetuner": {}}, store.model_path(0))
    with pytest.raises(ValueError, match=r"cycle_00.pt: not loaded: the file holds objects other than tensors"):
        store.load_model(0)
    assert not marker.exists()


def test_truncated_and_foreign_model_files_name_the_file(tmp_path):
    store = RunStore(tmp_path)
    store.save_model(0, {"model": {"w": torch.zeros(1000)}, "finetuner": {}})
    data = store.model_path(0).read_bytes()
    store.model_path(0).write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cycle_00.pt: cannot read the model of cycle 0 \(truncated"):
        store.load_model(0)
    torch.save({"weights": torch.zeros(1)}, store.model_path(1))
    with pytest.raises(ValueError, match="cycle_01.pt: not a vatl run model"):
        store.load_model(1)
    with pytest.raises(FileNotFoundError, match="cycle_02.pt: the model of cycle 2 is missing"):
        store.load_model(2)


@pytest.mark.parametrize("content, message", [
    ('{"cycle": 0, "indi', "corrupt pending query"),
    ('{"cycle": 0, "indices": [1, 99]}', r"indices \[99\] are outside the video's samples 0..9"),
    ('{"cycle": 0, "indices": [1, 1]}', "holds a sample twice"),
    ('{"cycle": 0, "indices": [1, "2"]}', "must be a list of integer sample indices"),
    ('[1, 2]', "expected an object"),
])
def test_a_bad_pending_query_file_names_the_file(tmp_path, content, message):
    store = RunStore(tmp_path)
    store.pending_path.write_text(content)
    with pytest.raises(ValueError, match=message) as err:
        store.load_pending(num_samples=10)
    assert str(store.pending_path) in str(err.value) and "remove the file" in str(err.value)


def test_a_run_folder_that_is_a_file_or_under_a_file_is_a_clear_error(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file; the run folder must be a folder"):
        RunStore(tmp_path / "f")
    with pytest.raises(NotADirectoryError, match=r"cannot create the run folder, .*/f is a file"):
        RunStore(tmp_path / "f" / "sub" / "run")
    for name in ("state.json", "config.json"):
        (tmp_path / "r").mkdir(exist_ok=True)
        (tmp_path / "r" / name).write_text("{not json")
    with pytest.raises(ValueError, match=r"state.json: corrupt run state"):
        RunStore(tmp_path / "r").load_state()
    with pytest.raises(ValueError, match=r"config.json: corrupt run config"):
        RunStore(tmp_path / "r").load_config()
