"""A real terminal for qtui's end-to-end tests and its UI benchmarks: a detached tmux session we type into and read
back. It lives here, not under tests/, because benchmarks import nothing from tests/ (nor need pytest); the tests
import it as `benchmarks.tmux_terminal`.

The sessions live on a tmux server of their own (its own socket, no config file), started without COLUMNS and
LINES in its environment: Textual takes its size from those variables when they are set (Pilot tests set
them in this very process), and a pane would then never follow a resize. A server of our own also lets a
test set server options (set-clipboard) without touching the user's tmux."""

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QTUI = str(ROOT / ".venv" / "bin" / "qtui")
SOCKET = f"qtui-driver-{os.getpid()}"
TMUX = ["tmux", "-L", SOCKET, "-f", "/dev/null"]
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX", "TMUX_PANE")}


def tmux(*args: str, check: bool = False) -> str:
    return subprocess.run([*TMUX, *args], capture_output=True, text=True, env=CLEAN_ENV, check=check).stdout


def kill_server() -> None:
    tmux("kill-server")
    # tmux (3.3) leaves its socket file behind when the server exits: one per test session otherwise.
    Path(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", SOCKET).unlink(missing_ok=True)


class Tmux:
    def __init__(self, command: str, size=(80, 24)) -> None:
        assert shutil.which("tmux"), "tmux is missing: `make test` installs it (apt-get install tmux)"
        self.name = f"qtui-{uuid.uuid4().hex[:8]}"
        # exit-empty off: a server that exits with its last session races the next new-session, which then
        # fails with "server exited unexpectedly" (seen in CI). The server lives until kill_server().
        tmux("new-session", "-d", "-s", self.name, "-x", str(size[0]), "-y", str(size[1]),
             f"{command}; echo EXITED-$?; sleep 600", ";", "set-option", "-s", "exit-empty", "off", check=True)
        self.seen = ""

    def screen(self) -> str:
        text = tmux("capture-pane", "-p", "-t", self.name)
        self.seen += text
        return text

    def keys(self, *keys: str) -> None:
        tmux("send-keys", "-t", self.name, *keys, check=True)

    def pane(self, fmt: str) -> str:
        """A tmux format about the pane, e.g. '#{alternate_on}' or '#{mouse_any_flag}'."""
        return tmux("display-message", "-p", "-t", self.name, fmt).strip()

    def resize(self, width: int, height: int) -> None:
        tmux("resize-window", "-t", self.name, "-x", str(width), "-y", str(height), check=True)

    def wait_for(self, needle: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if needle in text:
                return text
            time.sleep(0.5)
        raise AssertionError(f"{needle!r} did not appear within {timeout} s; screen:\n{self.screen()}")

    def size(self) -> tuple[int, int]:
        """The pane's (width, height) as tmux has it: what the program in it is told by SIGWINCH/TIOCGWINSZ."""
        width, height = self.pane("#{pane_width} #{pane_height}").split()
        return int(width), int(height)

    def wait_until(self, predicate, timeout: float, what: str) -> str:
        """Poll the screen until predicate(screen) holds; the failure names `what` and shows the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.5)
        raise AssertionError(f"{what}: not within {timeout} s; screen:\n{self.screen()}")

    def close(self) -> None:
        tmux("kill-session", "-t", self.name)
