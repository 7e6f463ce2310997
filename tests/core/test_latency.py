"""The online pattern's statistics (tui/core/latency.py) on synthetic call times with known answers."""

import numpy as np
import pytest

from tui.core import latency


def rounds_of(rng, n_rounds, per_round, scale_ms, round_effect=None):
    """Call times: a lognormal spread around scale_ms, times a per-round factor (a busy neighbour)."""
    effect = round_effect if round_effect is not None else np.ones(n_rounds)
    return [list(scale_ms * effect[r] * rng.lognormal(0, 0.1, per_round)) for r in range(n_rounds)]


def test_quantiles_and_their_intervals_on_known_calls():
    rng = np.random.default_rng(1)
    times = rounds_of(rng, 20, 50, 4.0)
    out = latency.route_latency(times)
    flat = np.concatenate(times)
    assert out["calls"] == 1000 and out["rounds"] == 20 and out["tail_resolved"]
    for name, q in latency.QUANTILES:
        lo, hi = out[name]["ci95"]
        assert out[name]["ms"] == pytest.approx(np.quantile(flat, q))
        assert lo <= out[name]["ms"] <= hi
    assert out["p50"]["ms"] < out["p95"]["ms"] < out["p99"]["ms"]
    assert out["calls_per_s"] == pytest.approx(1000 / flat.mean())


def test_too_few_calls_leave_the_tail_unresolved_and_one_round_claims_no_interval():
    rng = np.random.default_rng(2)
    assert not latency.route_latency(rounds_of(rng, 4, 50, 4.0))["tail_resolved"]
    one = latency.route_latency(rounds_of(rng, 1, 50, 4.0))
    assert all(np.isnan(x) for x in one["p95"]["ci95"])


def test_a_route_twice_as_fast_is_conclusively_faster_and_the_same_route_is_not():
    rng = np.random.default_rng(3)
    base = rounds_of(rng, 20, 50, 4.0)
    fast = latency.latency_ratio(base, rounds_of(rng, 20, 50, 2.0))
    assert fast["point"] == pytest.approx(0.5, rel=0.1) and fast["ci95"][1] < 1 and fast["verdict"] == "faster"
    same = latency.latency_ratio(base, rounds_of(rng, 20, 50, 4.0))
    assert same["ci95"][0] < 1 < same["ci95"][1] and same["verdict"] == "inconclusive"


def test_pairing_by_round_sees_through_a_slowdown_both_routes_shared():
    """Rounds 1–3× slower at random, the same rounds for both: 10 % faster stays conclusive, because a round
    is resampled for both routes at once."""
    rng = np.random.default_rng(4)
    effect = rng.uniform(1, 3, 20)
    base = rounds_of(rng, 20, 50, 4.0, effect)
    route = rounds_of(rng, 20, 50, 3.6, effect)
    ratio = latency.latency_ratio(base, route)
    assert ratio["verdict"] == "faster" and ratio["ci95"][1] < 1


def _doc(times_ms: dict, cosines: dict) -> dict:
    routes = [{"id": rid, "status": "ok", "accuracy": {"cosine_mean": cosines[rid]}, "task": None}
              for rid in times_ms]
    doc = {"routes": routes, "min_cosine": 0.99, "task": None, "workload": {"texts": 64}}
    latency.attach(doc, {"times_ms": times_ms, "target_calls": 1000, "calls_per_round": 50, "budget_s": 60.0,
                         "stopped": "calls"}, "torch-fp32")
    return doc


def test_online_goes_to_the_lowest_p95_among_accurate_conclusive_routes():
    rng = np.random.default_rng(5)
    times = {"torch-fp32": rounds_of(rng, 20, 50, 4.0), "ort-qint8": rounds_of(rng, 20, 50, 2.0),
             "openvino-int8": rounds_of(rng, 20, 50, 2.5), "torch-qint8-x86": rounds_of(rng, 20, 50, 1.0)}
    doc = _doc(times, {"torch-fp32": 1.0, "ort-qint8": 0.995, "openvino-int8": 0.999, "torch-qint8-x86": 0.95})
    rec = doc["latency"]["recommendation"]
    assert rec["route"] == "ort-qint8"  # x86 answers fastest, but misses the accuracy gate
    alone = _doc({k: times[k] for k in ("torch-fp32", "torch-qint8-x86")}, {"torch-fp32": 1.0, "torch-qint8-x86": 0.95})
    assert alone["latency"]["recommendation"] == {"route": "torch-fp32", "why": "torch-qint8-x86 answers faster "
                                                  "but misses the accuracy gate (mean cosine ≥ 0.99)"}
    assert doc["routes"][0]["latency"].get("vs_fp32") is None
    assert doc["routes"][1]["latency"]["vs_fp32"]["verdict"] == "faster"
    headers, rows = latency.table(doc)
    assert [row[0] for row in rows] == list(times) and rows[0][-1] == "ref"
    assert latency.table(doc, narrow=True)[0] == list(latency.NARROW)
    assert any("For online: ort-qint8" in line for line in latency.conclusions(doc))


def test_without_a_conclusive_win_online_stays_fp32_and_a_short_tail_is_said():
    rng = np.random.default_rng(6)
    times = {"torch-fp32": rounds_of(rng, 4, 50, 4.0), "ort-qint8": rounds_of(rng, 4, 50, 4.0)}
    doc = _doc(times, {"torch-fp32": 1.0, "ort-qint8": 0.999})
    assert doc["latency"]["recommendation"]["route"] == "torch-fp32"
    assert doc["latency"]["recommendation"]["why"] == "no route's p95 was conclusively below fp32's"
    said = " ".join(latency.conclusions(doc))
    assert "not resolved" in said and "torch-fp32, ort-qint8" in said
    assert "(unresolved)" in latency.table(doc)[1][0][4]


def test_no_latency_pass_leaves_the_fields_empty():
    doc = {"routes": [{"id": "torch-fp32"}]}
    latency.attach(doc, None, "torch-fp32")
    assert doc["latency"] is None and doc["routes"][0]["latency"] is None


def test_the_finding_names_the_route_for_online_with_both_p95s():
    rng = np.random.default_rng(7)
    times = {"torch-fp32": rounds_of(rng, 20, 50, 8.0), "ort-qint8": rounds_of(rng, 20, 50, 3.0)}
    doc = _doc(times, {"torch-fp32": 1.0, "ort-qint8": 0.999})
    doc["baseline"] = "torch-fp32"
    clause = latency.finding_clause(doc)
    p95 = {r["id"]: r["latency"]["p95"]["ms"] for r in doc["routes"]}
    assert clause == (f" Online (one text per call): ort-qint8, p95 {p95['ort-qint8']:.1f} ms vs fp32 "
                      f"{p95['torch-fp32']:.1f} ms.")
    assert latency.finding_clause({"routes": []}) == ""
