import pytest

from tests.e2e.terminal import Tmux


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
