"""After the rounds (so profiling never disturbs them): one profiled batch per torch route, time per op category."""

from __future__ import annotations

from tui.core.passes.base import Pass, RunState, ask_each
from tui.core.routes import ROUTES


def run(state: RunState) -> None:
    ask_each(state, command="profile", phase="profiling", doing="profiling",
             wanted=lambda rid: ROUTES[rid].backend == "torch",
             keep=lambda rid, profile: setattr(state.result.routes[rid], "profile", profile))


PASS = Pass(name="profile", stage="after", enabled=lambda plan: plan.profile, run=run,
            needs="every torch route's worker", writes=("routes[].profile",), cache="",
            cost="one profiled batch per torch route", quick=False, switch="profile")
