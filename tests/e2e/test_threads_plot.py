"""The real `qtui --threads-sweep` in a real terminal: after a run, n plots throughput against threads for fp32
and the int8 route — read at 80×24, then again after the terminal grows to 160×48."""

import pytest

from benchmarks.tmux_terminal import QTUI

pytestmark = pytest.mark.slow

ROUTES = ("torch-fp32", "torch-qint8-x86")


def plot_rows(screen: str) -> list[str]:
    """Rows of the plot's area: between its y axis ticks (┫ or ┃ at the left edge of the frame)."""
    return [line for line in screen.splitlines() if "┫" in line or "┃" in line]


def shows_the_plot(screen: str) -> bool:
    braille = any(0x2800 <= ord(c) <= 0x28FF for c in screen)  # the curves (textual-plot draws in braille)
    return (braille and "●" in screen and "sent/s" in screen and "┻" in screen and "┳" in screen
            and all(rid in screen for rid in ROUTES) and "Thread scaling" in screen)


def test_n_plots_the_thread_sweep_at_80x24_and_160x48(tmux):
    t = tmux(f"{QTUI} --routes {','.join(ROUTES)} --num-texts 16 --batch-size 8 --rounds 3 --time-budget 20 "
             f"--threads 1 --threads-sweep 1,2 --no-rescue")
    t.wait_for("engine = ", 15)
    t.keys("b")
    t.wait_for("thread sweep", 240)  # the sweep reports its progress in the status line
    t.wait_for("n plots threads", 240)
    t.keys("n")
    narrow = t.wait_until(shows_the_plot, 10, "the thread plot at 80×24")
    assert max(len(line) for line in narrow.splitlines()) <= 80
    t.resize(160, 48)
    # The plot grew with the terminal (its table may show a frame before the plot is laid out again).
    wide = t.wait_until(lambda s: shows_the_plot(s) and "speedup [95 % CI]" in s and "sent/s" in s
                        and len(plot_rows(s)) > len(plot_rows(narrow)), 10, "the thread plot and its table at 160×48")
    assert any(len(line.rstrip()) > 100 for line in plot_rows(wide))
    t.keys("q")  # closes the view
    t.wait_until(lambda s: "Thread scaling" not in s, 5, "the view closed")
    t.keys("q")
    t.wait_for("EXITED-0", 10)
    assert "Traceback" not in t.seen
