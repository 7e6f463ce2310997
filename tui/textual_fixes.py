"""Work-arounds for Textual bugs that matter to a long dashboard session; applied once, on import of tui.app.

Textual #6665 (open; still in 8.2.8): `StylesCache.get_inner_outer` is an instance method under
`functools.lru_cache(1024)`, so the cache key holds `self`, and every removed widget's StylesCache —
with all the Strips it rendered — stays alive until 1024 newer entries push it out. Each run remounts the
advice panel (≈5 new widgets), so the UI process grew ≈0.15 MB per run for ~180 runs. The method never
uses `self`: the same cache keyed on the two colours alone frees removed widgets at once.

A hung-up terminal (the SSH session dropped; tmux killed): writes fail with EIO and Textual's WriterThread dies
of the OSError, its bounded queue fills, and the exit path's `stop()` blocks on `put(None)` for ever — qtui
would hang after SIGHUP instead of exiting. A writer that keeps draining its queue after the terminal is gone
lets the exit path finish.
"""

from __future__ import annotations

import functools


def fix_styles_cache_leak() -> bool:
    """Re-key the cache on the colours only. False (and nothing changed) if this Textual no longer needs it."""
    from textual._styles_cache import StylesCache

    method = StylesCache.__dict__.get("get_inner_outer")
    if isinstance(method, (classmethod, staticmethod)) or not hasattr(method, "cache_info"):
        return False  # fixed upstream (made a classmethod) or changed: leave it alone
    original = method.__wrapped__

    @functools.lru_cache(1024)
    def get_inner_outer(base_background, background):
        return original(None, base_background, background)

    StylesCache.get_inner_outer = staticmethod(get_inner_outer)
    return True


def fix_writer_hang_on_dead_terminal() -> bool:
    """Keep Textual's writer thread draining its queue once writing fails. False if its shape has changed."""
    from textual.drivers._writer_thread import WriterThread

    original = WriterThread.run
    if getattr(original, "_qtui_fixed", False) or not hasattr(WriterThread, "stop"):
        return False

    def run(self) -> None:
        try:
            original(self)
        except OSError:  # the terminal is gone: nothing more can be shown; let stop() put its None and join
            while self._queue.get() is not None:
                pass

    run._qtui_fixed = True
    WriterThread.run = run
    return True


fix_styles_cache_leak()
fix_writer_hang_on_dead_terminal()
