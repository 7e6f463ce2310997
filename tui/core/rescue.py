"""The fastest mix that keeps cosine ≥ the threshold: int8 everywhere except the layers that break it.

The layer evidence ranks every Linear by the cosine it loses when int8 alone. Keeping the top k of that
ranking in fp32 trades speed for accuracy; the search finds the smallest k whose mix reaches the threshold on
calibration texts (never the measured ones), by bisection — the cosine rises with k, up to measurement noise,
so a handful of quantize-and-encode steps replace trying every k. Runs in the route's worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from tui.core.cache import cache_key
from tui.core.json_cache import JsonCache

CACHE = JsonCache("mixes", "qtui.mix/1", "mix")


@dataclass(frozen=True)
class Mix:
    kept_fp32: tuple[str, ...]  # layer names left in floating point, most sensitive first
    total: int  # Linear layers the route could quantize
    cosine: float  # on the calibration texts
    steps: int  # mixes built and scored by the search


def mix_cache_key(route_id: str, model_fingerprint: str, texts_fingerprint: str, order: list[str],
                  min_cosine: float, torch_version: str) -> str:
    return cache_key("qtui.mix/1", route_id, model_fingerprint, texts_fingerprint, ",".join(order), str(min_cosine),
                     torch_version)


def mix_to_json(mix: Mix) -> dict:
    return asdict(mix)


def mix_from_json(d) -> Mix | None:
    try:
        return Mix(tuple(d["kept_fp32"]), int(d["total"]), float(d["cosine"]), int(d["steps"]))
    except (TypeError, KeyError, ValueError):
        return None


class NoMixReachesIt(Exception):
    """Even with every layer but the least sensitive in fp32 the threshold is missed."""


def fewest_kept(order: list[str], score: Callable[[tuple[str, ...]], float], min_cosine: float) -> Mix:
    """The smallest k such that keeping order[:k] in fp32 scores ≥ min_cosine; `score(kept)` builds and
    measures that mix. k = len(order) would be plain fp32: not a mix, so never the answer."""
    scores: dict[int, float] = {}

    def at(k: int) -> float:
        if k not in scores:
            scores[k] = score(tuple(order[:k]))
        return scores[k]

    lo, hi = 0, len(order) - 1  # invariant: the answer, if any, is in [lo, hi]
    if at(hi) < min_cosine:
        raise NoMixReachesIt(f"keeping {hi} of {len(order)} Linear layers in fp32 still gives cosine "
                             f"{scores[hi]:.4f} < {min_cosine}")
    while lo < hi:
        mid = (lo + hi) // 2
        if at(mid) >= min_cosine:
            hi = mid
        else:
            lo = mid + 1
    return Mix(tuple(order[:lo]), len(order), at(lo), len(scores))


def torch_mix(st_model, quantize: Callable[[list[str]], object], order: list[str], calibration: list[str],
              min_cosine: float, batch_size: int = 32, known: Mix | None = None):
    """(the mixed model, its Mix); `quantize(module_names)` returns a copy of the model with those quantized.
    `known`: a mix the search found before for the same model, texts and order (cached): built, not searched."""
    import torch

    from tui.core.layers import SENSITIVITY_TEXTS, linear_layers
    from tui.core.onnx_route import mean_cosine

    texts = calibration[:SENSITIVITY_TEXTS]
    prefix = _prefix_of_transformer(st_model)
    names = list(linear_layers(st_model))
    if known is not None and set(known.kept_fp32) <= set(names):
        return quantize([prefix + n for n in names if n not in known.kept_fp32]), known
    order = [n for n in order if n in names] + [n for n in names if n not in order]
    with torch.inference_mode():
        reference = st_model.encode(texts, batch_size=batch_size, show_progress_bar=False)
    built: dict[tuple[str, ...], object] = {}

    def score(kept: tuple[str, ...]) -> float:
        model = quantize([prefix + n for n in names if n not in kept])
        built[kept] = model
        with torch.inference_mode():
            return mean_cosine(reference, model.encode(texts, batch_size=batch_size, show_progress_bar=False))

    mix = fewest_kept(order, score, min_cosine)
    return built[mix.kept_fp32], mix


def _prefix_of_transformer(st_model) -> str:
    """The module-name prefix of the transformer inside the SentenceTransformer ("0.auto_model.")."""
    from tui.core.layers import transformer_of

    inner = transformer_of(st_model)
    for name, module in st_model.named_modules():
        if module is inner:
            return f"{name}." if name else ""
    return ""
