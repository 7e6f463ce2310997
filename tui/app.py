"""QtuiApp: the terminal dashboard. Paints from the CPU profile at once; torch is never imported here —
benchmarks run in the core's worker processes, driven from one thread worker whose events arrive as
messages through a single adapter (`_emit`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import threading
import time
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static

import tui.textual_fixes  # noqa: F401  (Textual #6665: removed widgets' render caches leak)
from tui.backend import Backend, LiveBackend
from tui.core.routes import BASELINE, DEFAULT_ROUTES, build_note
from tui.messages import CoreEvent, ExportProgress, RunError, RunFinished
from tui.stop_signals import STOP_SIGNALS, exit_code, say, stopped_line
from tui.themes import DEFAULT_THEME, load_themes, remember_theme, remembered_theme
from tui.widgets.advice_panel import AdvicePanel
from tui.widgets.cpu_panel import CpuPanel
from tui.widgets.engine_card import EngineCard
from tui.widgets.routes_table import RoutesTable
from tui.widgets.throughput_plot import ThroughputPlot


class RunStatus(Static):
    """One line: what the run is doing now."""

    def on_mount(self) -> None:
        self.update("idle — b benchmarks the default routes (r chooses, s sets the workload)")


def _near(path: str) -> str:
    """A path as short as it is clear: relative to the working directory when inside it (an absolute temp path
    would push the folder's name past the status line's end at 80 columns)."""
    try:
        return "./" + str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


class QtuiApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "qtui"
    SUB_TITLE = "why is int8 slow on this CPU?"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (130, "-wide")]
    BINDINGS = [
        Binding("b", "bench", "Bench", id="bench", tooltip="Benchmark the selected routes against fp32"),
        Binding("r", "choose_routes", "Routes", id="routes", tooltip="Choose which routes the next run measures"),
        Binding("s", "settings", "Settings", id="settings",
                tooltip="Model, texts, batch size, threads and time budget of the next run"),
        Binding("escape,x", "cancel", "Cancel", id="cancel",
                tooltip="Cancel the run, keeping finished rounds (x avoids tmux's Esc delay)"),
        Binding("ctrl+c", "cancel_or_hint", "Cancel", id="cancel_ctrl_c", show=False, priority=True,
                tooltip="Cancel the run (q quits)"),
        Binding("e", "export", "Export", id="export", tooltip="Write the report as JSON and Markdown"),
        Binding("d", "export_route", "Deploy", id="export_route", show=False,
                tooltip="Export the route under the cursor (else the recommended one) as a folder a service loads "
                        "without qtui"),
        Binding("k", "kernels", "Kernels", id="kernels", show=False,
                tooltip="The kernels the route under the table's cursor ran, each observed or inferred"),
        # c, t, n, o, p, a, d, k, l, f and m live in help and the palette: at 80 columns the footer keeps room for ?
        # and q.
        Binding("c", "compare", "Compare", id="compare", tooltip="Compare with a saved report", show=False),
        Binding("t", "next_theme", "Theme", id="theme", tooltip="Switch to the next colour theme", show=False),
        Binding("n", "threads", "Threads", id="threads", show=False,
                tooltip="Plot throughput against threads for fp32 and the int8 route (a run with --threads-sweep)"),
        Binding("o", "latency", "Latency", id="latency", show=False,
                tooltip="Single-text latency per route: p50, p95, p99 and the route for online (--pattern online)"),
        Binding("p", "processes", "Processes", id="processes", show=False,
                tooltip="Bulk over processes: sent/s per split P × T and OpenVINO setting (--pattern processes)"),
        Binding("a", "frontier", "Frontier", id="frontier", show=False,
                tooltip="Speed against kept task score per route, the Pareto frontier, and the pick as ← → move the "
                        "accuracy budget (--task)"),
        Binding("f", "fleet", "Fleet", id="fleet", show=False,
                tooltip="Benchmark servers over SSH at once with these settings and compare them (hosts × routes)"),
        Binding("m", "toggle_mouse", "Mouse", id="mouse", show=False,
                tooltip="Release the mouse so the terminal can select text (m again takes it back)"),
        Binding("l", "layers", "Layers", id="layers", show=False,
                tooltip="The Linear layers that cost int8 the most accuracy in the last run, with a bar each"),
        Binding("question_mark", "help", "Help", id="help", tooltip="List every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit (cancels a run first)"),
    ]

    def __init__(self, backend: Backend | None = None, settings: argparse.Namespace | None = None,
                 theme: str | None = None, theme_file: str | None = None) -> None:
        super().__init__()
        self.backend = backend or LiveBackend()
        self.settings = settings or default_settings()
        self.routes = list(self.settings.routes) if isinstance(self.settings.routes, list) else list(DEFAULT_ROUTES)
        self.document: dict | None = None
        self.cancel_event: threading.Event | None = None
        self.running = False
        self.mouse_released = False  # Textual captures the mouse on start; m hands it to the terminal
        self.stopped_by: int | None = None  # the signal that ended the app, if one did
        self.fleet_plan = None  # `qtui fleet` in a terminal: the app opens on the fleet screen and ends with it
        self.fleet_only = False
        self.stop_outcome = ""
        self.detection = self.backend.detect()
        themes = load_themes(theme_file)
        self.theme_names = [t.name for t in themes]
        for t in themes:
            self.register_theme(t)
        self.theme = theme if theme in self.theme_names else remembered_theme(self.theme_names) or DEFAULT_THEME

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="main"):
            with Horizontal(id="top"):
                yield CpuPanel(self.detection.cpu, id="cpu-panel")
                yield EngineCard(self.detection.recommendation, model=self.settings.model, id="engine-card")
            yield RunStatus(id="run-status")
            yield RoutesTable(id="routes-table")
            with Horizontal(id="bottom"):
                yield ThroughputPlot(id="throughput")
                yield AdvicePanel(id="advice")
        yield Footer()

    def on_mount(self) -> None:
        if self.fleet_plan is not None:
            from tui.screens.fleet import FleetScreen

            self.fleet_only = True
            self.push_screen(FleetScreen(self.fleet_plan, self.settings))
        # SIGTERM, SIGHUP (and a SIGINT from outside: in the dashboard Ctrl-C is a key) end the app like q.
        # Through the event loop, so the handler runs between Textual's own callbacks, never inside one.
        if self.is_headless or threading.current_thread() is not threading.main_thread():
            return  # Pilot tests: the test runner's signals are not ours to take
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) is not signal.SIG_IGN:  # nohup and the like: stays ignored
                loop.add_signal_handler(sig, self.stop_by_signal, sig)

    def stop_by_signal(self, signum: int) -> None:
        """Cancel the run (its thread kills the workers and removes the run's directory before the process ends),
        then exit: Textual restores the terminal on the way out; run_app says why in one line."""
        self.stopped_by = signum
        self.stop_outcome = "run cancelled, workers stopped" if self.running else ""
        if self.cancel_event is not None:
            self.cancel_event.set()
        fleet = self.running_fleet()
        if fleet is not None:  # its SSH runs live in this loop: stop them before the loop ends
            self.stop_outcome = "every remote run stopped"
            self.run_worker(self._exit_after(fleet, exit_code(signum)), group="quit")
            return
        self.exit(return_code=exit_code(signum))

    # Keys that act on the dashboard under the fleet screen: off while it is on top (they would start a hidden run).
    DASHBOARD_ACTIONS = frozenset({"bench", "choose_routes", "settings", "cancel", "export", "export_route", "kernels",
                                   "compare", "threads", "latency", "processes", "frontier", "fleet",
                                   "layers"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from tui.screens.fleet import FleetScreen

        if action in self.DASHBOARD_ACTIONS and isinstance(self.screen, FleetScreen):
            return False
        return True

    def running_fleet(self):
        """The fleet screen whose remote runs are going, if any."""
        from tui.screens.fleet import FleetScreen

        return next((s for s in self.screen_stack if isinstance(s, FleetScreen) and s.running), None)

    async def _exit_after(self, fleet, return_code: int | None) -> None:
        await fleet.stop()
        self.exit(return_code=return_code)

    # ------------------------------------------------------------------------------------ actions

    def action_bench(self) -> None:
        if self.running:
            self.notify("A run is in progress: esc or x cancels it.", severity="warning")
            return
        settings = argparse.Namespace(**vars(self.settings))
        settings.routes = ",".join(self.routes)
        self.running = True
        self.cancel_event = threading.Event()
        self.query_one(RunStatus).update("planning…")
        self.run_bench(settings, self.cancel_event)

    @work(thread=True, exclusive=True, exit_on_error=False, group="bench")
    def run_bench(self, settings: argparse.Namespace, cancel: threading.Event) -> None:
        from tui.errors import UserError

        try:
            plan = self.backend.plan(settings)
            result = self.backend.run(plan, self._emit, cancel.is_set)
            document = self.backend.document(result)
            note = None if cancel.is_set() else self.backend.prune_cache()
        except UserError as exc:
            self.post_message(RunError(str(exc)))
            return
        except Exception as exc:  # a bug must not take the terminal down with it: say it in one line
            self.post_message(RunError(f"the run failed: {exc.__class__.__name__}: {exc}"))
            return
        self.post_message(RunFinished(document, cancelled=cancel.is_set(), cache_note=note))

    def _emit(self, event: object) -> None:
        """The one adapter from the core's events (worker thread) to Textual messages (thread-safe)."""
        self.post_message(CoreEvent(event))

    def action_cancel(self) -> None:
        if self.running and self.cancel_event is not None:
            self.cancel_event.set()
            self.query_one(RunStatus).update("cancelling… (finished rounds are kept)")

    async def action_cancel_or_hint(self) -> None:
        fleet = self.running_fleet()
        if fleet is not None:
            await fleet.stop()
        elif self.running:
            self.action_cancel()
        else:
            self.notify("Nothing to cancel. q quits.")

    def action_choose_routes(self) -> None:
        from tui.screens.route_chooser import RouteChooser

        def chosen(routes: list[str] | None) -> None:
            if routes:
                self.routes = routes
                self.notify(f"Next run: {len(routes)} routes.")

        self.push_screen(RouteChooser(self.routes, self.detection.cpu), chosen)

    def action_settings(self) -> None:
        from tui.screens.settings import SettingsScreen

        def applied(settings: argparse.Namespace | None) -> None:
            if settings is not None:
                self.settings = settings
                self.query_one(EngineCard).model = settings.model
                self.notify("Settings apply to the next run.")

        self.push_screen(SettingsScreen(self.settings), applied)

    def action_export(self) -> None:
        if self.document is None:
            self.notify("Nothing to export yet: run a benchmark first (b).", severity="warning")
            return
        from tui.core.report import to_markdown, write_atomic

        stem = Path.cwd() / time.strftime("qtui-report-%Y%m%d-%H%M%S")
        try:
            write_atomic(f"{stem}.json", json.dumps(self.document, indent=2) + "\n")
            write_atomic(f"{stem}.md", to_markdown(self.document))
        except OSError as exc:
            self.notify(f"Could not write the report: {exc.strerror}", severity="error")
            return
        self.last_export = f"{stem}.json"
        self.notify(f"Wrote {stem}.json and {stem}.md", timeout=8)

    def action_threads(self) -> None:
        from tui.screens.threads import ThreadsScreen

        self.push_screen(ThreadsScreen(self.document))

    def action_latency(self) -> None:
        from tui.screens.latency import LatencyScreen

        self.push_screen(LatencyScreen(self.document))

    def action_processes(self) -> None:
        from tui.screens.processes import ProcessesScreen

        self.push_screen(ProcessesScreen(self.document))

    def action_frontier(self) -> None:
        from tui.screens.frontier import FrontierScreen

        self.push_screen(FrontierScreen(self.document))

    def route_to_export(self) -> tuple[str | None, str]:
        """(route id, why this one): the routes table's row under the cursor when it has focus, else the run's
        recommendation, else the engine card's engine as its dynamic int8 route."""
        table = self.query_one(RoutesTable)
        if self.focused is table and table.row_count:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value, "the selected row"
        if self.document is not None:
            return self.document["recommendation"]["route"], "recommended by the last run"
        engine = self.detection.recommendation.engine
        return (f"torch-qint8-{engine}" if engine else None), "the engine card's recommendation"

    def action_export_route(self) -> None:
        if self.running or getattr(self, "exporting", False):
            self.notify("Wait for the run or export in progress to finish.", severity="warning")
            return
        route_id, why = self.route_to_export()
        from tui.core.export import exportable_text, is_exportable

        if not is_exportable(route_id):
            self.notify(f"{route_id or 'No route'} cannot be exported; {exportable_text()}", severity="warning",
                        timeout=8)
            return
        from tui.screens.export_prompt import ExportPrompt

        def chosen(path: str | None) -> None:
            if path:
                self.exporting = True
                self.query_one(RunStatus).update(f"exporting {route_id} to {path}…")
                self.export_route(route_id, path)

        self.push_screen(ExportPrompt(route_id, f"./{route_id}", why), chosen)

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def export_route(self, route_id: str, path: str) -> None:
        from tui.core.export import ExportRequest
        from tui.core.export.pattern import chosen_for
        from tui.errors import UserError

        s = self.settings
        pattern = chosen_for(self.document, route_id, getattr(s, "pattern", "bulk"))
        # Numbers from this dashboard's last run (or the latest saved); no measurement of its own: b measures.
        request = ExportRequest(route=route_id, out=path, model=s.model, allow_download=s.allow_download,
                                threads=None if pattern == "processes" else s.threads, texts=s.texts,
                                num_texts=s.num_texts, batch_size=s.batch_size, measure=False,
                                report_doc=self.document, pattern=pattern)
        try:
            out = self.backend.export(request, lambda line: self.post_message(ExportProgress(line)))
        except UserError as exc:
            self.post_message(ExportProgress("", error=str(exc)))
            return
        except Exception as exc:  # a bug must not take the terminal down with it: say it in one line
            self.post_message(ExportProgress("", error=f"the export failed: {exc.__class__.__name__}: {exc}"))
            return
        self.post_message(ExportProgress("", done=str(out)))

    def on_export_progress(self, message: ExportProgress) -> None:
        status = self.query_one(RunStatus)
        if message.error:
            self.exporting = False
            status.update(f"could not export: {message.error}")
            self.notify(message.error, severity="error", timeout=10)
        elif message.done:
            self.exporting = False
            status.update(f"exported to {_near(message.done)} — encode.py, qtui-export.json, README.md")
            self.notify(f"Exported to {message.done}", timeout=8)
        else:
            status.update(f"exporting: {message.line}")

    def action_kernels(self) -> None:
        self.query_one(RoutesTable).show_kernels()

    def action_compare(self) -> None:
        from tui.screens.compare import CompareScreen

        self.push_screen(CompareScreen(self.document, getattr(self, "last_export", "")))

    def action_next_theme(self) -> None:
        names = self.theme_names
        self.theme = names[(names.index(self.theme) + 1) % len(names)] if self.theme in names else names[0]
        remember_theme(self.theme)
        self.notify(f"Theme: {self.theme}")

    def action_layers(self) -> None:
        from tui.screens.layers import LayersScreen

        self.push_screen(LayersScreen(self.document))

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        rows = [(b.key.replace("question_mark", "?"), b.description, b.tooltip) for b in self.BINDINGS]
        rows += [("enter", "Recipe", "On an advice item: show or hide its Python recipe"),
                 ("y", "Copy recipe", "On the engine card or an advice item: copy its recipe (OSC 52, works over "
                                      "SSH and in tmux)"),
                 ("← →", "Budget", "In the frontier view (a): step the accuracy budget; the pick, its floor "
                                  "and the why follow"),
                 ("ctrl+p", "Palette", "Search every action by name"), ("tab", "Focus", "Move between panels")]
        self.push_screen(HelpScreen(rows))

    def action_toggle_mouse(self) -> None:
        # Textual has no public switch; its Linux driver's own methods write the DECSET mouse modes.
        method = "_enable_mouse_support" if self.mouse_released else "_disable_mouse_support"
        toggle = getattr(self._driver, method, None)
        if toggle is None:
            self.notify("This terminal driver cannot switch mouse capture.", severity="warning")
            return
        toggle()
        self.mouse_released = not self.mouse_released
        self.notify("Mouse captured: click and scroll the dashboard." if not self.mouse_released else
                    "Mouse released: select text with the mouse; m takes it back.")

    def copy_to_clipboard(self, text: str) -> None:
        """OSC 52 like Textual's, plus tmux's passthrough form when inside tmux (see tui/clipboard.py)."""
        from tui.clipboard import copy_sequences

        self._clipboard = text
        if self._driver is not None:
            for sequence in copy_sequences(text, os.environ):
                self._driver.write(sequence)

    async def action_quit(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()  # workers are killed within a second; the terminal is restored on exit
        from tui.screens.fleet import FleetScreen

        fleets = [s for s in self.screen_stack if isinstance(s, FleetScreen)]
        for fleet in fleets:
            await fleet.stop()  # no qtui left running on any host
        self.exit(return_code=fleets[0].exit_code if self.fleet_only and fleets else None)

    def action_fleet(self) -> None:
        from tui.screens.fleet import FleetScreen

        if self.running_fleet() is None:
            self.push_screen(FleetScreen(None, self.settings))
        else:
            self.notify("A fleet run is in progress.", severity="warning")

    def on_unmount(self) -> None:
        # tmux (3.3) copies rows of the alternate screen into the shell's screen on exit when the pane grew
        # while qtui ran (a resize over SSH, say); a cleared alternate screen leaves nothing to copy.
        if self._driver is not None and not self._driver.is_headless:
            self._driver.write("\x1b[H\x1b[2J")

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if binding.id and binding.id != "cancel_ctrl_c":
                yield SystemCommand(binding.description, binding.tooltip, getattr(self, f"action_{binding.action}"))

    # ----------------------------------------------------------------------------------- messages

    def on_core_event(self, message: CoreEvent) -> None:
        from tui.core.events import (
            FirstAnswer,
            LatencyStep,
            ProcessesStep,
            RoundDone,
            RouteAdded,
            RouteFailed,
            RoutePhase,
            RouteReady,
            RunDone,
            RunStarted,
            SweepCell,
            ThreadsStep,
        )

        event = message.event
        table, plot, status = self.query_one(RoutesTable), self.query_one(ThroughputPlot), self.query_one(RunStatus)
        if isinstance(event, RunStarted):
            table.start(event)
            plot.start(event)
            status.scroll_visible(top=True, animate=False)  # on 80×24 the run starts below the CPU panels
            self.query_one(AdvicePanel).show_placeholder("Measuring… advice appears when the run ends.")
            status.update(f"{len(event.route_ids)} routes · {event.texts} texts · batch {event.batch_size} · "
                          f"{event.threads} threads — preparing")
        elif isinstance(event, RoutePhase):
            table.phase(event)
            note = build_note(event.route_id)
            if event.phase == "preparing" and note:  # say why this one takes long
                status.update(f"preparing {event.route_id}: {note}…")
            elif event.phase in ("preparing", "profiling", "sweeping"):
                status.update(f"{event.phase} {event.route_id}…")
            elif event.phase == "inspecting":
                status.update("int8 missed the cosine threshold: quantizing each Linear layer alone to find why…")
            elif event.phase == "rebatching":
                status.update(f"re-encoding texts alone and with other neighbours: {event.route_id}…")

            elif event.phase == "kernels":
                status.update(f"capturing the kernels {event.route_id} runs (one batch, untimed)…")
            elif event.phase == "calibrating":
                status.update("calibrating: measuring this CPU's GEMM ceilings (cached for the next run)…")
        elif isinstance(event, RouteAdded):
            table.add(event.route_id)
            status.update(f"rescue: {event.why}; building {event.route_id}…")
        elif isinstance(event, RouteReady):
            table.ready(event)
        elif isinstance(event, RouteFailed):
            table.failed(event)
        elif isinstance(event, FirstAnswer):
            table.first_answer([BASELINE, *event.speedups])
            waiting = ", ".join(event.preparing)
            status.update(f"first answer after {event.after_s:.0f} s (in the table)"
                          + (f" · now preparing {waiting}, which join the rounds when ready" if waiting else ""))
        elif isinstance(event, RoundDone):
            table.round_done(event)
            plot.round_done(event)
            status.update(f"round {event.round} of up to {event.max_rounds} · {event.elapsed_s:.0f} s of "
                          f"{event.time_budget_s:.0f} s budget · esc/x cancels")
        elif isinstance(event, SweepCell):
            status.update(f"sweep {event.done}/{event.total}: batch {event.batch_size} × {event.seq_len} tokens → "
                          f"{event.speedup:.2f}×")
        elif isinstance(event, LatencyStep):
            from tui.core.latency import progress_text

            status.update(progress_text(event.calls, event.target, event.rounds))
        elif isinstance(event, ProcessesStep):
            from tui.core.processes import progress_text as processes_text

            status.update(processes_text(event.processes, event.threads, event.done, event.total, event.stage)
                          + (" · p shows them when the run ends" if event.stage != "done" else ""))
        elif isinstance(event, ThreadsStep):
            from tui.core.thread_sweep import threads_text

            status.update(f"thread sweep {event.done}/{event.total}: {threads_text(event.threads)} — {event.stage}"
                          + (" · n plots it when the run ends" if event.stage != "done" else ""))
        elif isinstance(event, RunDone):
            status.update("writing the report…")

    async def on_run_finished(self, message: RunFinished) -> None:
        from tui.screens.frontier import shown as frontier_shown

        self.running = False
        self.document = message.document
        doc = message.document
        self.query_one(RoutesTable).finish(doc)
        status = self.query_one(RunStatus)
        rec = doc["recommendation"]
        head = "cancelled — partial results" if message.cancelled else f"done in {doc['wall_s']:.0f} s"
        status.update(f"{head}: recommended {rec['route']} · {doc.get('stop_reason', '')} · "
                      f"e exports" + (" · n plots threads" if doc.get("threads_sweep") else "")
                      + (" · o shows latency" if doc.get("latency") else "")
                      + (" · p shows processes" if doc.get("processes") else "")
                      + (" · a plots the frontier" if frontier_shown(doc) else "")
                      + (f" · {message.cache_note}" if message.cache_note else ""))
        # Scroll only once the advice has its height: scrolled earlier (a loaded machine), the scroll clamps to
        # the shorter screen and the advice stays below the fold. Results first, advice right below them.
        await self.query_one(AdvicePanel).show(doc.get("advice", []), doc.get("finding"))
        self.call_after_refresh(status.scroll_visible, top=True, animate=False)

    def on_run_error(self, message: RunError) -> None:
        self.running = False
        self.query_one(RunStatus).update(f"could not run: {message.message}")
        self.query_one(AdvicePanel).show_placeholder("Fix the settings (s) or routes (r) and press b again.")
        self.notify(message.message, severity="error", timeout=10)


def default_settings() -> argparse.Namespace:
    """The run options' defaults, exactly as `qtui bench` would take them."""
    from tui.options import default_options

    settings = default_options()
    settings.routes = list(DEFAULT_ROUTES)
    return settings


def make_app(backend: Backend | None = None, settings: argparse.Namespace | None = None,
             theme: str | None = None, theme_file: str | None = None) -> QtuiApp:
    """The app factory: tests pass a fake backend that replays scripted core events."""
    return QtuiApp(backend=backend, settings=settings, theme=theme, theme_file=theme_file)


def run_app(args: argparse.Namespace) -> int:
    settings = default_settings()
    for key, value in vars(args).items():
        if hasattr(settings, key) and key != "routes":
            setattr(settings, key, value)
    if getattr(args, "routes", None) and args.routes != "default":
        from tui.core.routes import parse_routes

        settings.routes = parse_routes(args.routes)
    app = make_app(settings=settings, theme=getattr(args, "theme", None), theme_file=getattr(args, "theme_file", None))
    app.fleet_plan = getattr(args, "fleet_plan", None)
    app.run()  # returns once the run's thread has finished cleaning up (asyncio.run waits for it)
    if app.stopped_by is not None:
        say(stopped_line(app.stopped_by, app.stop_outcome))
    return app.return_code or 0
