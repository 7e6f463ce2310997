"""The real `qtui` in tmux: `m` hands the mouse to the terminal and back; `y` copies through tmux (OSC 52)."""

import time

import pytest

from benchmarks.tmux_terminal import QTUI
from benchmarks.tmux_terminal import tmux as tmux_command

pytestmark = pytest.mark.slow


def wait_pane(t, fmt: str, want: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while t.pane(fmt) != want:
        assert time.monotonic() < deadline, f"{fmt} stayed {t.pane(fmt)!r}, wanted {want!r}"
        time.sleep(0.1)


def test_m_releases_the_mouse_and_takes_it_back(tmux):
    t = tmux(QTUI)
    t.wait_for("engine = ", 15)
    wait_pane(t, "#{mouse_any_flag}", "1")  # Textual reports every mouse event: the terminal cannot select
    t.keys("m")
    wait_pane(t, "#{mouse_any_flag}", "0")
    assert t.pane("#{mouse_standard_flag}") == "0" and t.pane("#{mouse_sgr_flag}") == "0"
    t.wait_for("Mouse released", 5)
    t.keys("m")
    wait_pane(t, "#{mouse_any_flag}", "1")
    t.keys("q")
    t.wait_for("EXITED-0", 10)


def test_y_copies_the_engine_recipe_through_tmux_or_says_what_to_set(tmux):
    t = tmux(QTUI)
    t.wait_for("engine = ", 15)
    t.keys("Tab")  # focus the engine card
    tmux_command("set-option", "-s", "set-clipboard", "external")  # tmux 3.3's default: OSC 52 from the pane is dropped
    t.keys("y")
    t.wait_for("set-clipboard on", 5)  # qtui noticed that tmux drops the copy, and says what to set
    tmux_command("set-option", "-s", "set-clipboard", "on")
    tmux_command("delete-buffer")  # (fails harmlessly when there is none)
    t.keys("y")
    deadline = time.monotonic() + 5
    while "torch.backends.quantized.engine = " not in (buffer := tmux_command("show-buffer")):
        assert time.monotonic() < deadline, f"tmux's paste buffer did not get the recipe: {buffer!r}"
        time.sleep(0.1)
    assert "quantize_dynamic" in buffer
    screen = t.wait_for("copied", 5)
    assert "Ptmux" not in screen and "]52;" not in screen  # the passthrough form left no garbage on screen
    t.keys("q")
    t.wait_for("EXITED-0", 10)
    assert "Traceback" not in t.seen
