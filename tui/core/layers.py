"""Which Linear layers break int8, measured: each layer's input range and its sensitivity.

A per-tensor activation scale is set by the largest value in the tensor. When a few input channels carry
values tens of times above the rest (activation outliers, common in larger transformers' FFN and attention
output projections), that one scale crushes every other value into a handful of int8 steps. Two numbers per
Linear show it: the input's max |x| against its 99.9th percentile (the outliers), and the mean cosine lost
when only that layer is quantized (what they cost). Runs in a worker (torch is imported there); the result is
plain data for the report's `layers`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from tui.core.cache import cache_key
from tui.core.json_cache import JsonCache

# A channel whose max |x| is this many times the median channel's is an outlier channel: it alone sets a
# per-tensor scale. (max / p99.9 of all values misses them once they exceed 0.1 % of the values: 1 channel of
# 384 already is 0.26 %.)
OUTLIER_RATIO = 10.0
SENSITIVITY_TEXTS = 32  # texts per sensitivity pass: one pass per layer, so this bounds the cost
SCHEME = "int8 per-tensor dynamic activations (asymmetric, like FBGEMM and ORT), per-channel symmetric weights"
CACHE = JsonCache("layers", "qtui.layers/1", "layers")


def layers_cache_key(model_fingerprint: str, texts_fingerprint: str, torch_version: str) -> str:
    """The evidence depends on the weights, the texts and torch's arithmetic: nothing about the CPU."""
    return cache_key("qtui.layers/1", SCHEME, str(SENSITIVITY_TEXTS), model_fingerprint, texts_fingerprint,
                     torch_version)


@dataclass(frozen=True)
class LayerEvidence:
    name: str  # the Linear's name inside the transformer, e.g. "encoder.layer.3.output.dense"
    max_abs: float  # of its input over the texts (real tokens only)
    p999_abs: float  # 99.9th percentile of |input|
    channel_ratio: float  # the largest channel's max |x| over the median channel's
    outlier_channels: int  # channels at OUTLIER_RATIO × the median channel's max |x| or more
    cosine_loss: float  # mean (1 − cosine to fp32) when only this layer is int8

    @property
    def ratio(self) -> float:
        return self.max_abs / self.p999_abs if self.p999_abs > 0 else float("inf")

    @property
    def outlier(self) -> bool:
        return self.outlier_channels > 0

    def to_json(self) -> dict:
        return {"name": self.name, "max_abs": round(self.max_abs, 4), "p999_abs": round(self.p999_abs, 4),
                "ratio": round(self.ratio, 2), "channel_ratio": round(self.channel_ratio, 2),
                "outlier_channels": self.outlier_channels, "cosine_loss": round(self.cosine_loss, 6)}

    @classmethod
    def from_json(cls, d: dict) -> LayerEvidence:
        return cls(d["name"], d["max_abs"], d["p999_abs"], d["channel_ratio"], d["outlier_channels"],
                   d["cosine_loss"])


def transformer_of(st_model):
    """The Hugging Face model inside a SentenceTransformer (its Linear layers are what int8 routes quantize)."""
    first = st_model[0]
    return getattr(first, "auto_model", None) or getattr(first, "model", None) or first


def transformer_prefix(st_model) -> str:
    """The module-name prefix of the transformer inside the SentenceTransformer ("0.auto_model.")."""
    inner = transformer_of(st_model)
    for name, module in st_model.named_modules():
        if module is inner:
            return f"{name}." if name else ""
    return ""


def linear_layers(st_model) -> dict:
    import torch

    return {name: m for name, m in transformer_of(st_model).named_modules() if isinstance(m, torch.nn.Linear)}


def _batches(texts: list[str], batch_size: int) -> Iterator[list[str]]:
    for start in range(0, len(texts), batch_size):
        yield texts[start:start + batch_size]


@contextlib.contextmanager
def _real_token_mask(st_model) -> Iterator[dict]:
    """While inside, `holder["mask"]` is the attention mask of the batch being run: padding is left out of the
    ranges, since a service never sees it."""
    holder: dict = {}

    def keep(_module, args, kwargs):
        holder["mask"] = kwargs.get("attention_mask")

    handle = transformer_of(st_model).register_forward_pre_hook(keep, with_kwargs=True)
    try:
        yield holder
    finally:
        handle.remove()


def input_ranges(st_model, texts: list[str], batch_size: int = 32) -> dict[str, tuple[float, float, float, int]]:
    """Per Linear that runs, over the texts' real tokens: max |input|, its 99.9th percentile, the largest
    channel's max |input| over the median channel's, and how many channels are outliers."""
    import numpy as np
    import torch

    samples: dict[str, list] = {}
    channel_max: dict[str, torch.Tensor] = {}
    handles = []
    with _real_token_mask(st_model) as holder:
        def record(name):
            def hook(_module, args):
                x = args[0].detach()
                mask = holder.get("mask")
                if mask is not None and x.dim() == 3 and mask.shape == x.shape[:2]:
                    x = x[mask.bool()]
                x = x.abs().float().reshape(-1, x.shape[-1])
                samples.setdefault(name, []).append(x.reshape(-1).numpy())
                per_channel = x.amax(dim=0)
                channel_max[name] = torch.maximum(channel_max[name], per_channel) if name in channel_max \
                    else per_channel
            return hook

        for name, linear in linear_layers(st_model).items():
            handles.append(linear.register_forward_pre_hook(record(name)))
        try:
            with torch.inference_mode():
                for batch in _batches(texts, batch_size):
                    st_model.encode(batch, batch_size=batch_size, show_progress_bar=False)
        finally:
            for h in handles:
                h.remove()
    out = {}
    for name, parts in samples.items():
        values = np.concatenate(parts)
        channels = channel_max[name].numpy()
        median = float(np.median(channels)) or 1e-12
        out[name] = (float(values.max()), float(np.percentile(values, 99.9)), float(channels.max() / median),
                     int((channels >= OUTLIER_RATIO * median).sum()))
    return out


def _fake_int8_forward(linear):
    """The layer's forward as int8 would compute it: input and weight rounded to int8 grids, then fp32 math."""
    import torch
    import torch.nn.functional as F

    w = linear.weight.detach()
    w_scale = (w.abs().amax(dim=1) / 127).clamp(min=1e-12)
    w_q = torch.fake_quantize_per_channel_affine(w, w_scale, torch.zeros_like(w_scale, dtype=torch.int32), 0,
                                                 -128, 127)

    def forward(x):
        lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
        scale = max((hi - lo) / 255, 1e-12)
        x_q = torch.fake_quantize_per_tensor_affine(x, scale, int(round(-lo / scale)), 0, 255)
        return F.linear(x_q, w_q, linear.bias)

    return forward


@contextlib.contextmanager
def only_int8(linear) -> Iterator[None]:
    """This one layer computes as int8 while inside; every other layer stays fp32."""
    linear.forward = _fake_int8_forward(linear)
    try:
        yield
    finally:
        del linear.forward  # back to the class's forward


def sensitivities(st_model, texts: list[str], names: list[str], batch_size: int = 32,
                  progress=lambda done, total: None) -> dict[str, float]:
    """Per layer name: the mean cosine lost to fp32 when only that layer is int8."""
    import torch

    from tui.core.onnx_route import mean_cosine

    layers = linear_layers(st_model)
    with torch.inference_mode():
        reference = st_model.encode(texts, batch_size=batch_size, show_progress_bar=False)
        losses = {}
        for i, name in enumerate(names):
            with only_int8(layers[name]):
                quantized = st_model.encode(texts, batch_size=batch_size, show_progress_bar=False)
            losses[name] = max(0.0, 1.0 - mean_cosine(reference, quantized))
            progress(i + 1, len(names))
    return losses


def layer_evidence(st_model, texts: list[str], batch_size: int = 32, progress=lambda done, total: None,
                   ) -> list[LayerEvidence]:
    """Every Linear that runs, worst first (by cosine lost), with its input range."""
    texts = texts[:SENSITIVITY_TEXTS]
    ranges = input_ranges(st_model, texts, batch_size)
    losses = sensitivities(st_model, texts, list(ranges), batch_size, progress)
    found = [LayerEvidence(name, *ranges[name], losses[name]) for name in ranges]
    return sorted(found, key=lambda e: -e.cosine_loss)
