"""The real `qtui` over SSH (80×24, as on a server): first screen, a run resized mid-way, quit.

The test starts its own OpenSSH server on 127.0.0.1 with throwaway keys in tmp_path (nothing in /etc/ssh or
~/.ssh is read or changed), and runs `ssh -tt … qtui` in a tmux pane. Resizing the pane sends SIGWINCH to
the ssh client, which forwards the new size to the server's pty: qtui must redraw at the size it is told.
"""

import shlex
import subprocess

import pytest

from benchmarks.ssh_server import SSHServer, SSHServerError
from benchmarks.tmux_terminal import QTUI

pytestmark = pytest.mark.slow

RUN = f"{QTUI} --routes torch-fp32,torch-qint8-x86 --num-texts 16 --rounds 3 --time-budget 20 --threads 1 --no-rescue"


@pytest.fixture
def sshd(tmp_path):
    try:
        server = SSHServer(tmp_path)
    except SSHServerError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


def edges(screen: str) -> tuple[int, list[int]]:
    """(how many rows start with a panel's top or bottom edge in column 1, the widths of those drawn whole: up to
    the rightmost panel's closing `╮`, `╯` or `│`, past which only a scrollbar may follow)."""
    rows = [line.rstrip(" ▁▂▃▄▅▆▇█") for line in screen.split("\n") if line.startswith(("╭", "╰"))]
    return len(rows), [len(row) for row in rows if row.endswith(("╮", "╯", "│"))]


def table_header(screen: str) -> str:
    """The routes table's header row: full columns from 120 terminal columns up (routes_table.COMPACT_BELOW),
    compact ones below, switched whenever the terminal crosses that width."""
    return next((line for line in screen.split("\n") if line.startswith("│ route ")), "")


def laid_out_at(width: int, height: int):
    """A predicate: the dashboard is drawn for width×height — the Footer on the pane's last row, and every
    panel edge starting in column 1 spanning the width (less a scrollbar), none cut off. After tmux grows a
    pane, the old drawing stays where it was (Footer on an upper row, panels at the old width) until the
    program redraws; after it shrinks one, the old edges are cut off (no closing corner)."""
    def check(screen: str) -> bool:
        rows = screen.split("\n")
        footer_on_last_row = len(rows) > height and "Bench" in rows[height - 1] and not "".join(rows[height:])
        count, widths = edges(screen)
        return (footer_on_last_row and count >= 2 and len(widths) == count
                and all(width - 4 <= w <= width for w in widths))
    return check


def test_dashboard_over_ssh_resized_mid_run(sshd, tmux, tmp_path):
    hello = subprocess.run(sshd.command("echo hello-over-ssh", tty=False), capture_output=True, text=True,
                           timeout=60)
    assert "hello-over-ssh" in hello.stdout, \
        f"ssh to the test server failed: {hello.stderr}\nsshd log:\n{sshd.log.read_text(errors='replace')}"
    # The remote shell starts with a bare environment (no LANG, the client's TERM): give qtui what it needs.
    # No COLUMNS/LINES: Textual would take its size from them and ignore every resize.
    remote = (f"cd {tmp_path} && unset COLUMNS LINES && export QTUI_CACHE_DIR={tmp_path / 'cache'} "
              f"TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 HF_HUB_OFFLINE=1 TZ=UTC && exec {RUN}")
    t = tmux(shlex.join(sshd.command(remote)), size=(80, 24))

    first = t.wait_for("engine = ", 40)
    assert "AVX2" in first and "✓" in first  # the CPU's int8 features, UTF-8 glyphs intact over SSH
    assert t.size() == (80, 24)
    t.wait_until(laid_out_at(80, 24), 20, "first screen laid out at 80×24")  # "engine = " can precede the Footer

    t.keys("b")
    t.wait_for("preparing", 30)

    t.resize(120, 36)
    assert t.size() == (120, 36), "tmux did not resize the pane"
    wide = t.wait_until(laid_out_at(120, 36), 20, "dashboard re-laid out at 120×36 over SSH")
    assert max(len(line) for line in wide.split("\n")) > 100  # content beyond the old 80 columns
    wide = t.wait_until(lambda s: {"progress", "verdict", "best"} <= set(table_header(s).split()), 10,
                        "routes table switched to the full columns mid-run at 120 columns")
    assert "done in" not in wide, "the run ended before the resize took effect: not a mid-run resize"

    t.resize(100, 30)
    assert t.size() == (100, 30), "tmux did not resize the pane"
    t.wait_until(laid_out_at(100, 30), 20, "dashboard re-laid out at 100×30 over SSH")
    t.wait_until(lambda s: {"state", "result"} <= set(table_header(s).split()), 10,
                 "routes table back to the compact columns mid-run at 100 columns")

    done = t.wait_until(lambda s: "done in" in s and "×" in s and "[" in s, 150, "run finished with speedups")
    assert {"state", "result"} <= set(table_header(done).split())  # compact columns: 100 columns is narrow
    assert "faster" in done or "slower" in done or "unsure" in done  # a verdict, with the compact labels

    # Quit at a size other than the start size: tmux copies rows of the alternate screen into the shell's
    # screen when the pane grew meanwhile, unless qtui clears it on the way out (QtuiApp.on_unmount).
    t.keys("q")
    final = t.wait_for("EXITED-0", 20)  # ssh's exit code is qtui's
    assert "Bench" not in final and not any(c in final for c in "╭╰│─"), f"left on the shell's screen:\n{final}"
    assert "Traceback" not in t.seen
