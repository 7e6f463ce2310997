"""After a finished dashboard run the cache is pruned to its cap, said in the status line (one line, only when it
removed something); a cancelled run prunes nothing."""

from pathlib import Path

from tests.app.fakes import FakeBackend
from tests.app.test_app import SIZE, run_to_end, status
from tui.app import make_app
from tui.backend import LiveBackend
from tui.core.cache import ArtefactCache
from tui.core.cache_admin import scan

NOTE = "cache over its 2.0 GB cap (QTUI_CACHE_MAX_SIZE): removed 2 least recently used entries, freed 1.1 GB"


async def test_a_finished_run_says_what_the_cap_pruned_in_the_status_line():
    backend = FakeBackend(prune_note=NOTE)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)
        assert backend.prunes == 1
        assert "recommended" in status(app) and status(app).endswith(NOTE)


async def test_nothing_pruned_says_nothing_and_a_cancelled_run_prunes_nothing():
    backend = FakeBackend()
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await run_to_end(pilot, app)
        assert backend.prunes == 1 and "cache" not in status(app)
    backend = FakeBackend(rounds=100, pause=0.1, prune_note=NOTE)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await pilot.pause(0.3)
        await pilot.press("x")
        for _ in range(100):
            await pilot.pause(0.02)
            if not app.running:
                break
        assert "cancelled" in status(app) and backend.prunes == 0 and NOTE not in status(app)


def test_the_live_backend_prunes_the_cache_to_its_cap(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    for key in ("onnx-int8-" + "a" * 20, "onnx-fp32-" + "b" * 20):
        ArtefactCache(root).get_or_build(key, lambda d: (d / "m.bin").write_bytes(b"w" * 5000) and {}, tmp_path)
    monkeypatch.setenv("QTUI_CACHE_DIR", str(root))
    monkeypatch.setenv("QTUI_CACHE_MAX_SIZE", "6k")
    line = LiveBackend().prune_cache()
    assert line is not None and "removed 1 least recently used entry" in line and len(scan(Path(root)).entries) == 1
    assert LiveBackend().prune_cache() is None
