"""The real `qtui` in a real terminal (tmux, 80×24): first screen, a run, quit, a clean shell."""

import shutil
import subprocess
import time
import uuid

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
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


@pytest.fixture
def tmux(tmp_path):
    sessions = []

    def start(command, size=(80, 24)):
        sessions.append(Tmux(f"cd {tmp_path} && QTUI_CACHE_DIR={tmp_path}/cache {command}", size))
        return sessions[-1]

    yield start
    for s in sessions:
        s.close()


def test_first_screen_run_and_clean_exit_at_80x24(tmux):
    t = tmux(f"{QTUI} --routes torch-fp32,torch-qint8-qnnpack,torch-qint8-x86 --num-texts 16 --rounds 3 "
             f"--time-budget 20 --threads 1")
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
