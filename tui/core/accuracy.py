"""How close a route's sentence embeddings stay to the fp32 reference on the same texts.

Three views, because each hides what another shows: per-text cosine (is each vector still pointing the same
way?), top-k retrieval overlap (would a search return the same neighbours?), and the rank correlation of all
pairwise similarities (is the geometry of the whole set preserved?).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

# Pairs grow as n²; 2000 texts already give ~2 M pairs, plenty for a rank correlation.
MAX_SPEARMAN_TEXTS = 2000
# Similarity rows are computed in blocks so a large --texts file cannot allocate an n×n matrix at once.
BLOCK_ELEMENTS = 1 << 22


def _json_float(x: float) -> float | None:
    # NaN is not valid JSON; null says "not measurable" to any parser.
    return None if math.isnan(x) else round(float(x), 6)


@dataclass(frozen=True)
class Accuracy:
    cosine_mean: float
    cosine_min: float
    topk_overlap: float
    spearman: float
    k: int

    def to_json(self) -> dict:
        return {"cosine_mean": _json_float(self.cosine_mean), "cosine_min": _json_float(self.cosine_min),
                "topk_overlap": _json_float(self.topk_overlap), "spearman": _json_float(self.spearman)}


def _check_pair(reference: np.ndarray, candidate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(reference, dtype=np.float64)
    cand = np.asarray(candidate, dtype=np.float64)
    if ref.ndim != 2 or cand.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (n_texts, dim); got shapes {ref.shape} and {cand.shape}")
    if ref.shape != cand.shape:
        raise ValueError(f"embedding shapes differ: reference {ref.shape} vs candidate {cand.shape}; "
                         "they must cover the same texts in the same order")
    if ref.shape[0] == 0:
        raise ValueError("no embeddings to compare (0 texts)")
    for name, array in (("reference", ref), ("candidate", cand)):
        bad_rows = int((~np.isfinite(array)).any(axis=1).sum())
        if bad_rows:
            raise ValueError(f"{name} embeddings contain NaN or inf in {bad_rows} of {array.shape[0]} rows")
    return ref, cand


def _unit_rows(x: np.ndarray) -> np.ndarray:
    # Zero vectors stay zero instead of dividing by zero; their similarity to everything is 0.
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def rowwise_cosine(ref: np.ndarray, cand: np.ndarray) -> np.ndarray:
    cos = np.einsum("ij,ij->i", _unit_rows(ref), _unit_rows(cand))
    # Two zero vectors are the same output; one zero vector against a real one is not.
    both_zero = ~ref.any(axis=1) & ~cand.any(axis=1)
    cos[both_zero] = 1.0
    # Rounding can push |cos| a hair past 1.
    return np.clip(cos, -1.0, 1.0)


def _topk_neighbours(unit: np.ndarray, rows: slice, k: int) -> np.ndarray:
    sims = unit[rows] @ unit.T
    query_ids = np.arange(sims.shape[0])
    sims[query_ids, query_ids + rows.start] = -np.inf  # a text is not its own neighbour
    # Stable sort breaks ties (duplicate texts) by index identically for both runs.
    return np.argsort(-sims, axis=1, kind="stable")[:, :k]


def _neighbour_mask(neighbours: np.ndarray, n: int) -> np.ndarray:
    mask = np.zeros((neighbours.shape[0], n), dtype=bool)
    np.put_along_axis(mask, neighbours, True, axis=1)
    return mask


def _topk_overlap(ref_unit: np.ndarray, cand_unit: np.ndarray, k: int) -> float:
    n = ref_unit.shape[0]
    block = max(1, BLOCK_ELEMENTS // n)
    shared = 0
    for start in range(0, n, block):
        rows = slice(start, min(start + block, n))
        ref_mask = _neighbour_mask(_topk_neighbours(ref_unit, rows, k), n)
        cand_mask = _neighbour_mask(_topk_neighbours(cand_unit, rows, k), n)
        shared += int((ref_mask & cand_mask).sum())
    return shared / (n * k)


def _spearman_subset(n: int) -> np.ndarray:
    if n <= MAX_SPEARMAN_TEXTS:
        return np.arange(n)
    # A fixed seed keeps the number reproducible run to run.
    return np.sort(np.random.default_rng(0).choice(n, MAX_SPEARMAN_TEXTS, replace=False))


def _pairwise_spearman(ref_unit: np.ndarray, cand_unit: np.ndarray) -> float:
    subset = _spearman_subset(ref_unit.shape[0])
    upper = np.triu_indices(subset.size, k=1)
    ref_pairs = (ref_unit[subset] @ ref_unit[subset].T)[upper]
    cand_pairs = (cand_unit[subset] @ cand_unit[subset].T)[upper]
    ref_constant = ref_pairs.size < 2 or np.ptp(ref_pairs) == 0
    cand_constant = cand_pairs.size < 2 or np.ptp(cand_pairs) == 0
    if np.array_equal(ref_pairs, cand_pairs) or (ref_constant and cand_constant):
        return 1.0  # nothing was reordered
    if ref_constant or cand_constant:
        return math.nan  # one side has no ranking at all; a correlation is undefined, not zero
    return float(spearmanr(ref_pairs, cand_pairs).statistic)


def compare(reference: np.ndarray, candidate: np.ndarray, *, k: int = 10) -> Accuracy:
    """Accuracy of candidate embeddings against the reference (same texts, same order)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ref, cand = _check_pair(reference, candidate)
    cosines = rowwise_cosine(ref, cand)
    n = ref.shape[0]
    if n < 2:
        # A single text has no neighbours and no pairs: retrieval and ranking are trivially unchanged.
        return Accuracy(float(cosines.mean()), float(cosines.min()), 1.0, 1.0, 0)
    k = min(k, n - 1)
    ref_unit, cand_unit = _unit_rows(ref), _unit_rows(cand)
    return Accuracy(float(cosines.mean()), float(cosines.min()), _topk_overlap(ref_unit, cand_unit, k),
                    _pairwise_spearman(ref_unit, cand_unit), k)


def noise_floor(reference_a: np.ndarray, reference_b: np.ndarray, *, k: int = 10) -> Accuracy:
    """The same measurement between two fp32 runs: what "perfect" looks like on this machine."""
    return compare(reference_a, reference_b, k=k)
