"""openvino-bf16 and openvino-int8-bf16 on the packaged model: run with bf16 stated where the CPU has bf16
units; unavailable with the reason where it has not (asked of detect(), asserted both ways)."""

import pytest

from tests.routes_on_model import fp32_reference, mean_cosine, run_route
from tui.core.cpu import detect

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("route_id, least_cosine", [("openvino-bf16", 0.995), ("openvino-int8-bf16", 0.97)])
def test_openvino_bf16_routes(route_id, least_cosine, tmp_path):
    run = run_route(route_id, tmp_path)
    if not detect().has_bf16_hardware:
        assert run.why_unavailable and "no bf16 hardware" in run.why_unavailable
        return
    assert run.why_unavailable is None
    assert run.facts["inference_precision"] == "bf16"  # stated, and what the plugin compiled with
    assert mean_cosine(run.embeddings, fp32_reference()) >= least_cosine


def test_openvino_fp32_states_f32_even_on_bf16_hardware(tmp_path):
    run = run_route("openvino-fp32", tmp_path)
    assert run.why_unavailable is None and run.facts["inference_precision"] == "f32"
    assert mean_cosine(run.embeddings, fp32_reference()) > 0.9999
