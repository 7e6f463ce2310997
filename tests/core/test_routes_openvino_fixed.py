"""openvino-int8-fixed on the packaged model: the same int8 IR as openvino-int8, run with shapes fixed per
(batch, length bucket) — the same vectors, one compilation per shape met, reused on the next pass."""

import numpy as np
import pytest

from tests.routes_on_model import TEXTS, fp32_reference, mean_cosine, run_route
from tui.core.onnx_route import batches_by_length
from tui.core.openvino_route import padded_to_bucket
from tui.core.routes.openvino import LENGTH_BUCKET


def test_padding_to_a_bucket_pads_with_zeros_only_as_far_as_needed():
    feeds = {"input_ids": np.ones((2, 5), dtype=np.int64), "attention_mask": np.ones((2, 5), dtype=np.int64)}
    padded = padded_to_bucket(feeds, 4)
    assert padded["input_ids"].shape == (2, 8) and not padded["attention_mask"][:, 5:].any()
    assert padded_to_bucket({"input_ids": np.ones((1, 8))}, 4)["input_ids"].shape == (1, 8)


@pytest.mark.slow
def test_fixed_shapes_give_the_dynamic_routes_vectors_and_compile_once_per_shape(tmp_path):
    fixed = run_route("openvino-int8-fixed", tmp_path)
    assert fixed.why_unavailable is None
    dynamic = run_route("openvino-int8", tmp_path)  # the same cached IR
    assert mean_cosine(fixed.embeddings, dynamic.embeddings) > 0.999  # static vs dynamic kernels, same weights
    assert mean_cosine(fixed.embeddings, fp32_reference()) >= 0.97
    runner = fixed.runner
    shapes = set()
    for idx in batches_by_length(TEXTS, 4):  # the batches run_route encoded
        ids = runner.tokenize([TEXTS[i] for i in idx], runner.input_names)["input_ids"]
        shapes.add((ids.shape[0], -(-ids.shape[1] // LENGTH_BUCKET) * LENGTH_BUCKET))
    assert runner.facts["fixed_shapes_compiled"] == len(shapes) and runner.facts["length_bucket"] == LENGTH_BUCKET
    assert set(runner.fixed) == shapes
    runner.encode(TEXTS, 4)  # the same shapes again: nothing new to compile
    assert runner.facts["fixed_shapes_compiled"] == len(shapes)
