"""Telling qtui's worker processes apart from the rest of what it started."""

import psutil


def is_worker(p: psutil.Process) -> bool:
    """A route's worker: spawned (multiprocessing marks its command line) or forked from the workers' fork server
    (torch routes, tui/core/worker_preload.py), whose only children are workers."""
    try:
        if "--multiprocessing-fork" in p.cmdline():
            return True
        parent = p.parent()
        return parent is not None and any("multiprocessing.forkserver" in arg for arg in parent.cmdline())
    except psutil.Error:
        return False
