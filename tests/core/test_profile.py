from dataclasses import dataclass

import pytest

from tui.core.profile import CATEGORIES, OpProfile, amdahl_bound, attribute, categorize


@pytest.mark.parametrize("name, category", [
    ("aten::addmm", "dense Linear"), ("aten::linear", "dense Linear"), ("aten::mm", "dense Linear"),
    ("quantized::linear_dynamic", "quantized Linear"), ("aten::quantize_per_tensor_dynamic", "quantize/dequantize"),
    ("aten::dequantize", "quantize/dequantize"), ("aten::_scaled_dot_product_flash_attention_for_cpu", "attention"),
    ("aten::bmm", "attention"), ("aten::softmax", "attention"), ("aten::gelu", "GELU"),
    ("aten::native_layer_norm", "LayerNorm"), ("aten::index_select", "embedding"), ("aten::embedding", "embedding"),
    ("mkldnn::_linear_pointwise", "dense Linear"), ("onednn::qlinear_pointwise", "quantized Linear"),
    ("aten::add", None), ("aten::copy_", None),
])
def test_categorize(name, category):
    assert categorize(name) == category


@dataclass
class Ev:
    name: str
    self_cpu_time_total: float
    cpu_parent: "Ev | None" = None


def test_uncategorised_ops_inherit_their_ancestors_category():
    linear = Ev("aten::linear", 5)
    events = [linear, Ev("aten::copy_", 100, linear), Ev("aten::addmm", 300, linear), Ev("aten::add", 50)]
    totals = attribute(events)
    assert totals["dense Linear"] == 405 and totals["other"] == 50
    assert set(totals) == set(CATEGORIES)


def test_linear_share():
    p = OpProfile({"dense Linear": 60.0, "GELU": 10.0, "other": 30.0}, 100.0, 32)
    assert p.linear_share == pytest.approx(0.6)
    assert OpProfile.from_json(p.to_json()).linear_share == pytest.approx(0.6)


def test_amdahl_bound():
    assert amdahl_bound(0.0, 4) == 1.0
    assert amdahl_bound(1.0, 4) == pytest.approx(4.0)
    assert amdahl_bound(0.6, 2) == pytest.approx(1 / (0.4 + 0.3))
    with pytest.raises(ValueError):
        amdahl_bound(1.5, 2)
