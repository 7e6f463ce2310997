"""After the rounds (verbose logs and profilers slow kernels down): the kernels one batch of each route ran."""

from __future__ import annotations

from tui.core.events import RoutePhase
from tui.core.passes.base import Pass, RunState
from tui.core.worker import WorkerDied


def run(state: RunState) -> None:
    """The workers get the host's real features: under --simulate-isa the plan's CPU is the simulated one, and what
    FBGEMM and MLAS pick is inferred from what they read from CPUID."""
    from tui.core.cpu import detect
    from tui.core.kernels import not_available

    host = sorted(detect().features)
    for rid, worker in list(state.workers.items()):
        state.emit(RoutePhase(rid, "kernels"))
        try:
            worker.send("kernels", host, bool(state.plan.worker_env))
            message = worker.receive(state.cancel, timeout=120)
        except WorkerDied as exc:  # the rounds were measured: the route keeps them, only the capture is lost
            state.result.routes[rid].kernels = not_available(f"the capture stopped its worker ({exc})")
            state.workers.pop(rid).kill()
            continue
        if message[0] == "kernels":
            state.result.routes[rid].kernels = message[1]


PASS = Pass(name="kernels", stage="after", enabled=lambda plan: plan.kernels, run=run,
            needs="every worker", writes=("routes[].kernels",), cache="",
            cost="one captured batch per route (benchmarks/kernels_cost.py)", quick=False, switch="kernels")
