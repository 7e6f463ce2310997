"""`n`: the thread scaling view — a plot per route with CIs, its numbers, and "not available: why" otherwise."""

from tests.app.fakes import FakeBackend, seed_document, threads_document
from tui.app import RunStatus, make_app
from tui.core.events import ThreadsStep
from tui.core.thread_sweep import unavailable
from tui.messages import CoreEvent
from tui.widgets.thread_plot import ThreadPlot

SIZE = (100, 40)


def text_of(screen) -> str:
    return "\n".join(str(w.render()) for w in screen.query("Static"))


async def open_view(app, pilot, document):
    app.document = document
    await pilot.press("n")
    await pilot.pause()
    return app.screen


async def test_n_plots_both_routes_with_their_cis_and_the_numbers():
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_view(app, pilot, threads_document())
        assert type(screen).__name__ == "ThreadsScreen"
        plot = screen.query_one(ThreadPlot)
        canvas = plot.query_one("#thread-plot-canvas")
        kinds = [type(d).__name__ for d in canvas._datasets]
        assert kinds.count("LinePlot") == 2 and kinds.count("ErrorBarPlot") == 2  # a curve and CIs per route
        medians = [list(d.y) for d in canvas._datasets if type(d).__name__ == "LinePlot"]
        sweep = app.document["threads_sweep"]
        assert medians == [[r["throughput"]["median"] for p in sweep["points"] for r in p["routes"] if r["id"] == rid]
                           for rid in ("torch-fp32", "torch-qint8-x86")]
        bars = next(d for d in canvas._datasets if type(d).__name__ == "ErrorBarPlot")
        lo, hi = sweep["points"][0]["routes"][0]["throughput"]["ci95"]
        assert bars.y[0] - bars.yerr[0] == lo and bars.y[0] + bars.yerr[0] == hi  # the bar spans the CI exactly
        text = text_of(screen)
        assert "torch-qint8-x86: adding threads stops paying after 2" in text
        assert "torch-fp32: still gains at 4 threads" in text
        await pilot.press("n")  # n closes it again
        await pilot.pause()
        assert type(app.screen).__name__ != "ThreadsScreen"


async def test_a_failed_count_leaves_the_other_curve_and_says_why():
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_view(app, pilot, threads_document(x86_at_4="worker killed by SIGKILL"))
        canvas = screen.query_one("#thread-plot-canvas")
        assert [len(d.x) for d in canvas._datasets if type(d).__name__ == "LinePlot"] == [3, 2]
        assert "torch-qint8-x86 at 4 threads: not available: failed — worker killed by SIGKILL" in text_of(screen)


async def test_without_a_sweep_the_view_says_why_and_how_never_an_empty_panel():
    cases = [(None, "no run yet"), (seed_document(), "not in this run"),
             ({**seed_document(), "threads_sweep": unavailable((1, 2), "the run was cancelled before the thread "
                                                                       "sweep finished", "torch-fp32")},
              "not available: the run was cancelled before the thread sweep finished")]
    for document, phrase in cases:
        app = make_app(FakeBackend())
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_view(app, pilot, document)
            assert phrase in text_of(screen) and not screen.query(ThreadPlot)
            if document is None or "threads_sweep" not in document:
                assert "--threads-sweep" in text_of(screen)


async def test_the_sweep_shows_progress_in_the_status_line_and_n_is_in_help():
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        app.on_core_event(CoreEvent(ThreadsStep(2, 1, 2, "measuring")))
        await pilot.pause()
        assert "thread sweep 1/2: 2 threads — measuring" in str(app.query_one(RunStatus).render())
        await pilot.press("question_mark")
        await pilot.pause()
        assert ("n", "Threads") in [(key, description) for key, description, _ in app.screen.rows]


async def test_settings_take_a_thread_sweep_like_the_cli():
    app = make_app(FakeBackend())
    async with app.run_test(size=(100, 50)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        field = app.screen.query_one("#set-threads_sweep")
        field.value = "4,1,x"
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "'x' is not a whole number" in str(app.screen.query_one("#settings-error").render())
        field.value = "4,1,2"
        await pilot.press("enter")
        await pilot.pause()
        assert app.settings.threads_sweep == (1, 2, 4)
        await pilot.press("s")
        await pilot.pause()
        assert app.screen.query_one("#set-threads_sweep").value == "1,2,4"
