"""Leaving the dashboard in the middle of a real run (q, x then q, SIGTERM, SIGHUP, the terminal itself going
away) gives back a sane terminal, no workers and no run directory.

The session runs `qtui`, then — in the same terminal — checks what it left behind: the tty settings against
the ones saved before it started (`stty -g`), a plain `read` (echo and Enter handled by the tty driver, not by
readline, which would hide a broken tty), and finally an interactive bash.
"""

import os
import re
import signal
import time

import psutil
import pytest

from benchmarks.processes import is_worker
from benchmarks.tmux_terminal import QTUI, Tmux

pytestmark = pytest.mark.slow

RUN = f"{QTUI} --routes torch-fp32,torch-qint8-x86 --num-texts 16 --rounds 20 --time-budget 60 --threads 1 --quick"
# What tmux knows about the pane's modes; each must be back to a plain shell's value once qtui has exited.
RESTORED = {"alternate_on": "0", "cursor_flag": "1", "insert_flag": "0", "keypad_flag": "0",
            "keypad_cursor_flag": "0", "mouse_any_flag": "0", "mouse_all_flag": "0", "mouse_standard_flag": "0",
            "mouse_button_flag": "0", "mouse_sgr_flag": "0", "mouse_utf8_flag": "0", "origin_flag": "0",
            "wrap_flag": "1"}


@pytest.fixture
def session(tmp_path):
    cache = tmp_path / "cache"
    (tmp_path / "tmp").mkdir()  # qtui's TMPDIR: its run directories are counted there
    command = (f"cd {tmp_path} && stty -g > tty.before && TMPDIR={tmp_path / 'tmp'} QTUI_CACHE_DIR={cache} {RUN}; "
               "echo EXITED-$?; stty -g > tty.after; cmp -s tty.before tty.after && echo TTY-SAME || echo TTY-CHANGED; "
               "printf 'type> '; read -r line; echo \"GOT[$line]\"; exec bash --norc --noprofile")
    t = Tmux(command, size=(80, 24))
    t.tmp = tmp_path / "tmp"
    yield t, f"QTUI_CACHE_DIR={cache}"
    t.close()


def qtui_processes(marker: str) -> list[psutil.Process]:
    """qtui and everything it started (workers, multiprocessing's resource tracker): they carry its environment."""
    found = []
    for p in psutil.process_iter():
        try:
            if marker in (f"{k}={v}" for k, v in p.environ().items()):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def workers(procs: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in procs if is_worker(p)]


def dashboard(marker: str) -> psutil.Process:
    """The qtui process itself (its workers carry the same marker)."""
    (found,) = [p for p in qtui_processes(marker) if p.cmdline()[1:2] == [QTUI]]
    return found


def start_run(t: Tmux, marker: str, until: str) -> None:
    t.wait_for("engine = ", 15)
    t.keys("b")
    deadline = time.monotonic() + 150
    while not re.search(until, t.screen()):
        assert time.monotonic() < deadline, f"no {until!r} within 150 s:\n{t.screen()}"
        time.sleep(0.5)
    running = workers(qtui_processes(marker))
    assert len(running) == 2, f"expected a worker per route, found {[p.cmdline() for p in running]}"


# The only lines the session's screen may show once qtui has exited (it started on an empty screen, with no
# prompt): the checks below, and the shell's prompt and echo.
EXPECTED_AFTER_EXIT = re.compile(r"(EXITED-(0|143|129)|TTY-SAME|type>( typed-by-a-person)?|typed-by-a-person|"
                                 r"GOT\[typed-by-a-person\]|.*[#$]( echo SANE-\$\(\(6\*7\)\))?|SANE-42|"
                                 r"qtui: (terminated \(SIGTERM\)|hung up \(SIGHUP\)); run cancelled, workers stopped|)")


def check_clean_exit(t: Tmux, marker: str, pressed_q_at: float, code: int = 0) -> None:
    final = t.wait_for(f"EXITED-{code}", 5)
    took = time.monotonic() - pressed_q_at
    assert took < 5, f"qtui took {took:.1f} s to exit"
    assert "Bench" not in final  # the dashboard is gone
    # Nothing qtui started outlives it (workers, multiprocessing's resource tracker) for more than a moment.
    deadline = time.monotonic() + 5
    while (left := qtui_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"left behind: {[p.cmdline() for p in left]}"
    assert not list(t.tmp.glob("qtui-run-*")), "the run's temporary directory was left behind"
    after_exit = t.wait_for("type>", 5)  # capture-pane drops the trailing space
    assert "TTY-SAME" in after_exit, f"qtui left the tty settings changed:\n{after_exit}"
    modes = {name: t.pane(f"#{{{name}}}") for name in RESTORED}
    assert modes == RESTORED
    # The tty driver echoes what is typed and turns Enter into end of line.
    t.keys("typed-by-a-person", "Enter")
    shown = t.wait_for("GOT[typed-by-a-person]", 5)
    assert shown.count("typed-by-a-person") == 2, shown  # echoed as typed, then read back
    # And an interactive shell works. Typed before bash's prompt (`bash-5.2# ` without an rc file), the tty
    # echoes the command on a line of its own, which is typeahead, not qtui output: wait for the prompt first.
    t.wait_for("bash-", 5)
    t.keys("echo SANE-$((6*7))", "Enter")
    t.wait_for("SANE-42", 5)
    assert "Traceback" not in t.seen
    # Nothing printed after qtui's exit but the shell's own lines: in particular no multiprocessing
    # resource_tracker "leaked semaphore objects" warning about the killed workers, which lands in the
    # middle of whatever the user types next.
    unexpected = [line for line in t.screen().splitlines() if not EXPECTED_AFTER_EXIT.fullmatch(line.strip())]
    assert not unexpected, "printed on the terminal after qtui exited:\n" + "\n".join(unexpected)


def test_q_in_the_middle_of_a_run_exits_cleanly(session):
    t, marker = session
    start_run(t, marker, r"round \d+ of up to")
    t.keys("q")
    check_clean_exit(t, marker, time.monotonic())


def test_x_keeps_finished_rounds_then_q_exits_cleanly(session):
    t, marker = session
    start_run(t, marker, r"round [2-9] of up to")
    t.keys("x")
    shown = t.wait_for("cancelled", 10)
    row = next(line for line in shown.splitlines() if "qint8-x86" in line)
    assert re.search(r"\d\.\d\d× \[\d\.\d\d–\d\.\d\d\]", row), shown  # the finished rounds' speedup is kept
    assert not workers(qtui_processes(marker))  # cancel killed the workers; the dashboard stays
    t.keys("q")
    check_clean_exit(t, marker, time.monotonic())


@pytest.mark.parametrize("sig, code, said", [(signal.SIGTERM, 143, "qtui: terminated (SIGTERM)"),
                                             (signal.SIGHUP, 129, "qtui: hung up (SIGHUP)")])
def test_sigterm_or_sighup_in_the_middle_of_a_run_exits_cleanly(session, sig, code, said):
    """What CI timeouts, systemd and `timeout` send (SIGTERM), or a hang-up that left the terminal in place."""
    t, marker = session
    start_run(t, marker, r"round \d+ of up to")
    os.kill(dashboard(marker).pid, sig)
    sent = time.monotonic()
    shown = t.wait_for(f"EXITED-{code}", 5)
    assert f"{said}; run cancelled, workers stopped" in shown  # one line, on the shell's screen
    check_clean_exit(t, marker, sent, code)


def test_the_terminal_going_away_mid_run_leaves_no_worker_and_no_run_directory(session):
    """An SSH session that drops: the terminal hangs up (SIGHUP, writes fail) and nobody is left to look."""
    t, marker = session
    start_run(t, marker, r"round \d+ of up to")
    qtui = dashboard(marker)
    t.close()  # tmux closes the pane's terminal: the kernel sends SIGHUP to its processes
    qtui.wait(timeout=10)  # it exits (no hang on the dead terminal) ...
    deadline = time.monotonic() + 5
    while (left := qtui_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"left behind: {[p.cmdline() for p in left]}"  # ... with its workers
    assert not list(t.tmp.glob("qtui-run-*"))
