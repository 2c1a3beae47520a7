"""A small finished run with explain data: a synthetic video of 30 samples, THC+WPU+DUW, four cycles."""

from __future__ import annotations

from pathlib import Path

import pytest
from explain_runs import make_run


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> tuple[Path, Path]:
    return make_run(tmp_path_factory.mktemp("explain_run"))
