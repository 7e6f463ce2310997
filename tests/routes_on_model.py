"""Run a registry route on the packaged model as a worker would: static check, prepare, encode, compare.

For the per-route tests: each asks `detect()` whether its route can run on this host and asserts the right
thing both ways — measured against fp32 where it runs, unavailable with the reason where it cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

TEXTS = [
    "The cat sat quietly on the warm windowsill.", "How do I reset my password?",
    "Quarterly revenue grew by twelve percent.", "Rain is expected in the mountains tomorrow afternoon.",
    "She read the letter twice and then burned it.", "Fresh bread smells wonderful.",
    "Int8 quantization can be slower than fp32 on some CPUs.", "The train to Berlin leaves at seven.",
    "Our team shipped the new compiler after months of work.", "He forgot his umbrella again.",
    "The committee postponed the vote until the next meeting because several members were travelling.", "Yes.",
]
CALIBRATION = [f"Calibration sentence number {i} talks about {w}." for i, w in
               enumerate(["weather", "trains", "bread", "compilers", "music", "football", "taxes", "rivers"])]


@dataclass
class RouteRun:
    why_unavailable: str | None  # from the static check or prepare(); None when the route ran
    embeddings: np.ndarray | None = None
    facts: dict | None = None
    prepare_s: float | None = None
    runner: object | None = None  # the prepared route, for tests that go on using it


def run_route(route_id: str, tmp: Path, calibration: list[str] = CALIBRATION, batch_size: int = 4) -> RouteRun:
    import time

    from tui.core.cpu import detect
    from tui.core.models import resolve_model
    from tui.core.routes import ROUTES, PrepareContext, RouteUnavailable, prepare, static_unavailability

    spec = ROUTES[route_id]
    why = static_unavailability(spec, detect())
    if why:
        return RouteRun(why)
    model = resolve_model(None)
    ctx = PrepareContext(model_dir=model.path, model_fingerprint=model.fingerprint, threads=2,
                         calibration=list(calibration), cache_root=tmp / "cache", scratch=tmp)
    start = time.perf_counter()
    try:
        runner = prepare(spec, ctx)
    except RouteUnavailable as exc:
        return RouteRun(str(exc))
    prepare_s = time.perf_counter() - start
    return RouteRun(None, runner.encode(TEXTS, batch_size), dict(runner.facts), prepare_s, runner)


def fp32_reference() -> np.ndarray:
    from tui.core.models import load_sentence_transformer, resolve_model

    model = load_sentence_transformer(resolve_model(None).path)
    return model.encode(TEXTS, batch_size=4, show_progress_bar=False, normalize_embeddings=False)


def mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(((a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).mean())
