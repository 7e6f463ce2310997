"""The bulk-over-processes view (p) pinned at 80×24 and 160×48 (see test_snapshots.py for how to update), its
bars, and what it says when the run measured no processes."""

import pytest

from tests.app.fakes import FakeBackend, processes_document, seed_document
from tui.app import make_app
from tui.screens.processes import ProcessesScreen, bars

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


@pytest.mark.parametrize("size", SIZES)
def test_processes_view(snap_compare, size):
    async def open_view(pilot):
        pilot.app.document = processes_document()
        await pilot.press("p")
        await pilot.pause()

    assert snap_compare(make_app(FakeBackend(), theme="qtui-dark"), terminal_size=SIZES[size], run_before=open_view)


def test_a_bar_per_split_and_route_on_the_highest_throughput_s_scale():
    proc = processes_document()["processes"]
    lines = bars(proc, 40).plain.splitlines()
    assert [line.split()[:4] for line in lines] == [["1", "×", "2", "torch-fp32"], ["1", "×", "2", "torch-qint8-x86"],
                                                    ["2", "×", "1", "torch-fp32"], ["2", "×", "1", "torch-qint8-x86"]]
    widths = [line.count("█") for line in lines]
    assert widths[3] == 40 and widths[0] < widths[2] < widths[1] < widths[3]  # 2 × 1 int8 is the fastest


async def test_a_run_without_processes_says_how_to_get_them():
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=(80, 24)) as pilot:
        app.document = seed_document()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ProcessesScreen)
        shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "not in this run" in shown and "--pattern processes" in shown
        await pilot.press("p")
        assert not isinstance(app.screen, ProcessesScreen)
