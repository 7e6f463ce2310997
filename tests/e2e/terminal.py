"""A real terminal for end-to-end tests: a detached tmux session we type into and read back."""

import shutil
import subprocess
import time
import uuid

from tests.conftest import ROOT

QTUI = str(ROOT / ".venv" / "bin" / "qtui")


class Tmux:
    def __init__(self, command: str, size=(80, 24)) -> None:
        assert shutil.which("tmux"), "tmux is missing: `make test` installs it (apt-get install tmux)"
        self.name = f"qtui-{uuid.uuid4().hex[:8]}"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(size[0]), "-y", str(size[1]),
                        f"{command}; echo EXITED-$?; sleep 600"], check=True)
        self.seen = ""

    def screen(self) -> str:
        text = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout
        self.seen += text
        return text

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def pane(self, fmt: str) -> str:
        """A tmux format about the pane, e.g. '#{alternate_on}' or '#{mouse_any_flag}'."""
        return subprocess.run(["tmux", "display-message", "-p", "-t", self.name, fmt],
                              capture_output=True, text=True).stdout.strip()

    def resize(self, width: int, height: int) -> None:
        subprocess.run(["tmux", "resize-window", "-t", self.name, "-x", str(width), "-y", str(height)], check=True)

    def wait_for(self, needle: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if needle in text:
                return text
            time.sleep(0.5)
        raise AssertionError(f"{needle!r} did not appear within {timeout} s; screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)
