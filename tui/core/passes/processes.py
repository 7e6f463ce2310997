"""--pattern processes, after the rounds: fp32 and the int8 route as P worker processes × T threads for each split
of the run's threads, and an OpenVINO route with the THROUGHPUT hint beside its LATENCY one (the statistics and
words are processes.py's).

In a round every group (a route's P processes) runs once, the groups taking turns in an order that rotates per
round, so fp32 and the int8 route pair by round as in the thread sweep. Within a group the P processes encode at
once: that is the pattern being measured. The split that uses one process with all the run's threads is served
by the run's own workers; every other split and the THROUGHPUT variant start workers of their own, prepared
through the artefact cache (warm after the rounds).
"""

from __future__ import annotations

from tui.core.events import ProcessesStep
from tui.core.passes.base import Pass, RunState
from tui.core.rounds import speedups
from tui.core.routes import BASELINE, ROUTES
from tui.core.worker import Worker, WorkerDied


def run(state: RunState) -> None:
    from tui.core import processes, thread_sweep

    plan, result = state.plan, state.result
    if BASELINE not in state.workers:
        return  # settle says why
    found = speedups(result, state.stats)
    route, route_why = thread_sweep.pick_route(result.routes, found, plan.min_cosine)
    variant = processes.pick_variant_route(result.routes, route, plan.min_cosine, found)
    ids = [BASELINE] + ([route] if route else [])
    points = []
    for done, split in enumerate(plan.process_splits):
        points.append(_measure_split(state, split, ids, variant, done))
    result.processes = processes.document(
        baseline=BASELINE, route=route, route_why=route_why, variant_route=variant, threads=plan.threads,
        splits=plan.process_splits, rounds=plan.processes_rounds, points=points)


def free_memory_mb() -> float:
    import psutil

    return psutil.virtual_memory().available / 2**20


def _measure_split(state: RunState, split: tuple[int, int], ids: list[str], variant: str | None, done: int) -> dict:
    from tui.core import processes

    plan, result, emit, cancel = state.plan, state.result, state.emit, state.cancel
    count, threads = split
    total = len(plan.process_splits)
    own_split = split == (1, plan.threads)
    group_ids = list(ids)
    if own_split and variant:  # the THROUGHPUT hint beside the route's own LATENCY one, in the same rounds
        group_ids += ([variant] if variant not in ids else []) + [processes.variant_id(variant, "throughput")]
    if count > 1:  # OpenVINO pins each process's threads to the same cores unless told not to: measure both
        group_ids += [processes.variant_id(rid, "unpinned") for rid in ids
                      if processes.has_variants(result.routes[rid])]
    texts = len(plan.workload.texts)
    need = {gid: result.routes[processes.variant_of(gid) or gid].peak_rss_mb for gid in group_ids}
    short = None if own_split else processes.memory_shortfall(count, need, free_memory_mb())
    if short:
        emit(ProcessesStep(count, threads, done + 1, total, "skipped"))
        return processes.point(split, {gid: {"status": "skipped", "why": short} for gid in group_ids}, texts,
                               BASELINE, ids[-1] if len(ids) > 1 else None)
    emit(ProcessesStep(count, threads, done, total, "preparing"))
    groups: dict[str, list[Worker]] = {}
    own: list[Worker] = []
    measured: dict[str, dict] = {}
    try:
        for gid in group_ids:
            of = processes.variant_of(gid)
            if own_split and not of and gid in state.workers:
                groups[gid] = [state.workers[gid]]
                measured[gid] = {"status": "ok", "threads_used": result.routes[gid].threads, "seconds": []}
                continue
            rid, kind = of or gid, processes.variant_kind(gid)
            tag = f"{count}x{threads}" + (f"-{kind}" if kind else "")
            started = [state.start_worker(ROUTES[rid], threads=threads, noise_floor=False, variant=kind,
                                          log_path=str(state.run_dir / f"{rid}-processes-{tag}-{i}.log"))
                       for i in range(count)]
            own += started
            groups[gid] = started
        for gid in group_ids:
            if gid not in measured:
                measured[gid] = _prepare_group(groups[gid], cancel)
                if measured[gid]["status"] != "ok":
                    groups.pop(gid)
        emit(ProcessesStep(count, threads, done, total, "measuring"))
        _time_groups(groups, measured, plan.processes_rounds, cancel)
    except BaseException:
        for worker in own:
            worker.kill()
        raise
    for worker in own:
        worker.stop()
    emit(ProcessesStep(count, threads, done + 1, total, "done"))
    return processes.point(split, measured, texts, BASELINE, ids[-1] if len(ids) > 1 else None)


def _prepare_group(workers: list[Worker], cancel) -> dict:
    """Load and prepare a group's processes together: {"status": "ok", "threads_used", "seconds": [], "facts"}
    or the first reason one of them could not."""
    try:
        for worker in workers:
            worker.receive(cancel)  # ("loaded",)
        for worker in workers:
            worker.send("prepare")
        answers = [worker.receive(cancel) for worker in workers]
    except WorkerDied as exc:
        return {"status": "failed", "why": str(exc)}
    bad = next((m for m in answers if m[0] != "ready"), None)
    if bad is not None:
        return {"status": bad[0], "why": bad[1]}
    info = answers[0][1]
    return {"status": "ok", "threads_used": info["threads"], "seconds": [], "facts": dict(info.get("facts") or {})}


def _time_groups(groups: dict[str, list[Worker]], measured: dict, rounds: int, cancel) -> None:
    """Rounds over the groups in an order that rotates per round; in its turn a group's processes all encode at
    once and the round's time runs from the first start to the last end. A group that fails drops out with its
    reason and its times are discarded (they would pair with nothing)."""
    ids = list(groups)
    for r in range(rounds):
        for gid in ids[r % len(ids):] + ids[:r % len(ids)]:
            if gid not in groups:
                continue
            try:
                for worker in groups[gid]:
                    worker.send("span")
                answers = [worker.receive(cancel) for worker in groups[gid]]
            except WorkerDied as exc:
                answers = [("failed", f"died in round {r + 1}: {exc}")]
            bad = next((m for m in answers if m[0] != "span"), None)
            if bad is not None:
                measured[gid].update(status="failed", why=bad[1], seconds=[])
                groups.pop(gid)
                continue
            measured[gid]["seconds"].append(max(m[2] for m in answers) - min(m[1] for m in answers))


def settle(state: RunState, cancelled: bool) -> None:
    """The report says why the processes are missing: the baseline could not run, or the run was cancelled."""
    from tui.core import processes

    plan, result = state.plan, state.result
    if result.processes is not None:
        return
    why = ("the run was cancelled before the processes were measured" if cancelled else
           f"the fp32 baseline could not run ({result.routes[BASELINE].why})")
    result.processes = processes.unavailable(plan.process_splits, plan.threads, why, BASELINE)


PASS = Pass(name="processes", stage="after", enabled=lambda plan: plan.pattern in ("processes", "all"), run=run,
            needs="P new workers per route and split (the run's own at 1 × its threads), one THROUGHPUT-hint worker",
            writes=("processes", "routes[].processes"), cache="the artefact cache (each worker's preparation)",
            cost="the groups prepared and timed for processes_rounds rounds per split (benchmarks/patterns_cost.py)",
            quick=True, settle=settle)
