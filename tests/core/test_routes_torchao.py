"""torchao-int8 on the packaged model: runs where torchao is installed (make installs it), unavailable with
the install command where it is not."""

import importlib.util

import pytest

from tests.routes_on_model import fp32_reference, mean_cosine, run_route

pytestmark = pytest.mark.slow


def test_torchao_int8(tmp_path):
    run = run_route("torchao-int8", tmp_path)
    if importlib.util.find_spec("torchao") is None:
        assert run.why_unavailable and "pip install torchao" in run.why_unavailable
        return
    assert run.why_unavailable is None
    assert mean_cosine(run.embeddings, fp32_reference()) >= 0.98
