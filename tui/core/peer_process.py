"""A peer route's worker, run by the peers' own interpreter (routes/peers.py) and speaking the worker protocol.

multiprocessing cannot start it: its spawn hands the child the parent's sys.path, which would put qtui's
site-packages (transformers 5, huggingface-hub 2) before the peers' own. So the child is a plain subprocess of
that interpreter, with only qtui's source folder added to its path; the coordinator's end of a socket pair is the
same `Connection` a multiprocessing worker has, and this class answers the few `Process` calls `Worker` makes.
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess

_LIVE: set[PeerProcess] = set()  # killed when qtui exits, as multiprocessing does for its daemon workers


class PeerProcess:
    def __init__(self, child_conn, spec, setup: dict) -> None:
        self._child_conn = child_conn
        self._spec = spec
        self._setup = setup
        self._popen: subprocess.Popen | None = None

    def start(self) -> None:
        from tui.core.cache import default_cache_dir
        from tui.core.routes.peers import peers_python, source_root

        env = dict(os.environ)
        env["PYTHONPATH"] = str(source_root())  # qtui's code, none of its packages
        env.pop("PYTHONHOME", None)
        fd = self._child_conn.fileno()
        with open(self._setup["log_path"], "ab") as log:  # an import error before the worker's own log is set up
            self._popen = subprocess.Popen(
                [str(peers_python()), "-m", "tui.core.peer_main", str(fd)], pass_fds=(fd,), env=env,
                stdin=subprocess.PIPE, stdout=log, stderr=log, close_fds=True)
        _LIVE.add(self)
        try:
            # The cache's default folder resolved here: the peers' environment has none of qtui's packages.
            setup = {**self._setup, "cache_root": self._setup["cache_root"] or str(default_cache_dir())}
            self._popen.stdin.write(pickle.dumps((self._spec, setup)))
            self._popen.stdin.close()
        except BrokenPipeError:
            pass  # it died at start: exitcode and the log say why

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    @property
    def exitcode(self) -> int | None:
        return self._popen.poll() if self._popen else None  # negative: killed by that signal, like Process

    def is_alive(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        if self._popen is None:
            return
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return
        _LIVE.discard(self)

    def kill(self) -> None:
        if self.is_alive():
            self._popen.kill()


@atexit.register
def _kill_live() -> None:
    for peer in list(_LIVE):
        peer.kill()
        peer.join(timeout=2)
