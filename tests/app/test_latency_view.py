"""The single-text latency view (o) pinned at 80×24 and 160×48 (see test_snapshots.py for how to update), and
what it says when the run has no single-text calls."""

import pytest

from tests.app.fakes import FakeBackend, latency_document, seed_document
from tui.app import make_app
from tui.screens.latency import LatencyScreen, boxes

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


@pytest.mark.parametrize("size", SIZES)
def test_latency_view(snap_compare, size):
    async def open_view(pilot):
        pilot.app.document = latency_document()
        await pilot.press("o")
        await pilot.pause()

    assert snap_compare(make_app(FakeBackend(), theme="qtui-dark"), terminal_size=SIZES[size], run_before=open_view)


def test_each_box_spans_p50_to_p95_on_the_slowest_p99s_scale():
    doc = latency_document()
    lines = boxes(doc, 40).plain.splitlines()
    top = max(r["latency"]["p99"]["ms"] for r in doc["routes"] if r.get("latency"))
    assert lines[0].split()[:3] == ["0", f"{top:.1f}", "ms"]
    by_route = {line.split()[0]: line for line in lines[1:]}
    qnnpack, x86 = by_route["torch-qint8-qnnpack"], by_route["torch-qint8-x86"]
    assert qnnpack.index("█") > x86.index("█")  # slower: its box starts further right


async def test_a_run_without_single_text_calls_says_how_to_get_them():
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=(80, 24)) as pilot:
        app.document = seed_document()
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, LatencyScreen)
        shown = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "not in this run" in shown and "--pattern online" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, LatencyScreen)
