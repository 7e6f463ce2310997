"""The kernels view in a real terminal (tmux): after a real run, `k` on the x86 route's row shows its int8 GEMMs
with the path right for this host (asked from detect()) marked inferred, and the fp32 facts marked observed; the
view holds at 160×48 and after a resize to 80×24, and closes with esc."""

import re

import pytest

from benchmarks.tmux_terminal import QTUI
from tui.core.cpu import detect
from tui.core.kernels import isa

pytestmark = pytest.mark.slow


def test_kernels_view_after_a_real_run_at_160x48_then_80x24(tmux):
    host = detect()
    t = tmux(f"{QTUI} --routes torch-fp32,torch-qint8-x86 --num-texts 16 --rounds 2 --time-budget 5 --no-rescue",
             size=(160, 48))
    t.wait_for("engine = ", 10)
    t.keys("b")
    t.wait_for("done in", 200)
    t.keys("Tab")  # the engine card
    t.keys("Tab")  # the routes table
    t.keys("Down")
    t.keys("k")
    wide = t.wait_for("Kernels that ran — torch-qint8-x86", 10)
    if host.is_x86 and host.has("avx2"):
        label = re.escape(isa.label(isa.fbgemm_isa(host.features, None)))
        assert re.search(rf"int8 GEMMs: \d+ on {label} \(inferred, FBGEMM\)", wide), wide
        assert "○ inferred" in wide and "● observed" in wide
    else:  # no FBGEMM path here: the x86 engine either did not run or says what it could not capture
        assert "not available" in wide or "GEMMs" in wide
    t.resize(80, 24)
    narrow = t.wait_until(lambda s: "Kernels that ran — torch-qint8-x86" in s
                          and "why is int8 slow on this CPU?" in s.splitlines()[0], 10, "the view re-laid at 80×24")
    print(wide, narrow, sep="\n")  # shown with -s: what a person sees
    assert "GEMMs" in narrow or "not available" in narrow
    t.keys("Escape")
    t.wait_until(lambda s: "Kernels that ran" not in s, 10, "the kernels view closes")
    t.keys("q")
    t.wait_for("EXITED-0", 15)
    assert "Traceback" not in t.seen
