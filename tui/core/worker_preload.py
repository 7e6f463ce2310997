"""What the workers' fork server imports once, so that torch routes' workers are forked with it already loaded.

Importing torch and sentence-transformers costs about 5 s of CPU (sentence-transformers pulls in transformers'
quantizers, torchao and scikit-learn); three workers spawned side by side on two cores paid it three times
before the first round. The server imports it once and forks each worker from there (`worker.start_method`).
Importing runs no OpenMP region, so the forked workers set their own thread counts as a spawned one does.

The server is a child of the coordinator: its output would reach the user's terminal (a Textual screen under
the dashboard), so it writes nowhere. It ignores the stop signals as the workers do: the coordinator stops
the run, and the server exits by itself when the coordinator does.
"""

import os
import signal
import sys


def _preload() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    from tui.core.models import quiet_transformers
    from tui.core.routes import silence_torch_ao_deprecation

    quiet_transformers()
    silence_torch_ao_deprecation()
    import sentence_transformers  # noqa: F401
    import torch  # noqa: F401


if "multiprocessing.forkserver" in sys.modules:  # the fork server's preload; any other importer gets nothing
    _preload()
