"""Ctrl-C, SIGTERM (CI timeouts, systemd, `timeout`) and SIGHUP (an SSH session that drops) all mean the same:
stop the run, kill the workers, remove temporary files, write nothing half-done, say so in one line on stderr,
and exit 128 + the signal's number (130, 143, 129), as a shell reports a process the signal killed."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_VERBS = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", signal.SIGHUP: "hung up"}


class Stopped(BaseException):
    """Raised by `raise_stopped` like KeyboardInterrupt: not an error of the program, so not an Exception."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def exit_code(signum: int) -> int:
    return 128 + int(signum)


def stopped_line(signum: int, outcome: str = "") -> str:
    """'qtui: terminated (SIGTERM); workers stopped, nothing written'."""
    sig = signal.Signals(signum)
    return f"qtui: {_VERBS.get(sig, 'stopped')} ({sig.name})" + (f"; {outcome}" if outcome else "")


def say(line: str) -> None:
    """One line on stderr; after a hang-up the terminal may be gone, and that must not turn into a traceback."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def raise_stopped(signum: int) -> None:
    raise Stopped(signum)


@contextmanager
def on_stop_signals(handler: Callable[[int], None]) -> Iterator[None]:
    """Inside the block, SIGINT, SIGTERM and SIGHUP call handler(signum). A signal that was ignored when qtui
    started (`nohup`, `trap '' HUP`) stays ignored: whoever started qtui asked for that."""
    previous = {}
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, lambda signum, _frame: handler(signum))
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_DFL if old is None else old)  # None: a handler set outside Python


class StopRequest:
    """The first stop signal, remembered; `is_set` is the cancel callback the core's coordinator polls."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum

    def is_set(self) -> bool:
        return self.signum is not None
