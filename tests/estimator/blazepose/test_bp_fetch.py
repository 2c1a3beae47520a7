"""Fetching BlazePose from the mediapipe wheel: extraction from a wheel-like zip, caching, clear errors.
Nothing here downloads (pip is replaced by a stub)."""

import subprocess
import zipfile

import pytest

from vatl.estimator.blazepose import fetch


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VATL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def make_wheel(path, payload=b"TFL3-model-bytes", member=fetch.MODEL_MEMBER):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mediapipe/__init__.py", "")
        zf.writestr(member, payload)
    return path


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("VATL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert fetch.cache_dir() == tmp_path / "vatl"
    monkeypatch.setenv("VATL_CACHE", str(tmp_path / "x"))
    assert fetch.cached_model_path() == tmp_path / "x" / fetch.MODEL_FILENAME


def test_fetch_from_local_wheel_extracts_and_caches(tmp_path, cache):
    wheel = make_wheel(tmp_path / "mediapipe-0.10.21-py3-none-any.whl")
    path = fetch.fetch_model(wheel=wheel)
    assert path == cache / fetch.MODEL_FILENAME and path.read_bytes() == b"TFL3-model-bytes"
    assert fetch.require_model() == path
    # cached: a second call neither needs the wheel nor pip
    assert fetch.fetch_model() == path


def test_wheel_without_the_model_is_an_error(tmp_path, cache):
    wheel = make_wheel(tmp_path / "w.whl", member="mediapipe/other.tflite")
    with pytest.raises(fetch.FetchError, match="pose_landmark_full.tflite"):
        fetch.fetch_model(wheel=wheel)
    (tmp_path / "bad.whl").write_bytes(b"not a zip")
    with pytest.raises(fetch.FetchError, match="not a wheel"):
        fetch.extract_model(tmp_path / "bad.whl", tmp_path / "out.tflite")


def test_offline_download_gives_actionable_error(cache, monkeypatch):
    def failing_pip(cmd, **kwargs):
        assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd and "mediapipe==0.10.21" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version (network unreachable)")

    monkeypatch.setattr(fetch.subprocess, "run", failing_pip)
    with pytest.raises(fetch.FetchError, match="offline") as err:
        fetch.fetch_model()
    assert "network unreachable" in str(err.value) and str(cache) in str(err.value)


def test_download_uses_the_wheel_pip_left(cache, monkeypatch, tmp_path):
    def fake_pip(cmd, **kwargs):
        folder = cmd[cmd.index("-d") + 1]
        make_wheel(f"{folder}/mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl", b"weights")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch.subprocess, "run", fake_pip)
    assert fetch.fetch_model().read_bytes() == b"weights"


def test_require_model_names_the_command(cache):
    with pytest.raises(FileNotFoundError, match="vatl blazepose fetch"):
        fetch.require_model()


def test_the_person_detector_comes_from_the_same_wheel(tmp_path, cache, monkeypatch):
    wheel = tmp_path / "mediapipe-0.10.21-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(fetch.MODEL_MEMBER, b"landmarks")
        zf.writestr(fetch.DETECTOR_MEMBER, b"detector")
    model, detector = fetch.fetch_models(wheel=wheel)
    assert model.read_bytes() == b"landmarks" and detector.read_bytes() == b"detector"
    assert fetch.require_detector() == detector == cache / fetch.DETECTOR_FILENAME
    detector.unlink()
    calls = []

    def fake_pip(cmd, **kwargs):  # only the missing detector makes fetch download the wheel again
        calls.append(cmd)
        folder = cmd[cmd.index("-d") + 1]
        with zipfile.ZipFile(f"{folder}/mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl", "w") as zf:
            zf.writestr(fetch.MODEL_MEMBER, b"landmarks")
            zf.writestr(fetch.DETECTOR_MEMBER, b"detector2")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch.subprocess, "run", fake_pip)
    assert fetch.fetch_model() == model and not calls  # the landmark model alone is cached: no download
    assert fetch.fetch_models()[1].read_bytes() == b"detector2" and len(calls) == 1
    assert fetch.fetch_models() and len(calls) == 1


def test_require_detector_names_the_command(cache):
    with pytest.raises(FileNotFoundError, match="vatl blazepose fetch"):
        fetch.require_detector()
