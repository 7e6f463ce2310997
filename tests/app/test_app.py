"""The dashboard driven by keys (Pilot), against a scripted backend."""

import json

import pytest

from tests.app.fakes import FakeBackend, FakeResult
from tui.app import RunStatus, make_app
from tui.widgets.advice_panel import AdviceItem
from tui.widgets.engine_card import EngineCard
from tui.widgets.routes_table import RoutesTable

SIZE = (140, 45)  # wide layout; the 80×24 compact layout has its own test


async def run_to_end(pilot, app):
    await pilot.press("b")
    for _ in range(200):
        await pilot.pause(0.02)
        if not app.running:
            return
    raise AssertionError("the run did not finish")


def status(app) -> str:
    return str(app.query_one(RunStatus).render())


async def test_first_screen_names_the_cpu_features_and_engine():
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=SIZE):
        cpu_text = str(app.query_one("#cpu-panel").render())
        assert "AVX2 ✓" in cpu_text and "VNNI ✗" in cpu_text
        assert "engine = x86" in str(app.query_one("#engine-card").render())
        assert "idle" in status(app)


async def test_b_runs_and_shows_speedups_and_advice():
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)
        table = app.query_one(RoutesTable)
        assert "2.30× [2.23–2.37]" in str(table.get_cell("torch-qint8-x86", "speedup"))  # the report's final CI
        assert str(table.get_cell("torch-qint8-qnnpack", "verdict")) == "slower"
        assert str(table.get_cell("openvino-int8", "status")) == "unavailable"
        items = app.query(AdviceItem)
        assert items and items.first().advice["code"] == "engine-mismatch"
        assert "recommended" in status(app)


async def test_escape_and_x_cancel_a_run_and_keep_what_finished():
    for key in ("escape", "x"):
        app = make_app(FakeBackend(rounds=100, pause=0.1))
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("b")
            await pilot.pause(0.4)
            await pilot.press(key)
            for _ in range(100):
                await pilot.pause(0.02)
                if not app.running:
                    break
            assert not app.running and "cancelled" in status(app)
            assert app.document is not None  # results of the finished rounds are kept


async def test_ctrl_c_cancels_a_run_and_does_not_quit():
    app = make_app(FakeBackend(rounds=100, pause=0.1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause(0.3)
        await pilot.press("ctrl+c")
        await pilot.pause(0.5)
        assert app.is_running and "cancel" in status(app)


async def test_a_stop_signal_mid_run_cancels_it_and_exits_with_the_signals_code():
    """What the dashboard's SIGTERM/SIGHUP handler does (the real signal, in a real terminal: tests/e2e)."""
    import signal

    app = make_app(FakeBackend(rounds=100, pause=0.1))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause(0.3)
        cancel = app.cancel_event
        app.stop_by_signal(signal.SIGTERM)
        await pilot.pause(0.2)
        assert cancel.is_set()
    assert app.return_code == 143 and app.stop_outcome == "run cancelled, workers stopped"


async def test_plan_errors_are_one_line_not_a_crash():
    app = make_app(FakeBackend(fail_plan="--texts x.txt: no such file"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause(0.3)
        assert "could not run: --texts x.txt: no such file" in status(app)


async def test_r_chooses_routes():
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        assert type(app.screen).__name__ == "RouteChooser"
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ != "RouteChooser" and app.routes[0] == "torch-fp32"


async def test_r_keeps_the_length_caps_given_with_routes():
    from tui.app import default_settings

    settings = default_settings()
    settings.routes = ["torch-fp32", "openvino-int8", "openvino-int8@len32"]  # as `qtui --routes …` sets them
    app = make_app(FakeBackend(), settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.routes == ["torch-fp32", "openvino-int8", "openvino-int8@len32"]


async def test_s_settings_validate_like_the_cli(tmp_path):
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await pilot.pause()
        field = app.screen.query_one("#set-batch_size")
        field.value = "0"
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "must be 1 or more" in str(app.screen.query_one("#settings-error").render())
        field.value = "8"
        await pilot.press("enter")
        await pilot.pause()
        assert app.settings.batch_size == 8


async def test_e_exports_json_and_markdown_then_c_compares(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")  # nothing yet: a notice, no file
        await pilot.pause()
        assert not list(tmp_path.glob("*.json"))
        await run_to_end(pilot, app)
        await pilot.press("e")
        await pilot.pause()
        exported = list(tmp_path.glob("qtui-report-*.json"))
        assert len(exported) == 1 and list(tmp_path.glob("qtui-report-*.md"))
        assert json.loads(exported[0].read_text())["schema"] == "qtui.report/1"
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("enter")  # the last export is pre-filled
        await pilot.pause()
        assert "saved sent/s (ref)" in str(app.screen.query_one("#compare-result").render())


async def test_t_cycles_themes_and_remembers(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=SIZE) as pilot:
        seen = {app.theme}
        for _ in range(len(app.theme_names)):
            await pilot.press("t")
            seen.add(app.theme)
        assert {"qtui-dark", "qtui-light", "qtui-contrast"} <= seen
    assert "theme" in (tmp_path / "qtui" / "settings.json").read_text()


async def test_a_users_theme_is_in_the_list_and_a_theme_file_is_chosen(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "qtui" / "themes").mkdir(parents=True)
    (tmp_path / "qtui" / "themes" / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\n')
    trying = tmp_path / "trying.toml"
    trying.write_text('name = "trying"\nprimary = "#00ff88"\ndark = false\n')
    app = make_app(FakeBackend(), theme="trying", theme_file=str(trying))
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "trying" and app.current_theme.primary == "#00ff88"
        assert app.theme_names == ["qtui-contrast", "qtui-dark", "qtui-light", "mine", "trying"]
        seen = []
        for _ in app.theme_names:
            await pilot.press("t")
            seen.append(app.theme)
        assert seen == ["qtui-contrast", "qtui-dark", "qtui-light", "mine", "trying"]  # t reaches the user's too


async def test_question_mark_lists_every_binding():
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        listed = {description for _, description, _ in app.screen.rows}
        for b in app.BINDINGS:  # the footer shows some; help lists them all
            assert b.description in listed
        assert {"Recipe", "Copy recipe", "Palette"} <= listed
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ != "HelpScreen"


async def test_every_action_is_in_the_command_palette():
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE):
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for b in app.BINDINGS:
            if b.id != "cancel_ctrl_c":
                assert b.description in titles


async def test_enter_expands_a_recipe_and_y_copies_it():
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)
        item = app.query(AdviceItem).first()
        item.focus()
        await pilot.press("enter")
        assert item.expanded
        await pilot.press("y")
        assert app.clipboard == item.advice["recipe"]


async def test_y_on_the_engine_card_copies_its_recipe_in_both_forms_inside_tmux(monkeypatch):
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    monkeypatch.setattr("tui.clipboard.tmux_copy_hint", lambda env: None)
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        written = []
        monkeypatch.setattr(app._driver, "write", written.append)
        app.query_one(EngineCard).focus()
        await pilot.press("y")
        assert "torch.backends.quantized.engine = 'x86'" in app.clipboard
        osc = [w for w in written if "]52;c;" in w]
        assert len(osc) == 2 and osc[1].startswith("\x1bPtmux;")  # plain OSC 52 + tmux passthrough


async def test_m_releases_and_recaptures_the_mouse(monkeypatch):
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        calls = []
        monkeypatch.setattr(app._driver, "_disable_mouse_support", lambda: calls.append("off"), raising=False)
        monkeypatch.setattr(app._driver, "_enable_mouse_support", lambda: calls.append("on"), raising=False)
        await pilot.press("m")
        assert calls == ["off"] and app.mouse_released
        await pilot.press("m")
        assert calls == ["off", "on"] and not app.mouse_released


async def test_q_quits():
    app = make_app(FakeBackend())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code in (0, None)


@pytest.mark.parametrize("size, compact", [((80, 24), True), ((160, 48), False)])
async def test_layout_fits_narrow_and_wide(size, compact):
    app = make_app(FakeBackend())
    async with app.run_test(size=size) as pilot:
        await run_to_end(pilot, app)
        table = app.query_one(RoutesTable)
        assert table.row_count == 4 and table.compact == compact
        # every column fits: the speedups are on screen without scrolling sideways
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width
        status = str(table.get_cell("openvino-int8", "status"))
        assert status == ("n/a" if compact else "unavailable")


async def test_a_resize_mid_run_relays_the_table_out_keeping_every_value():
    app = make_app(FakeBackend(rounds=6, pause=0.3))  # long enough to resize mid-run under load
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("b")
        table = app.query_one(RoutesTable)
        for _ in range(200):
            await pilot.pause(0.02)
            if "torch-qint8-x86" in table.rows and "×" in str(table.get_cell("torch-qint8-x86", "speedup")):
                break
        assert app.running and not table.compact
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.05)
        assert table.compact and "progress" not in table.columns  # compact columns, mid-run
        assert str(table.get_cell("openvino-int8", "status")) == "n/a"  # values carried over, in short form
        assert "×" in str(table.get_cell("torch-qint8-x86", "speedup"))
        await pilot.resize_terminal(160, 48)
        await pilot.pause(0.05)
        assert not table.compact and str(table.get_cell("openvino-int8", "status")) == "unavailable"
        while app.running:
            await pilot.pause(0.05)
        assert "×" in str(table.get_cell("torch-qint8-x86", "speedup"))


async def test_no_color_renders_every_theme_in_greys(monkeypatch):
    import re

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(FakeBackend(), theme="qtui-dark")
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)  # verdict colours, advice severities, the lot
        for theme in app.theme_names:
            app.theme = theme
            await pilot.pause()
            svg = app.export_screenshot()
            # text colours (CSS classes) and cell backgrounds (rects); not the SVG's window-chrome circles
            colours = set(re.findall(r"\.terminal-r\d+ \{ fill: #([0-9a-f]{6})", svg))
            colours |= set(re.findall(r'<rect fill="#([0-9a-f]{6})"', svg))
            assert len(colours) > 2, "the screenshot's colours were not found: the test would pass vacuously"
            channels = {c: [int(c[i:i + 2], 16) for i in (0, 2, 4)] for c in colours}
            coloured = {c for c, rgb in channels.items() if max(rgb) - min(rgb) > 8}  # greys, give or take
            assert not coloured, f"{theme}: colours despite NO_COLOR: {sorted(coloured)[:5]}"


class LateJoinBackend(FakeBackend):
    """fp32, qnnpack and x86 answer first; ort-qint8 waits, then builds (paused there until `go` is set)."""

    def __init__(self) -> None:
        import threading

        super().__init__()
        self.go = threading.Event()

    def run(self, plan, emit, cancel):
        from tui.core.accuracy import Accuracy
        from tui.core.events import FirstAnswer, RoundDone, RoutePhase, RouteReady, RunDone, RunStarted
        from tui.core.stats import Speedup

        seed = ("torch-fp32", "torch-qint8-qnnpack", "torch-qint8-x86")
        emit(RunStarted((*seed, "ort-qint8"), 128, 32, 2, 3, 60.0))
        emit(RoutePhase("ort-qint8", "waiting"))
        for rid in seed:
            emit(RouteReady(rid, 0.5, 58.6, None if rid == "torch-fp32" else Accuracy(0.95, 0.9, 0.8, 0.97, 10)))
        speedups = {"torch-qint8-qnnpack": Speedup(0.4, (0.38, 0.42), "slower", 3, 0.05),
                    "torch-qint8-x86": Speedup(2.3, (2.2, 2.4), "faster", 3, 0.04)}
        for r in (1, 2, 3):
            emit(RoundDone(r, 3, 3.0 * r, 60.0, {"torch-fp32": 0.8, "torch-qint8-qnnpack": 2.0,
                                                 "torch-qint8-x86": 0.35}, speedups))
        emit(FirstAnswer(3, 12.5, speedups, {"ort-qint8": "an ONNX export, optimized, then int8 weights"}))
        emit(RoutePhase("ort-qint8", "preparing"))
        self.go.wait(10)
        emit(RouteReady("ort-qint8", 9.0, 22.8, Accuracy(0.993, 0.98, 0.9, 0.99, 10)))
        emit(RunDone(None, False))
        return FakeResult(cancelled=False)


async def test_after_the_first_answer_the_answered_rows_rest_and_the_status_says_what_is_built():
    backend = LateJoinBackend()
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        table, status = app.query_one(RoutesTable), app.query_one(RunStatus)
        for _ in range(200):
            await pilot.pause(0.02)
            if "preparing ort-qint8" in str(status.render()):
                break
        assert "an ONNX export, optimized, then int8 weights" in str(status.render())
        assert str(table.get_cell("torch-fp32", "status")) == "paused"
        assert str(table.get_cell("torch-qint8-x86", "status")) == "paused"
        assert "×" in str(table.get_cell("torch-qint8-x86", "speedup"))  # the answer stays on screen
        assert str(table.get_cell("ort-qint8", "status")) == "preparing"
        backend.go.set()
        while app.running:
            await pilot.pause(0.05)
