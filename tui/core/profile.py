"""Where the time goes: torch.profiler over one batch, self time bucketed into op categories, and the
Amdahl bound that the Linear share puts on any int8 speedup.

Runs inside a route's worker process (the same isolation as the timed rounds). Categorisation is by the
nearest ancestor op with a known category, so the copy an `aten::linear` makes of a strided input counts
as Linear time, not "other".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LINEAR = ("dense Linear", "quantized Linear")
CATEGORIES = ("quantized Linear", "dense Linear", "quantize/dequantize", "attention", "GELU", "LayerNorm",
              "embedding", "other")

_RULES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (category, re.compile(pattern))
    for category, pattern in [
        ("quantize/dequantize", r"quantize_per_|dequantize|choose_qparams|fake_quant"),
        ("quantized Linear", r"^quantized::linear|linear_dynamic|fbgemm_linear|onednn.*linear|qlinear"),
        ("dense Linear", r"^aten::(linear|addmm|mm)$|mkldnn_linear|_mkl_linear|mkldnn::_linear_pointwise"),
        ("attention", r"scaled_dot_product|^aten::(bmm|baddbmm|_?softmax|matmul)$"),
        ("GELU", r"^aten::gelu"),
        ("LayerNorm", r"layer_norm"),
        ("embedding", r"^aten::(embedding|index_select)"),
    ]
)


def categorize(op_name: str) -> str | None:
    """The category of a profiler op name, or None when it has none of its own."""
    for category, pattern in _RULES:
        if pattern.search(op_name):
            return category
    return None


@dataclass(frozen=True)
class OpProfile:
    ms: dict  # category → milliseconds of self time in one batch
    total_ms: float
    batch_size: int

    def ms_of(self, *categories: str) -> float:
        return sum(self.ms.get(c, 0.0) for c in categories)

    def share(self, *categories: str) -> float:
        return self.ms_of(*categories) / self.total_ms if self.total_ms else 0.0

    @property
    def linear_share(self) -> float:
        return self.share(*LINEAR)

    @property
    def linear_work_ms(self) -> float:
        """The Linear layers with their activation quantization: what int8 replaces."""
        return self.ms_of(*LINEAR, "quantize/dequantize")

    @property
    def rest_ms(self) -> float:
        """Everything outside the Linear layers and their activation quantization."""
        return self.total_ms - self.linear_work_ms

    def to_json(self) -> dict:
        return {"ms": {c: round(self.ms.get(c, 0.0), 3) for c in CATEGORIES}, "total_ms": round(self.total_ms, 3),
                "batch_size": self.batch_size}

    @classmethod
    def from_json(cls, data: dict) -> OpProfile:
        return cls(dict(data["ms"]), float(data["total_ms"]), int(data.get("batch_size", 0)))


def attribute(events) -> dict[str, float]:
    """Self CPU time (µs) per category; an op without a category inherits its nearest categorised ancestor's."""
    totals = dict.fromkeys(CATEGORIES, 0.0)
    for event in events:
        node, category = event, None
        while node is not None and category is None:
            category = categorize(node.name)
            node = node.cpu_parent
        totals[category or "other"] += event.self_cpu_time_total
    return totals


def profile_runner(runner, texts: list[str], batch_size: int, passes: int = 3) -> OpProfile:
    """Profile a forward pass of a torch route over the first batch (after a warm-up of the same batch).

    The fastest of `passes` profiled passes is kept: on a shared machine one pass can catch a neighbour's
    burst, and the profile's shares feed the Amdahl figures, which compare with the timed rounds."""
    import os

    import torch
    from torch.profiler import ProfilerActivity, profile

    os.environ.setdefault("KINETO_LOG_LEVEL", "5")  # kineto's start/stop lines are noise here
    batch = texts[:batch_size]
    model = runner.model
    best = None
    with torch.inference_mode():
        # Made inside inference mode like encode's: a compiled route's guards tell the two kinds of tensor
        # apart, and other inputs would make it recompile (~10 s) just to be profiled.
        features = model.preprocess(batch) if hasattr(model, "preprocess") else model.tokenize(batch)
        model(features)
        for _ in range(passes):
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                model(features)
            totals = attribute(prof.events())
            if best is None or sum(totals.values()) < sum(best.values()):
                best = totals
    return OpProfile({c: us / 1000 for c, us in best.items()}, sum(best.values()) / 1000, len(batch))


def amdahl_bound(linear_share: float, k: float) -> float:
    """The speedup ceiling when only the Linear share f gets k× faster: 1 / ((1 − f) + f / k)."""
    if not 0 <= linear_share <= 1 or k <= 0:
        raise ValueError("linear share must be in [0, 1] and k positive")
    return 1.0 / ((1.0 - linear_share) + linear_share / k)
