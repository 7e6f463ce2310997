"""After the rounds: fp32 (the floor) and every int8 route encode some texts again, alone and with other
neighbours, to show whether a text's vector depends on its batch."""

from __future__ import annotations

from tui.core.passes.base import Pass, RunState, ask_each
from tui.core.routes import BASELINE, ROUTES


def run(state: RunState) -> None:
    ask_each(state, command="invariance", phase="rebatching", doing="re-encoding for batch invariance",
             wanted=lambda rid: rid == BASELINE or ROUTES[rid].dtype in ("qint8", "int8"),
             keep=lambda rid, found: setattr(state.result.routes[rid], "batch_invariance", found))


PASS = Pass(name="invariance", stage="after", enabled=lambda plan: plan.invariance, run=run,
            needs="the fp32 worker and every int8 route's worker", writes=("routes[].batch_invariance",), cache="",
            cost="each text encoded again, alone and re-batched", quick=False, switch="invariance")
