"""`d` exports a route from the dashboard: the row under the cursor, else the recommendation, through a path
prompt; the numbers travel with the run's report; a refusal is one line in the status bar."""

from tests.app.fakes import FakeBackend
from tests.app.test_app import SIZE, run_to_end, status
from tui.app import make_app
from tui.screens.export_prompt import ExportPrompt
from tui.widgets.routes_table import RoutesTable


async def wait_for_export(pilot, app):
    for _ in range(200):
        await pilot.pause(0.02)
        if not getattr(app, "exporting", False):
            return
    raise AssertionError("the export did not finish")


async def test_d_before_a_run_exports_the_engine_cards_route():
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        assert isinstance(app.screen, ExportPrompt) and app.screen.route_id == "torch-qint8-x86"  # Zen 3 → x86
        await pilot.press("enter")
        await wait_for_export(pilot, app)
        assert [r.route for r in backend.exports] == ["torch-qint8-x86"]
        assert backend.exports[0].out == "./torch-qint8-x86" and backend.exports[0].report_doc is None
        assert "exported to ./torch-qint8-x86" in status(app)


async def test_d_on_a_routes_row_exports_that_route_with_the_runs_numbers(tmp_path):
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)
        table = app.query_one(RoutesTable)
        table.focus()
        table.move_cursor(row=list(table.rows).index("torch-qint8-qnnpack"))
        await pilot.press("d")
        assert app.screen.route_id == "torch-qint8-qnnpack"
        field = app.screen.query_one("#export-path")
        field.value = str(tmp_path / "qnnpack")
        await pilot.press("enter")
        await wait_for_export(pilot, app)
        request = backend.exports[0]
        assert (request.route, request.out) == ("torch-qint8-qnnpack", str(tmp_path / "qnnpack"))
        assert request.report_doc is app.document and request.measure is False


async def test_d_elsewhere_after_a_run_takes_the_recommendation():
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)
        app.set_focus(None)
        await pilot.press("d")
        assert app.screen.route_id == app.document["recommendation"]["route"]
        await pilot.press("escape")
        assert not isinstance(app.screen, ExportPrompt) and backend.exports == []


async def test_a_refused_export_is_one_line_in_the_status_bar():
    app = make_app(FakeBackend(fail_export="--out ./torch-qint8-x86: exists and is not empty; choose another"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("d")
        await pilot.press("enter")
        await wait_for_export(pilot, app)
        assert "could not export: --out ./torch-qint8-x86: exists and is not empty" in status(app)


async def test_the_baseline_has_nothing_to_export():
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)
        table = app.query_one(RoutesTable)
        table.focus()
        table.move_cursor(row=list(table.rows).index("torch-fp32"))
        await pilot.press("d")
        assert not isinstance(app.screen, ExportPrompt)
        assert backend.exports == []


async def test_d_sets_the_folder_up_for_the_runs_pattern_where_the_run_measured_the_route():
    from tests.app.fakes import processes_document

    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        app.document = processes_document()  # --pattern processes chose torch-qint8-x86 as 2 × 1
        app.settings.pattern, app.settings.threads = "processes", 2
        for route in ("torch-qint8-x86", "torch-qint8-qnnpack"):
            app.exporting = True  # as the path prompt's answer sets it
            app.export_route(route, f"./{route}")
            await wait_for_export(pilot, app)
        chosen, other = backend.exports
        assert (chosen.pattern, chosen.threads) == ("processes", None)  # the split's threads, not the setting's
        assert (other.pattern, other.threads) == ("bulk", 2)  # the run measured no split for it
