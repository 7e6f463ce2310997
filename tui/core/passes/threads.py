"""--threads-sweep, after everything else: fp32 and the recommended int8 route at each thread count, paired and
alternated (the statistics and verdicts are thread_sweep.py's)."""

from __future__ import annotations

from tui.core.events import ThreadsStep
from tui.core.passes.base import Pass, RunState
from tui.core.rounds import speedups
from tui.core.routes import BASELINE, ROUTES
from tui.core.worker import Worker, WorkerDied


def run(state: RunState) -> None:
    state.result.threads_sweep = _threads_sweep(state)


def _threads_sweep(state: RunState) -> dict:
    """fp32 and the recommended int8 route at each thread count, paired and alternated (see thread_sweep.py).
    Each count gets its own worker pair: ONNX Runtime and OpenVINO fix their thread pools when a session is
    created, and one mechanism for every runtime is simpler than set_num_threads for torch alone. The run's
    own workers serve the run's thread count; preparation goes through the artefact cache, so a pair is warm."""
    from tui.core import thread_sweep

    plan, workers, result, emit, cancel = state.plan, state.workers, state.result, state.emit, state.cancel
    route, route_why = thread_sweep.pick_route(result.routes, speedups(result, state.stats), plan.min_cosine)
    ids = [BASELINE] + ([route] if route else [])
    texts, total, points = len(plan.workload.texts), len(plan.threads_sweep), []
    for done, count in enumerate(plan.threads_sweep):
        emit(ThreadsStep(count, done, total, "preparing"))
        if count == plan.threads:
            pair, own = {rid: workers[rid] for rid in ids if rid in workers}, {}
            measured = {rid: {"status": "ok", "threads_used": result.routes[rid].threads, "seconds": []}
                        if rid in pair else {"status": result.routes[rid].status, "why": result.routes[rid].why}
                        for rid in ids}
        else:
            own = {rid: state.start_worker(ROUTES[rid], threads=count, noise_floor=False,
                                           log_path=str(state.run_dir / f"{rid}-threads-{count}.log")) for rid in ids}
            pair = dict(own)
            measured = {}
        try:
            for rid in list(own):
                measured[rid] = _prepare_sweep_worker(own[rid], cancel)
                if measured[rid]["status"] != "ok":
                    pair.pop(rid)
            emit(ThreadsStep(count, done, total, "measuring"))
            _time_pair(pair, measured, plan.threads_sweep_rounds, cancel)
        except BaseException:
            for worker in own.values():
                worker.kill()
            raise
        for worker in own.values():
            worker.stop()
        points.append(thread_sweep.point(count, measured, texts, BASELINE, route))
        emit(ThreadsStep(count, done + 1, total, "done", points[-1]))
    return thread_sweep.document(baseline=BASELINE, route=route, route_why=route_why, counts=plan.threads_sweep,
                                 rounds=plan.threads_sweep_rounds, points=points)


def _prepare_sweep_worker(worker: Worker, cancel) -> dict:
    """Load and prepare one thread sweep worker: {"status": "ok", "threads_used", "seconds": []} or why not."""
    try:
        worker.receive(cancel)  # ("loaded",)
        worker.send("prepare")
        message = worker.receive(cancel)
    except WorkerDied as exc:
        return {"status": "failed", "why": str(exc)}
    if message[0] != "ready":
        return {"status": message[0], "why": message[1]}
    return {"status": "ok", "threads_used": message[1]["threads"], "seconds": []}


def _time_pair(pair: dict, measured: dict, rounds: int, cancel) -> None:
    """Rounds over the pair, the order alternating per round (fp32 first, then the route first, …); a worker that
    fails drops out with its reason and its times are discarded (they would pair with nothing)."""
    ids = list(pair)
    for r in range(rounds):
        for rid in (ids if r % 2 == 0 else ids[::-1]):
            if rid not in pair:
                continue
            try:
                pair[rid].send("run")
                message = pair[rid].receive(cancel)
            except WorkerDied as exc:
                message = ("failed", f"died in round {r + 1}: {exc}")
            if message[0] != "time":
                measured[rid].update(status="failed", why=message[1], seconds=[])
                pair.pop(rid)
                continue
            measured[rid]["seconds"].append(message[1])


def settle(state: RunState, cancelled: bool) -> None:
    """The report says why the sweep is missing: the baseline could not run, or the run was cancelled."""
    from tui.core import thread_sweep

    plan, result = state.plan, state.result
    if result.threads_sweep is not None:
        return
    why = ("the run was cancelled before the thread sweep finished" if cancelled else
           f"the fp32 baseline could not run ({result.routes[BASELINE].why})")
    result.threads_sweep = thread_sweep.unavailable(plan.threads_sweep, why, BASELINE)


PASS = Pass(name="threads", stage="after", enabled=lambda plan: bool(plan.threads_sweep), run=run,
            needs="a new fp32 and int8 worker pair per thread count (the run's own pair at its count)",
            writes=("threads_sweep",), cache="the artefact cache (each pair's preparation)",
            cost="a pair prepared and timed for threads_sweep_rounds rounds per count (benchmarks/threads_sweep.py)",
            quick=True, settle=settle)
