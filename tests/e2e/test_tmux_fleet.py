"""The fleet screen in a real terminal (tmux) against the test fleet's sshd: at 80×24 a run cancelled with x (no
qtui left on the hosts, the terminal given back), at 160×48 a run to the end with the hosts × routes table."""

import pytest

from tests.e2e.fleet_hosts import FP32_ONLY, TINY

pytestmark = pytest.mark.slow


def fleet_command(fleet, out: str, routes) -> str:
    return " ".join([str(fleet.remote_qtui.split()[-1]), "fleet", "host-a", "host-b", "-F", str(fleet.config),
                     "--out", out, "--remote-qtui", f"'{fleet.remote_qtui}'", *routes, *TINY])


def test_fleet_screen_at_80x24_cancelled_with_x(fleet, tmux, tmp_path):
    t = tmux(fleet_command(fleet, "out", FP32_ONLY), size=(80, 24))
    screen = t.wait_for("x cancels", 30)
    assert "host-a" in screen and "host-b" in screen and "progress" in screen
    t.wait_until(lambda s: s.count("AVX") >= 2 or s.count("none") >= 2 or s.count("dotprod") >= 2, 60,
                 "both hosts' CPU badges")  # detect ran on both
    t.wait_until(lambda s: fleet.leftovers(), 60, "remote qtui bench running")
    t.keys("x")
    stopped = t.wait_for("cancelled — every remote run stopped", 30)
    assert all(len(line) <= 80 for line in stopped.split("\n"))
    assert not fleet.wait_no_leftovers(timeout=3), "x left a qtui running on a host"
    t.keys("q")
    final = t.wait_for("EXITED-130", 20)  # cancelled: as an interrupted `qtui fleet`
    assert "Traceback" not in t.seen and "╭" not in final
    assert not list((tmp_path / "out").glob("*.json"))


def test_fleet_screen_at_160x48_runs_to_the_comparison(fleet, tmux, tmp_path):
    t = tmux(fleet_command(fleet, "out", FP32_ONLY), size=(160, 48))  # the two-route table: test_fleet.py
    done = t.wait_for("2 of 2 hosts done", 120)
    assert "host-a sent/s (ref)" in done and "host-b sent/s" in done and "geometric mean" in done
    assert "★" in done and "torch-fp32" in done and "[" in done  # the fastest host marked, CIs
    host_rows = [line for line in done.split("\n") if line.strip().startswith(("host-a ", "host-b "))]
    assert len(host_rows) == 2 and all(" done " in row and "torch-" in row for row in host_rows)
    t.keys("q")
    t.wait_for("EXITED-0", 20)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["host-a.json", "host-b.json"]
    assert "Traceback" not in t.seen


def test_hosts_that_fail_say_why_on_the_screen_at_80x24(tmux, tmp_path):
    """Each reason stays on the screen under the table, not only in a notification that fades."""
    from benchmarks.tmux_terminal import QTUI

    (tmp_path / "cfg").write_text("Host 127.0.0.1\n  Port 9\n")  # the discard port: nothing listens there
    t = tmux(f"{QTUI} fleet nosuchhost.invalid 127.0.0.1 --routes torch-fp32 --connect-timeout 3 --out out -F cfg",
             size=(80, 24))
    screen = t.wait_for("0 of 2 hosts done, 2 failed", 30)
    assert "│nosuchhost.invalid: failed — cannot resolve" in screen and "│127.0.0.1: failed — " in screen
    t.keys("q")
    t.wait_for("EXITED-3", 20)
    assert "Traceback" not in t.seen and not (tmp_path / "out").exists()  # no empty output folder left behind
