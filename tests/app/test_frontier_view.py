"""The speed–accuracy frontier view (a) on a real report (tests/fixtures/reports/zen4-frontier-stsb.json): it opens
at the run's budget with the run's pick, ← and → step the budget and the pick follows what the recommendation's own
code gives there (`frontier.pick_at`), the report is never changed; without a frontier it says how to get one. Pinned
at 80×24 and 160×48 (see test_snapshots.py for how to update)."""

import copy
import json
import math

import pytest

from tests.app.fakes import FakeBackend, seed_document
from tests.conftest import FIXTURES
from tui.app import make_app
from tui.core import frontier
from tui.screens.frontier import FrontierScreen
from tui.widgets.frontier_plot import FrontierPlot, PercentFormatter, TimesFormatter, numbered, speedup_ticks

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}
REPORT = FIXTURES / "reports" / "zen4-frontier-stsb.json"


def report() -> dict:
    return json.loads(REPORT.read_text(encoding="utf-8"))


def shown_text(screen) -> str:
    return " ".join(str(w.render()) for w in screen.query("Static"))


async def open_view(pilot, doc):
    pilot.app.document = doc
    await pilot.press("a")
    await pilot.pause()
    await pilot.pause()  # the plot draws after its first refresh
    assert isinstance(pilot.app.screen, FrontierScreen)
    return pilot.app.screen


async def step_to(pilot, screen, budget: float):
    """Press → or ← until the view's budget is `budget` (one of the steps)."""
    steps = screen.steps
    key = "right" if steps.index(budget) > steps.index(screen.budget) else "left"
    for _ in range(abs(steps.index(budget) - steps.index(screen.budget))):
        await pilot.press(key)
    await pilot.pause()
    assert screen.budget == budget


@pytest.mark.parametrize("size", SIZES)
def test_frontier_view(snap_compare, size):
    async def run_before(pilot):
        await open_view(pilot, report())

    assert snap_compare(make_app(FakeBackend(), theme="qtui-dark"), terminal_size=SIZES[size], run_before=run_before)


def test_frontier_view_at_a_25_percent_budget(snap_compare):
    async def run_before(pilot):
        screen = await open_view(pilot, report())
        await step_to(pilot, screen, 25.0)

    assert snap_compare(make_app(FakeBackend(), theme="qtui-dark"), terminal_size=SIZES["80x24"],
                        run_before=run_before)


async def test_a_opens_at_the_run_s_budget_with_the_run_s_pick():
    doc = report()
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(pilot, doc)
        assert screen.budget == doc["frontier"]["budget"] == doc["max_task_loss"]
        assert screen.steps == frontier.budget_steps(doc)
        pick = frontier.pick_at(doc, screen.budget)
        assert pick["route"] == doc["recommendation"]["route"] == doc["frontier"]["pick"]
        assert app.screen.query_one(FrontierPlot).pick == pick["route"]
        budget_line = str(screen.query_one("#frontier-pick").render())
        assert budget_line.startswith(f"Budget: {doc['frontier']['budget']:g} % (the run's) → {pick['route']} — ")
        assert pick["why"][:40] in " ".join(budget_line.split())  # the why, as the recommendation words it
        shown = shown_text(screen)
        for rid in doc["frontier"]["routes"]:  # the numbers table: every route on the frontier
            assert rid in shown


async def test_right_and_left_move_the_budget_and_the_pick_but_never_the_report():
    doc = report()
    before = copy.deepcopy(doc)
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(pilot, doc)
        plot = screen.query_one(FrontierPlot)
        for budget, expected in ((25.0, "static-m2v"), (1.0, "openvino-int8@len32")):
            await step_to(pilot, screen, budget)
            pick = frontier.pick_at(doc, budget)["route"]
            assert pick == expected  # what the recommendation's code gives this report at that budget
            assert plot.pick == pick and plot.floor == 100 - budget
            line = str(screen.query_one("#frontier-pick").render())
            assert line.startswith(f"Budget: {budget:g} % ") and f"→ {pick} — " in line
        await step_to(pilot, screen, 25.0)
        assert "the run's was 1 %" in str(screen.query_one("#frontier-pick").render())
        for _ in range(len(screen.steps) + 2):  # past the last step: stays there
            await pilot.press("right")
        assert screen.budget == screen.steps[-1]
        for _ in range(len(screen.steps) + 2):
            await pilot.press("left")
        await pilot.pause()
        assert screen.budget == screen.steps[0]
        assert plot.pick == frontier.pick_at(doc, screen.steps[0])["route"]
        assert doc == before and app.document is doc  # the budget is the view's: the report stays as it was
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FrontierScreen)


@pytest.mark.parametrize("case", ["no run", "older report", "no task"])
async def test_without_a_frontier_it_says_how_to_get_one(case):
    doc = {"no run": None, "older report": seed_document(), "no task": seed_document()}[case]
    if case == "no task":
        doc["frontier"] = frontier.document(doc)  # what a run without --task writes: available false, and why
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=(80, 24)) as pilot:
        app.document = doc
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, FrontierScreen)
        shown = " ".join(shown_text(app.screen).split())
        assert ("no run yet" if doc is None else "not in this run") in shown
        assert "--task stsb" in shown and "--routes torch-fp32,openvino-int8,openvino-int8@len32,static-m2v" in shown
        if case == "no task":
            assert doc["frontier"]["why"] in shown
        assert not app.screen.query(FrontierPlot)
        await pilot.press("right")  # nothing to step
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, FrontierScreen)


def test_the_markers_go_left_to_right_and_the_speed_up_axis_is_labelled_in_speed_ups():
    front = report()["frontier"]
    routes = [p["route"] for _, p in numbered(front)]
    assert routes == [p["route"] for p in sorted(front["points"], key=lambda p: p["speedup"])]
    assert speedup_ticks(0.9, 80) == [1, 2, 5, 10, 20, 50]
    assert speedup_ticks(0.3, 1.1) == [0.3, 0.4, 0.5, 0.7, 1]  # under a decade: finer steps
    times = TimesFormatter()
    ticks = times.get_ticks(math.log10(0.9), math.log10(80))
    assert times.get_labels_for_ticks(ticks) == ["1×", "2×", "5×", "10×", "20×", "50×"]


def test_kept_share_ticks_stay_two_rows_apart():
    for rows in (4, 6, 10, 20):
        ticks = PercentFormatter(lambda rows=rows: rows).get_ticks(74.9, 101.0)
        assert len(ticks) >= 2 and all(74.9 <= t <= 101.0 for t in ticks)
        assert (ticks[1] - ticks[0]) * rows / (101.0 - 74.9) >= 2  # never two labels on one row
    narrow = PercentFormatter(lambda: 12)
    assert narrow.get_labels_for_ticks(narrow.get_ticks(96.0, 101.0)) == ["96", "97", "98", "99", "100", "101"]
    assert PercentFormatter(lambda: 4).get_labels_for_ticks([97.5, 100.0]) == ["97.5", "100"]
