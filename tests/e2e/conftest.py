import pytest

from benchmarks.tmux_terminal import Tmux, kill_server
from tests.e2e.fleet_hosts import fleet  # noqa: F401  (a session fixture: three sshd, started once)


@pytest.fixture(scope="session", autouse=True)
def tmux_server():
    """The tests' own tmux server lives as long as the test session."""
    yield
    kill_server()


@pytest.fixture
def tmux(tmp_path):
    """Start commands in real terminals; each runs in tmp_path with its own artefact cache."""
    sessions = []

    def start(command, size=(80, 24)):
        sessions.append(Tmux(f"cd {tmp_path} && QTUI_CACHE_DIR={tmp_path}/cache {command}", size))
        return sessions[-1]

    yield start
    for s in sessions:
        s.close()
