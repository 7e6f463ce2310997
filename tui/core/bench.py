"""The benchmark coordinator: one worker process per route, interleaved paired rounds, typed events.

Why processes: runtimes' thread pools spin after each call, and in one process torch, ONNX Runtime and
OpenVINO steal cores from each other (measured here: ORT int8 2.0× of torch fp32 in-process, 2.9× alone).
A worker per route also keeps the UI's GIL free, makes cancel instant (kill), and survives a crashing kernel.

`run` starts the workers (worker.py), prepares the routes and times the rounds (rounds.py), and runs the passes
of the registry (passes/) before and after the rounds; it owns cancelling, failing a route and cleaning up.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from tui.core.events import Event, FirstAnswer, RouteFailed, RoutePhase, RunDone, RunStarted
from tui.core.results import BenchResult, Plan, RouteResult
from tui.core.routes import BASELINE, ROUTES, RouteSpec, static_unavailability
from tui.core.routes import peers as peer_routes
from tui.core.worker import Cancelled, Worker, setup_for, stop_fork_server

__all__ = ["BenchResult", "Plan", "RouteResult", "run"]


def _start_resource_tracker() -> None:
    """multiprocessing's resource tracker inherits sys.stderr's descriptor; under a TUI that has replaced
    sys.stderr there is none, and spawning fails ("bad value(s) in fds_to_keep"). Give it /dev/null then."""
    import sys
    from multiprocessing import resource_tracker

    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        resource_tracker.ensure_running()
        return
    saved = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = saved



def first_answer_routes(plan: Plan, pending: list[str], *, rescue_may_run: bool) -> list[str] | None:
    """The routes measured before the others, or None for a run without a first answer.

    When something takes long before it can be timed (a route's build, the rescue), the seed question goes first:
    fp32, qnnpack (what users usually ran) and the engine this CPU wants, when the plan has them, else every route
    that prepares in seconds. fp32 alone answers nothing: then every route prepares first, as it always did."""
    from tui.core.engines import recommend

    engine = recommend(plan.cpu).engine
    first = [rid for rid in pending if rid in (BASELINE, "torch-qint8-qnnpack", f"torch-qint8-{engine}")]
    if len(first) < 2:
        first = [rid for rid in pending if not ROUTES[rid].builds]
    waits = rescue_may_run or any(ROUTES[rid].builds for rid in pending if rid not in first)
    return first if waits and len(first) > 1 else None


def run(plan: Plan, emit: Callable[[Event], None], cancel: Callable[[], bool] = lambda: False) -> BenchResult:
    """Measure every route in `plan`; emits events as it goes and returns the result (also in RunDone)."""
    from tui.core import passes, rounds, stats

    started = time.monotonic()
    result = BenchResult(plan, {rid: RouteResult(ROUTES[rid]) for rid in plan.routes},
                         created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    emit(RunStarted(plan.routes, len(plan.workload.texts), plan.batch_size, plan.threads, plan.max_rounds,
                    plan.time_budget_s, plan.task.name if plan.task is not None else None))
    workers: dict[str, Worker] = {}
    cancelled = False

    def fail(rid: str, status: str, why: str) -> None:
        r = result.routes[rid]
        r.status, r.why = status, why
        emit(RouteFailed(rid, status, why))
        if rid in workers:
            workers.pop(rid).kill()

    run_dir = Path(tempfile.mkdtemp(prefix="qtui-run-"))
    def start_worker(spec: RouteSpec, **setup) -> Worker:
        return Worker(spec, {**setup_for(plan, spec, run_dir), **setup})

    state = passes.RunState(plan, result, workers, emit, cancel, fail, start_worker, stats, run_dir)
    _start_resource_tracker()
    try:
        for rid in plan.routes:
            why = (static_unavailability(ROUTES[rid], plan.cpu)
                   or peer_routes.workload_problem(ROUTES[rid], len(plan.workload.texts)))
            if why:
                fail(rid, "unavailable", why)
        pending = [rid for rid in plan.routes if result.routes[rid].status == "pending"
                   and not ROUTES[rid].rescue]  # the rescue's routes need the layer pass first
        prepare = list(passes.enabled("prepare", plan))
        first = first_answer_routes(plan, pending, rescue_may_run=bool(prepare))
        staged = first is not None
        late = [rid for rid in pending if staged and rid not in first]
        for rid in pending:
            if rid not in late:
                emit(RoutePhase(rid, "starting"))
                workers[rid] = start_worker(ROUTES[rid])
            else:
                emit(RoutePhase(rid, "waiting"))

        state.baseline_embeddings = rounds.prepare_all(plan, workers, result, emit, cancel, fail)
        if result.routes[BASELINE].status != "ok":
            result.stop_reason = f"the fp32 baseline could not run ({result.routes[BASELINE].why})"
        else:
            joined, spent = 0, 0.0
            if staged:
                spent = rounds.measure(plan, workers, result, emit, cancel, fail, stats, first_answer=True)
                result.first_answer = {"after_s": round(time.monotonic() - started, 2), "rounds": result.rounds}
                emit(FirstAnswer(result.rounds, result.first_answer["after_s"], rounds.speedups(result, stats),
                                 {rid: ROUTES[rid].builds for rid in late}))
                for rid in late:
                    emit(RoutePhase(rid, "starting"))
                    workers[rid] = start_worker(ROUTES[rid])
                rounds.prepare_all(plan, workers, result, emit, cancel, fail, state.baseline_embeddings,
                                   routes=late)
            for p in prepare:  # the rescue: after the first answer when there is one, else before the rounds
                p.run(state)
            if staged and any(not result.routes[rid].seconds for rid in workers):
                joined, spent = result.rounds, 0.0  # the newcomers get the rounds and budget the others had
            if BASELINE in workers:
                rounds.measure(plan, workers, result, emit, cancel, fail, stats, joined_round=joined, spent_s=spent)
            for p in passes.enabled("after", plan):
                p.run(state)
        state.baseline_embeddings = None
    except Cancelled:
        cancelled = True
        result.stop_reason = "cancelled"
    finally:
        for worker in workers.values():
            worker.kill() if cancelled else worker.stop()  # a clean exit lets runtimes release their resources
        if cancelled:
            stop_fork_server()  # nothing of a cancelled run may outlive it, the server's imports included
        shutil.rmtree(run_dir, ignore_errors=True)  # worker logs (failure reasons are read by now), scratch artefacts
        for r in result.routes.values():
            if r.status == "pending":
                r.status, r.why = "failed", "cancelled before it finished"
        result.wall_s = time.monotonic() - started
        rounds.finish_statistics(result, stats)
        for p in passes.PASSES:
            if p.enabled(plan):
                p.settle(state, cancelled)
    emit(RunDone(result, cancelled))
    return result
