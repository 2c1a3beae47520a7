import pytest

from vatl.data.synthetic.benchmark_set import (
    BENCHMARK_SETS,
    DEFAULT_SET,
    PAPER_REGIME_TEST,
    PAPER_REGIME_VAL,
    benchmark_set,
    set_files,
    subset_jobs,
)


def test_the_paper_regime_set_has_16_test_and_8_separate_validation_videos(tmp_path):
    assert DEFAULT_SET == "paper-regime" and set(BENCHMARK_SETS) == {"paper-regime", "paper-regime-val", "standard"}
    test, val = subset_jobs(tmp_path, PAPER_REGIME_TEST), subset_jobs(tmp_path, PAPER_REGIME_VAL)
    assert len(test) == 16 and len(val) == 8
    assert {j.domain for j in test} == {j.domain for j in val} == {"mild_night", "mild_gym", "mild_drone",
                                                                  "mild_festival"}
    assert all(30 <= j.num_frames <= 60 for j in test + val)
    # separate videos: other split (other random draws), other files, other video numbers
    assert {j.split for j in test} == {"test"} and {j.split for j in val} == {"val"}
    assert not {str(j.json_path) for j in test} & {str(j.json_path) for j in val}
    assert not {j.video_number for j in test} & {j.video_number for j in val}
    assert len(benchmark_set("standard")) == 4
    with pytest.raises(ValueError, match="unknown benchmark set 'x'; known: paper-regime"):
        benchmark_set("x")


def test_set_files_interleave_the_domains(tmp_path):
    for job in subset_jobs(tmp_path, PAPER_REGIME_VAL):
        job.json_path.parent.mkdir(parents=True, exist_ok=True)
        job.json_path.write_text("{}")
    names = [f.stem for f in set_files(tmp_path, "paper-regime-val")]
    assert names[:4] == ["synth_mild_night_0000", "synth_mild_gym_0000", "synth_mild_drone_0000",
                         "synth_mild_festival_0000"]
    assert len(names) == 8 and set_files(tmp_path, "paper-regime") == []
