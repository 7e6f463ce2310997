"""The routes beyond int8 in a real run on the packaged model: model2vec's distillation as a route judged by the
task alone, a length cap that really cuts the inputs, and the frontier drawn from the run."""

from __future__ import annotations

import pytest

from tests.task_files import write_pairs


def _plan(cache_root, routes, task=None):
    from tui.core import bench
    from tui.core.cpu import detect
    from tui.core.models import resolve_model
    from tui.core.workload import make_workload

    return bench.Plan(model=resolve_model(None), workload=make_workload(32, n_calibration=32), routes=routes,
                      cpu=detect(), batch_size=16, threads=1, max_rounds=3, min_rounds=3, time_budget_s=10,
                      cache_root=cache_root, ceilings=False, profile=False, invariance=False, kernels=False,
                      layers=False, task=task, max_task_loss=50.0 if task else 1.0)


def _run(plan):
    from tui.core import bench
    from tui.core.report import build_document

    return build_document(bench.run(plan, lambda event: None, lambda: False))


@pytest.mark.slow
def test_static_and_capped_routes_are_measured_judged_by_the_task_and_drawn_on_the_frontier(tmp_path,
                                                                                           shared_cache_root):
    from tui.core import frontier
    from tui.core.tasks import load_task

    task = load_task(str(write_pairs(tmp_path / "pairs.csv")))
    doc = _run(_plan(shared_cache_root, ("torch-fp32", "torch-qint8-x86", "torch-qint8-x86@len8", "static-m2v"),
                     task))
    routes = {r["id"]: r for r in doc["routes"]}
    assert all(r["status"] == "ok" for r in routes.values()), [(r["id"], r["why"]) for r in routes.values()]
    static, capped, plain = routes["static-m2v"], routes["torch-qint8-x86@len8"], routes["torch-qint8-x86"]
    assert static["accuracy"] is None and static["own_space"] and static["task"]["kept"]["point"] > 0
    assert static["facts"]["static-m2v_cache"] in ("built", "hit") and static["facts"]["dimensions"] == 256
    assert static["speedup"]["point"] > 1  # a lookup and a mean against a transformer, whatever the machine
    assert capped["max_seq_length"] == 8 and capped["facts"]["max_seq_length"] == 8
    assert 0 < capped["facts"]["texts_cut"] <= 32  # the default texts are longer than 8 tokens: the cap cut them
    assert capped["accuracy"]["cosine_mean"] < plain["accuracy"]["cosine_mean"]  # it reads less of each text
    front = doc["frontier"]
    assert front["available"] and front["points"] and set(front["routes"]) <= set(routes)
    for band in front["bands"]:  # each band's pick is what the recommendation gives at that budget
        assert frontier.pick_at(doc, band["from"])["route"] == band["route"]
    assert doc["recommendation"]["route"] == frontier.pick_at(doc, 50.0)["route"]
    headline = doc["finding"]["headline"]
    assert "static-m2v" not in headline and "@len" not in headline  # the int8 question is answered by int8 routes


@pytest.mark.slow
def test_a_static_route_without_a_task_is_measured_for_speed_and_never_recommended(shared_cache_root):
    doc = _run(_plan(shared_cache_root, ("torch-fp32", "static-m2v")))  # the distillation is cached by now
    static = doc["routes"][1]
    assert static["status"] == "ok" and static["throughput"] and static["accuracy"] is None
    assert doc["recommendation"]["route"] == "torch-fp32" and not doc["frontier"]["available"]
    unjudged = next(a for a in doc["advice"] if a["code"] == "static-unjudged")
    assert "--task" in unjudged["fix"]
