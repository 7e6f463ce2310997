"""The thread scaling view (n) pinned at 80×24 and 160×48 (see test_snapshots.py for how to update)."""

import pytest

from tests.app.fakes import FakeBackend, threads_document
from tui.app import make_app

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


@pytest.mark.parametrize("size", SIZES)
def test_threads_view(snap_compare, size):
    async def open_view(pilot):
        pilot.app.document = threads_document()
        await pilot.press("n")
        await pilot.pause()

    assert snap_compare(make_app(FakeBackend(), theme="qtui-dark"), terminal_size=SIZES[size], run_before=open_view)
