"""`k` on a route row opens the kernels that route ran: grouped, each fact marked observed or inferred; a route
without a capture says why, never an empty panel. Pilot with a scripted backend; SVG snapshots at 80×24 and
160×48 (update with `pytest --snapshot-update` after an intended change, and look at the SVGs)."""

from __future__ import annotations

import pytest

from tests.app.fakes import FakeBackend, seed_document
from tests.app.test_snapshots import SIZES, ScriptedEvents, feed
from tui.app import make_app
from tui.messages import RunFinished
from tui.screens.kernels import KernelsScreen, kernels_text
from tui.widgets.routes_table import RoutesTable

X86_KERNELS = {
    "available": True, "why": None, "not_simulated": None,
    "gemms": [{"dtype": "int8", "count": 37, "isa": "avx2", "library": "FBGEMM",
               "implementation": "dynamic quantized Linear (fbgemm)", "basis": "inferred",
               "source": "FBGEMM logs nothing: inferred from this CPU's features"},
              {"dtype": "fp32", "count": 1152, "isa": None, "library": "MKL", "implementation": "SGEMM",
               "basis": "observed", "source": "MKL verbose: its header names no ISA on this CPU"}],
    "facts": [{"group": "torch", "name": "CPU capability (ATen kernels)", "value": "AVX2", "basis": "observed",
               "source": "torch.backends.cpu.get_cpu_capability()"},
              {"group": "oneDNN", "name": "eltwise calls", "value": "6 (jit:avx2)", "basis": "observed",
               "source": "oneDNN verbose"}],
    "summary": ["int8 GEMMs: 37 on AVX2 (inferred, FBGEMM)", "fp32 GEMMs: 1152 via SGEMM (observed, MKL)"],
}


def document_with_kernels() -> dict:
    doc = seed_document()
    for r in doc["routes"]:
        if r["id"] == "torch-qint8-x86":
            r["kernels"] = X86_KERNELS
    return doc


async def finished_run(pilot, document: dict) -> None:
    app = pilot.app
    feed(app, ScriptedEvents(rounds=3).events(rounds_done=3))
    await app.on_run_finished(RunFinished(document, cancelled=False))
    await pilot.pause()


async def open_kernels_of(pilot, route_id: str) -> None:
    table = pilot.app.query_one(RoutesTable)
    table.focus()
    table.move_cursor(row=list(table.values).index(route_id))
    await pilot.press("k")
    await pilot.pause()


async def test_k_on_a_route_row_shows_its_kernels_marked_observed_or_inferred():
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=(100, 40)) as pilot:
        await finished_run(pilot, document_with_kernels())
        await open_kernels_of(pilot, "torch-qint8-x86")
        assert isinstance(app.screen, KernelsScreen)
        text = kernels_text(app.screen.route)
        assert "int8 GEMMs: 37 on AVX2 (inferred, FBGEMM)" in text
        assert "○ inferred: FBGEMM logs nothing" in text and "● observed" in text and "[b]torch[/b]" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, KernelsScreen)


async def test_a_route_without_a_capture_says_why_and_before_the_run_ends_k_waits():
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=(100, 40)) as pilot:
        feed(app, ScriptedEvents(rounds=3).events(rounds_done=1))
        await open_kernels_of(pilot, "torch-qint8-x86")
        assert not isinstance(app.screen, KernelsScreen)  # no report yet: a notice, not an empty panel
        await app.on_run_finished(RunFinished(seed_document(), cancelled=False))
        await pilot.pause()
        await open_kernels_of(pilot, "torch-qint8-qnnpack")
        assert "not available: this report has no kernels capture" in kernels_text(app.screen.route)
        await pilot.press("escape")
        await open_kernels_of(pilot, "openvino-int8")
        assert "not available: the route did not run" in kernels_text(app.screen.route)


def test_an_unavailable_capture_reads_as_not_available_with_its_reason():
    route = {"id": "torchao-int8", "status": "ok",
             "kernels": {"available": False, "why": "not available: torchao reports no kernel", "gemms": [],
                         "facts": [], "not_simulated": None}}
    assert "not available: torchao reports no kernel" in kernels_text(route)


@pytest.mark.parametrize("size", SIZES)
def test_kernels_view(snap_compare, size):
    async def kernels_screen(pilot):
        await finished_run(pilot, document_with_kernels())
        await open_kernels_of(pilot, "torch-qint8-x86")

    assert snap_compare(make_app(FakeBackend(), theme="qtui-dark"), terminal_size=SIZES[size],
                        run_before=kernels_screen)
