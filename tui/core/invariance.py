"""Does a text's vector depend on the batch it was encoded in?

Dynamic int8 computes activation scales over the whole batch, so a text's vector shifts with its neighbours
and its padding (onnxruntime#10111): an index built in batches of 64 and queried one text at a time disagrees
with itself. The worker encodes some of the run's texts again — in batches of the run's size but with other
neighbours (the subset reversed), and alone — and this module compares each text's own vectors. fp32 gives
the floor: its vectors move only by summation order and padding, far below anything retrieval notices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy only where vectors are compared: the advice reads the JSON without it
    import numpy as np

ALONE_TEXTS = 32  # texts encoded one at a time: enough for a worst case, cheap even for slow routes
REBATCHED_BATCHES = 2  # the reversed subset spans this many of the run's batches, so neighbours really change
# Below this, a text's vectors are the same for retrieval: bf16's rounding alone moves them by ~4e-5.
NEGLIGIBLE_DEVIATION = 1e-4


@dataclass(frozen=True)
class BatchInvariance:
    texts_alone: int  # how many texts were also encoded alone
    batch_size: int
    alone_mean: float  # cosine between a text's vector in the run's batches and encoded alone
    alone_worst: float
    order_mean: float  # … and in batches of the same size with other neighbours (other padding)
    order_worst: float
    texts_rebatched: int = 0

    @property
    def worst(self) -> float:
        return min(self.alone_worst, self.order_worst)

    @property
    def deviation(self) -> float:
        """1 − the worst cosine between a text's own vectors."""
        return max(0.0, 1.0 - self.worst)

    def to_json(self) -> dict:
        return {"texts_alone": self.texts_alone, "texts_rebatched": self.texts_rebatched, "batch_size": self.batch_size,
                "alone_cos_mean": round(self.alone_mean, 8), "alone_cos_worst": round(self.alone_worst, 8),
                "order_cos_mean": round(self.order_mean, 8), "order_cos_worst": round(self.order_worst, 8)}

    @classmethod
    def from_json(cls, d: dict) -> BatchInvariance:
        return cls(d["texts_alone"], d["batch_size"], d["alone_cos_mean"], d["alone_cos_worst"],
                   d["order_cos_mean"], d["order_cos_worst"], d.get("texts_rebatched", 0))


def _own_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import numpy as np

    from tui.core.accuracy import rowwise_cosine

    return rowwise_cosine(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


def compare(batched: np.ndarray, rebatched: np.ndarray, alone: np.ndarray, batch_size: int) -> BatchInvariance:
    """`batched`: the run's vectors of every text; `rebatched` and `alone`: the first texts' vectors, encoded
    with other neighbours and one by one."""
    n = batched.shape[0]
    if not 0 < alone.shape[0] <= n or not 0 < rebatched.shape[0] <= n:
        raise ValueError(f"shapes do not cover the same texts: {batched.shape}, {rebatched.shape}, {alone.shape}")
    by_alone = _own_cosines(batched[:len(alone)], alone)
    by_order = _own_cosines(batched[:len(rebatched)], rebatched)
    return BatchInvariance(len(alone), batch_size, float(by_alone.mean()), float(by_alone.min()),
                           float(by_order.mean()), float(by_order.min()), len(rebatched))


def measure(runner, texts: list[str], batched: np.ndarray, batch_size: int,
            alone_texts: int = ALONE_TEXTS) -> BatchInvariance:
    """In the worker, after the rounds: encode the first texts again, reversed in batches of the run's size
    and one by one, and compare with `batched` (the route's vectors from the run's own batches)."""
    subset = texts[:max(alone_texts, REBATCHED_BATCHES * batch_size)]
    rebatched = runner.encode(subset[::-1], batch_size)[::-1]
    alone = runner.encode(texts[:alone_texts], 1)  # batches of one: each text alone, without a call per text
    return compare(batched, rebatched, alone, batch_size)


def above_floor(route: BatchInvariance, floor: BatchInvariance | None) -> bool:
    """Whether a route's vectors move with their batch by more than fp32's own do, and enough to matter."""
    floor_deviation = floor.deviation if floor else 0.0
    return route.deviation > max(10 * floor_deviation, NEGLIGIBLE_DEVIATION)
