import pytest

from vatl.data.formats.discover import annotation_files, annotation_files_of


def test_split_folders_plain_folders_and_files(tmp_path):
    (tmp_path / "posetrack_data" / "train").mkdir(parents=True)
    for name in ("b.json", "a.json", "notes.txt"):
        (tmp_path / "posetrack_data" / "train" / name).write_text("{}")
    assert [p.name for p in annotation_files(tmp_path, "train")] == ["a.json", "b.json"]
    assert [p.name for p in annotation_files(tmp_path / "posetrack_data" / "train")] == ["a.json", "b.json"]
    one = tmp_path / "posetrack_data" / "train" / "b.json"
    assert annotation_files(one) == [one]
    assert [p.name for p in annotation_files_of([one, tmp_path / "posetrack_data" / "train"])] == ["b.json", "a.json",
                                                                                                 "b.json"]


def test_what_is_missing_is_named(tmp_path):
    (tmp_path / "posetrack_data" / "train").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"no annotation JSON files in .*posetrack_data/val or .*/val"):
        annotation_files(tmp_path, "val")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        annotation_files(tmp_path / "nope")
