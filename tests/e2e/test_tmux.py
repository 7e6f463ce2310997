"""The real `qtui` in a real terminal (tmux, 80×24): first screen, a run, quit, a clean shell."""

import pytest

from benchmarks.tmux_terminal import QTUI

pytestmark = pytest.mark.slow


def test_first_screen_run_and_clean_exit_at_80x24(tmux):
    t = tmux(f"{QTUI} --routes torch-fp32,torch-qint8-qnnpack,torch-qint8-x86 --num-texts 16 --rounds 3 "
             f"--time-budget 20 --threads 1 --no-rescue")  # the rescue has tests of its own
    first = t.wait_for("engine = ", 10)
    assert "AVX2" in first and "✓" in first  # the CPU's int8 features, named on the first screen
    t.keys("b")
    t.wait_for("preparing", 20)  # live progress within seconds
    done = t.wait_for("done in", 150)
    assert "slower" in done or "faster" in done  # verdicts with the speedups
    assert "×" in done and "[" in done  # speedup with its CI
    t.wait_for("Advice", 5)
    t.keys("q")
    final = t.wait_for("EXITED-0", 10)
    assert "Bench" not in final  # the dashboard is gone: the terminal is back to the shell
    assert "Traceback" not in t.seen
