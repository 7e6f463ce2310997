"""Batch invariance: a text's vector alone, in its batch, and with other neighbours — synthetic and real."""

import numpy as np
import pytest

from tui.core.invariance import NEGLIGIBLE_DEVIATION, BatchInvariance, above_floor, compare, measure


def unit(n=8, dim=16, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim))


def test_compare_finds_the_text_that_moved():
    batched = unit()
    alone, rebatched = batched[:4].copy(), batched.copy()
    alone[2] = -alone[2]  # one text points the other way when encoded alone
    inv = compare(batched, rebatched, alone, batch_size=4)
    assert inv.alone_worst == pytest.approx(-1.0) and inv.alone_mean == pytest.approx(0.5)
    assert inv.order_worst == pytest.approx(1.0) and inv.texts_alone == 4 and inv.texts_rebatched == 8
    assert inv.deviation == pytest.approx(2.0)
    assert BatchInvariance.from_json(inv.to_json()).to_json() == inv.to_json()


def test_compare_refuses_arrays_that_cover_other_texts():
    with pytest.raises(ValueError, match="same texts"):
        compare(unit(4), unit(4), unit(5), batch_size=4)


def test_above_floor_needs_more_than_fp32_noise_and_more_than_negligible():
    def inv(worst):
        return BatchInvariance(8, 4, worst, worst, worst, worst, 8)

    floor = inv(1 - 1e-7)
    assert above_floor(inv(0.99), floor)
    assert not above_floor(inv(1 - NEGLIGIBLE_DEVIATION / 2), floor)  # bf16-sized rounding: not a finding
    assert not above_floor(inv(0.99), inv(0.995))  # a floor that noisy swallows it
    assert above_floor(inv(0.99), None)


class Scaled:
    """A fake runner whose vectors depend on the batch like dynamic int8's: scaled by the batch's longest text."""

    def encode(self, texts, batch_size):
        out = []
        for start in range(0, len(texts), batch_size):
            batch = texts[start:start + batch_size]
            longest = max(len(t) for t in batch)
            out += [[len(t), longest] for t in batch]
        return np.asarray(out, dtype=np.float32)


def test_measure_encodes_alone_and_rebatched_in_the_worker():
    texts = [f"text {'x' * i}" for i in range(12)]
    batched = Scaled().encode(texts, 4)
    inv = measure(Scaled(), texts, batched, batch_size=4, alone_texts=3)
    assert inv.texts_alone == 3 and inv.texts_rebatched == 8  # two of the run's batches, reversed
    assert inv.alone_worst < 0.999  # alone, a text is its own longest


@pytest.mark.slow
def test_dynamic_int8_moves_with_its_batch_and_fp32_does_not(tmp_path):
    """Real runs on the packaged model: 64 texts in batches of 32 against the same texts alone."""
    from tests.routes_on_model import run_route
    from tui.core.cpu import detect
    from tui.core.engines import recommend
    from tui.core.workload import make_workload

    texts = list(make_workload(64, n_calibration=0).texts)
    engine = recommend(detect()).engine
    results = {}
    for rid in ("torch-fp32", f"torch-qint8-{engine}"):
        run = run_route(rid, tmp_path)
        assert run.why_unavailable is None, run.why_unavailable
        results[rid] = measure(run.runner, texts, run.runner.encode(texts, 32), 32)
    floor, dynamic = results["torch-fp32"], results[f"torch-qint8-{engine}"]
    assert floor.deviation < NEGLIGIBLE_DEVIATION  # fp32: summation order and padding only
    assert above_floor(dynamic, floor), dynamic  # per-batch activation scales
