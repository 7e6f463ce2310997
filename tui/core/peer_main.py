"""`python -m tui.core.peer_main FD`, in the peers' interpreter (tui.core.peer_process starts it): read the route and
its setup from stdin, then run qtui's worker loop on the socket `FD`."""

import pickle
import sys


def child_main() -> None:
    from multiprocessing.connection import Connection

    from tui.core.worker import _worker_main

    conn = Connection(int(sys.argv[1]))
    spec, setup = pickle.load(sys.stdin.buffer)
    _worker_main(conn, spec, setup)


if __name__ == "__main__":
    child_main()
