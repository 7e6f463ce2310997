import math
import warnings

import numpy as np
import pytest

from tui.core import accuracy
from tui.core.accuracy import Accuracy, compare, noise_floor

N, DIM = 100, 32


def embeddings(seed: int, n: int = N, dim: int = DIM) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def on_circle(degrees: list[float]) -> np.ndarray:
    radians = np.deg2rad(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


def test_identical_embeddings_are_perfect():
    ref = embeddings(0)
    acc = compare(ref, ref.copy())
    assert acc.cosine_mean == pytest.approx(1.0, abs=1e-9)
    assert acc.cosine_min == pytest.approx(1.0, abs=1e-9)
    assert acc.topk_overlap == 1.0
    assert acc.spearman == 1.0
    assert acc.k == 10


def test_small_perturbation_is_close_but_not_perfect():
    ref = embeddings(1)
    cand = ref + 0.02 * np.random.default_rng(2).normal(size=ref.shape)
    acc = compare(ref, cand)
    assert 0.99 < acc.cosine_mean < 1.0
    assert acc.cosine_min < acc.cosine_mean
    assert acc.topk_overlap > 0.8
    assert 0.99 < acc.spearman < 1.0


def test_unrelated_embeddings_have_low_overlap_and_no_correlation():
    acc = compare(embeddings(3), embeddings(4))
    assert acc.topk_overlap < 0.3  # chance level is k / (n - 1) ≈ 0.1
    assert abs(acc.cosine_mean) < 0.1
    assert abs(acc.spearman) < 0.1


def test_topk_overlap_on_a_known_example():
    # Nearest neighbours (k=1) by angle: reference 0→10, 10→0, 30→10, 70→30;
    # candidate moves 30° to 19°, so 10's neighbour becomes 19: one of four queries changes.
    ref = on_circle([0, 10, 30, 70])
    cand = on_circle([0, 10, 19, 70])
    assert compare(ref, cand, k=1).topk_overlap == pytest.approx(0.75)


def test_rows_are_normalised_not_assumed_unit():
    ref = embeddings(5)
    scales = np.random.default_rng(6).uniform(0.1, 10.0, size=(N, 1))
    acc = compare(ref, ref * scales)
    assert acc.cosine_min == pytest.approx(1.0, abs=1e-9)
    assert acc.topk_overlap == 1.0
    assert acc.spearman == pytest.approx(1.0)


def test_zero_vectors_do_not_crash_or_warn():
    ref = embeddings(7, n=20)
    cand = ref.copy()
    ref[0] = cand[0] = 0.0  # the same zero output in both runs
    cand[1] = 0.0  # a route that lost one text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        acc = compare(ref, cand)
    assert acc.cosine_min == 0.0
    assert acc.cosine_mean == pytest.approx(19 / 20)
    assert 0.0 < acc.topk_overlap < 1.0


def test_k_is_clipped_to_the_other_texts():
    ref = embeddings(8, n=5)
    acc = compare(ref, ref, k=10)
    assert acc.k == 4 and acc.topk_overlap == 1.0


def test_a_single_text_has_perfect_retrieval_and_ranking():
    ref = embeddings(9, n=1)
    acc = compare(ref, -ref)
    assert acc.cosine_mean == pytest.approx(-1.0)
    assert acc.topk_overlap == 1.0 and acc.spearman == 1.0


def test_constant_reference_similarities_make_spearman_undefined_not_a_crash():
    ref = np.ones((6, 4))
    cand = embeddings(10, n=6, dim=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        acc = compare(ref, cand)
    assert math.isnan(acc.spearman)
    assert acc.to_json()["spearman"] is None


def test_constant_similarities_on_both_sides_are_a_perfect_rank_match():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        acc = compare(np.ones((6, 4)), 2 * np.ones((6, 4)))
    assert acc.spearman == 1.0


@pytest.mark.parametrize("shapes", [((10, 8), (10, 9)), ((10, 8), (9, 8))])
def test_shape_mismatch_raises(shapes):
    with pytest.raises(ValueError, match="shapes differ"):
        compare(np.zeros(shapes[0]), np.zeros(shapes[1]))


def test_non_2d_input_raises():
    with pytest.raises(ValueError, match="2-D"):
        compare(np.zeros(8), np.zeros(8))


def test_nan_embeddings_raise_a_clear_error():
    cand = embeddings(11)
    cand[3, 0] = np.nan
    with pytest.raises(ValueError, match="candidate .* NaN or inf in 1 of 100 rows"):
        compare(embeddings(11), cand)


def test_blocked_retrieval_matches_a_single_block(monkeypatch):
    ref = embeddings(12)
    cand = ref + 0.2 * np.random.default_rng(13).normal(size=ref.shape)
    whole = compare(ref, cand)
    monkeypatch.setattr(accuracy, "BLOCK_ELEMENTS", 7 * N)  # 7 rows per block, last block partial
    assert compare(ref, cand) == whole


def test_spearman_on_a_subset_of_texts_stays_close(monkeypatch):
    ref = embeddings(14)
    cand = ref + 0.2 * np.random.default_rng(15).normal(size=ref.shape)
    whole = compare(ref, cand).spearman
    monkeypatch.setattr(accuracy, "MAX_SPEARMAN_TEXTS", 60)
    subset = compare(ref, cand).spearman
    assert subset != whole
    assert subset == pytest.approx(whole, abs=0.05)


def test_noise_floor_is_compare_between_two_fp32_runs():
    a = embeddings(16)
    b = a + 1e-6 * np.random.default_rng(17).normal(size=a.shape)
    assert noise_floor(a, b, k=5) == compare(a, b, k=5)
    assert noise_floor(a, b).cosine_mean > 0.999999


def test_to_json_rounds_to_six_digits():
    acc = Accuracy(0.12345678, 0.5, 0.987654321, 0.3333333333, 10)
    assert acc.to_json() == {"cosine_mean": 0.123457, "cosine_min": 0.5, "topk_overlap": 0.987654,
                             "spearman": 0.333333}
