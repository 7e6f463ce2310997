"""The frontier view in a real terminal (tmux): the real dashboard with a real saved report as its last run
(tests/fixtures/reports/zen4-frontier-stsb.json, through saved_report_dashboard.py: qtui has no option to open
the dashboard on a saved report), `a` opens the view at the run's budget, → and ← move the budget and the pick
follows what the recommendation's own code gives there; it holds at 80×24 and after a resize to 160×48, and closes
with esc."""

import json
import sys

import pytest

from benchmarks.tmux_terminal import ROOT
from tests.conftest import FIXTURES
from tui.core import frontier

pytestmark = pytest.mark.slow

REPORT = FIXTURES / "reports" / "zen4-frontier-stsb.json"


def flat(screen: str) -> str:
    """The screen's words, the box's borders and line breaks taken out (a long line wraps in the view)."""
    return " ".join(w for line in screen.splitlines() for w in line.replace("│", " ").split())


def test_a_opens_the_frontier_and_the_arrows_move_the_budget_and_the_pick(tmux):
    doc = json.loads(REPORT.read_text(encoding="utf-8"))
    steps, run = frontier.budget_steps(doc), doc["frontier"]["budget"]
    target = 25.0
    t = tmux(f"PYTHONPATH={ROOT} {sys.executable} -m tests.e2e.saved_report_dashboard {REPORT}")
    t.wait_for("a plots the frontier", 20)  # the status line of the finished run
    t.keys("a")
    pick = frontier.pick_at(doc, run)["route"]
    # The whole view, not its first frame: under load the budget line can be painted before the plot is.
    opened = t.wait_until(lambda s: f"Budget: {run:g} % (the run's) → {pick}" in flat(s) and "Speed–accuracy "
                          "frontier" in s and "kept %" in s and "50×" in s, 20, "the view at the run's budget")
    assert max(len(line) for line in opened.splitlines()) <= 80
    for _ in range(steps.index(target) - steps.index(run)):
        t.keys("Right")
    moved = frontier.pick_at(doc, target)["route"]
    assert moved == "static-m2v"
    t.wait_until(lambda s: f"Budget: {target:g} % (the run's was {run:g} %) → {moved}" in flat(s), 10,
                 f"the pick at {target:g} %")
    t.keys("Left")
    back = steps[steps.index(target) - 1]
    t.wait_until(lambda s: f"Budget: {back:g} % (the run's was {run:g} %) → "
                           f"{frontier.pick_at(doc, back)['route']}" in flat(s), 10, f"the pick at {back:g} %")
    t.resize(160, 48)
    row = next(r for r in frontier.table(doc)[1] if r[0] == doc["frontier"]["routes"][-1])
    wide = t.wait_until(lambda s: "picked for a budget of" in s and f"Budget: {back:g} %" in s
                        and any(all(cell in line for cell in row) for line in s.splitlines()),  # a row on one line
                        10, "the view with its table laid out again at 160×48")
    print(opened, wide, sep="\n")  # shown with -s: what a person sees
    assert all(rid in wide for rid in doc["frontier"]["routes"])
    t.keys("Escape")
    t.wait_until(lambda s: "Speed–accuracy frontier" not in s, 10, "the view closed")
    t.keys("q")
    t.wait_for("EXITED-0", 15)
    assert "Traceback" not in t.seen
