"""A scripted backend for dashboard tests: real core event types, chosen numbers, no processes."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tests.conftest import FIXTURES
from tests.synthetic import doc, fp32_profile, route
from tui.core.accuracy import Accuracy
from tui.core.cpu import load_cpuinfo_file
from tui.core.detect import Detection
from tui.core.engines import recommend
from tui.core.events import RoundDone, RouteFailed, RoutePhase, RouteReady, RunDone, RunStarted
from tui.core.report import attach_diagnosis
from tui.core.stats import Speedup

CPU = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen3-epyc-7r13.txt")
ROUTES = ("torch-fp32", "torch-qint8-qnnpack", "torch-qint8-x86", "openvino-int8")


@dataclass
class FakeResult:
    cancelled: bool


def seed_document() -> dict:
    d = doc([route("torch-fp32", profile=fp32_profile()), route("torch-qint8-qnnpack", 0.39, cosine=0.966),
             route("torch-qint8-x86", 2.3, cosine=0.995), route("openvino-int8", status="unavailable")])
    return attach_diagnosis(d, CPU)


class FakeBackend:
    """Emits the events of a three-route run; `pause` seconds between events lets tests act mid-run."""

    def __init__(self, rounds: int = 3, pause: float = 0.0, fail_plan: str | None = None,
                 fail_export: str | None = None, prune_note: str | None = None) -> None:
        self.rounds, self.pause, self.fail_plan, self.fail_export = rounds, pause, fail_plan, fail_export
        self.prune_note, self.prunes = prune_note, 0  # what pruning the cache after a run says, how often it ran
        self.plans = []
        self.exports = []

    def detect(self) -> Detection:
        return Detection(CPU, recommend(CPU))

    def plan(self, settings):
        from tui.errors import UserError

        if self.fail_plan:
            raise UserError(self.fail_plan)
        self.plans.append(settings)
        return settings

    def run(self, plan, emit, cancel):
        def step(event) -> bool:
            emit(event)
            if self.pause:
                time.sleep(self.pause)
            return cancel()

        events = [RunStarted(ROUTES, 128, 32, 2, self.rounds, 60.0)]
        for rid in ROUTES[:3]:
            events += [RoutePhase(rid, "preparing"),
                       RouteReady(rid, 0.5, 90.9 if rid == "torch-fp32" else 58.6,
                                  None if rid == "torch-fp32" else Accuracy(0.95, 0.9, 0.8, 0.97, 10))]
        events.append(RouteFailed("openvino-int8", "unavailable", "openvino not installed: pip install …"))
        for r in range(1, self.rounds + 1):
            events.append(RoundDone(r, self.rounds, 3.0 * r, 60.0,
                                    {"torch-fp32": 0.8, "torch-qint8-qnnpack": 2.0, "torch-qint8-x86": 0.35},
                                    {"torch-qint8-qnnpack": Speedup(0.4, (0.38, 0.42), "slower", r, 0.05),
                                     "torch-qint8-x86": Speedup(2.3, (2.2, 2.4), "faster", r, 0.04)}))
        for event in events:
            if step(event):
                emit(RunDone(None, True))
                return FakeResult(cancelled=True)
        emit(RunDone(None, False))
        return FakeResult(cancelled=False)

    def document(self, result) -> dict:
        return seed_document()

    def prune_cache(self) -> str | None:
        self.prunes += 1
        return self.prune_note

    def export(self, request, say):
        from tui.errors import UserError

        if self.fail_export:
            raise UserError(self.fail_export)
        self.exports.append(request)
        say(f"{request.route}: writing…")
        return request.out


def task_document() -> dict:
    """The seed run scored on STS-B (kept shares chosen, not measured): x86 keeps 99.4 % of fp32's Spearman."""
    from tests.synthetic import STSB_TASK

    base = route("torch-fp32", profile=fp32_profile())
    base["task"] = {"score": 0.8203, "ci95": [0.798, 0.842], "metrics": {}, "kept": None}
    d = doc([base, route("torch-qint8-qnnpack", 0.39, cosine=0.966, kept=(0.962, 0.951, 0.972)),
             route("torch-qint8-x86", 2.3, cosine=0.995, kept=(0.996, 0.994, 0.998)),
             route("openvino-int8", status="unavailable")], task=STSB_TASK, max_task_loss=1.0)
    return attach_diagnosis(d, CPU)


def threads_document(**failed) -> dict:
    """The seed document with a --threads-sweep of 1, 2, 4 threads (numbers chosen, not measured): fp32 keeps
    gaining to 4, the int8 route stops paying after 2. `failed` marks counts of the int8 route as failed."""
    from tests.synthetic import threads_sweep

    d = seed_document()
    d["threads_sweep"] = threads_sweep(
        {"torch-fp32": {1: 100, 2: 185, 4: 330}, "torch-qint8-x86": {1: 250, 2: 420, 4: 430}},
        route="torch-qint8-x86", spread=0.08,
        failed={("torch-qint8-x86", int(k.removeprefix("x86_at_"))): v for k, v in failed.items()})
    return attach_diagnosis(d, CPU)


def latency_document() -> dict:
    """The seed document with --pattern online (call times drawn from a seeded lognormal, not measured): x86
    answers a single text in about half fp32's time, qnnpack in about twice."""
    import numpy as np

    from tui.core import latency

    d = seed_document()
    rng = np.random.default_rng(0)
    scale = {"torch-fp32": 8.0, "torch-qint8-qnnpack": 17.0, "torch-qint8-x86": 4.0}
    times = {rid: [list(ms * rng.lognormal(0, 0.15, 50)) for _ in range(20)] for rid, ms in scale.items()}
    latency.attach(d, {"times_ms": times, "target_calls": 1000, "calls_per_round": 50, "budget_s": 60.0,
                       "stopped": "calls", "pass_s": 9.5}, "torch-fp32")
    return attach_diagnosis(d, CPU)


def processes_document() -> dict:
    """The seed document with --pattern processes on 2 threads (round times chosen, not measured): x86 int8
    gains a third from two processes of one thread, fp32 a little."""
    from tui.core import processes

    d = seed_document()
    base, route = "torch-fp32", "torch-qint8-x86"
    wobble = (0.98, 1.0, 1.02, 0.99, 1.01, 1.0)
    levels = {(1, 2): {base: 1.0, route: 0.5}, (2, 1): {base: 1.8, route: 0.75}}
    points = [processes.point(split, {rid: {"status": "ok", "threads_used": split[1], "facts": {},
                                            "seconds": [s * w for w in wobble]} for rid, s in times.items()},
                              128, base, route) for split, times in levels.items()]
    d["processes"] = processes.document(baseline=base, route=route, route_why="the recommended int8 route",
                                        variant_route=None, threads=2, splits=tuple(levels), rounds=6, points=points)
    processes.attach(d)
    return attach_diagnosis(d, CPU)
