"""Every screen pinned at 80×24 and 160×48: idle, running, finished with advice, help, compare.

Deterministic: a fixed CPU (a saved cpuinfo), a fixed theme, and core events fed straight into the app
(no threads, no clock). Update after an intended UI change with `pytest --snapshot-update`, then look at
the SVGs before committing them.
"""

from dataclasses import replace

import pytest

from tests.app.fakes import FakeBackend, seed_document, task_document
from tui.app import make_app
from tui.messages import CoreEvent, RunFinished

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


class ScriptedEvents(FakeBackend):
    """The fake backend's events, collected instead of emitted from a thread."""

    def events(self, rounds_done: int):
        collected = []
        self.run(None, collected.append, lambda: False)
        cut = [i for i, e in enumerate(collected) if type(e).__name__ == "RoundDone"][rounds_done - 1]
        return collected[: cut + 1]


def app_for_snapshots():
    return make_app(FakeBackend(), theme="qtui-dark")


def feed(app, events):
    for event in events:
        app.on_core_event(CoreEvent(event))


@pytest.mark.parametrize("size", SIZES)
def test_idle(snap_compare, size):
    assert snap_compare(app_for_snapshots(), terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_running(snap_compare, size):
    async def mid_run(pilot):
        app = pilot.app
        app.running = True
        feed(app, ScriptedEvents(rounds=5).events(rounds_done=2))
        await pilot.pause()

    assert snap_compare(app_for_snapshots(), terminal_size=SIZES[size], run_before=mid_run)


@pytest.mark.parametrize("size", SIZES)
def test_finished_with_advice(snap_compare, size):
    async def finished(pilot):
        app = pilot.app
        feed(app, ScriptedEvents(rounds=3).events(rounds_done=3))
        await app.on_run_finished(RunFinished(seed_document(), cancelled=False))
        await pilot.pause()

    assert snap_compare(app_for_snapshots(), terminal_size=SIZES[size], run_before=finished)


@pytest.mark.parametrize("size", [*SIZES, "100x30"])
def test_finished_with_a_task(snap_compare, size):
    """The task column: the share of fp32's STS-B Spearman kept (and the score in the full layout), from 100
    columns; at 80 the finding and advice still speak the task's unit."""
    async def finished(pilot):
        app = pilot.app
        events = ScriptedEvents(rounds=3).events(rounds_done=3)
        feed(app, [replace(events[0], task="stsb"), *events[1:]])
        await app.on_run_finished(RunFinished(task_document(), cancelled=False))
        await pilot.pause()

    assert snap_compare(app_for_snapshots(), terminal_size={**SIZES, "100x30": (100, 30)}[size], run_before=finished)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, size):
    assert snap_compare(app_for_snapshots(), terminal_size=SIZES[size], press=["question_mark"])


@pytest.mark.parametrize("size", SIZES)
def test_compare(snap_compare, size, tmp_path, monkeypatch):
    import json

    monkeypatch.chdir(tmp_path)  # a relative path keeps the input's text the same on every machine
    (tmp_path / "saved.json").write_text(json.dumps(seed_document()))

    async def compare_screen(pilot):
        app = pilot.app
        app.document = seed_document()
        app.last_export = "saved.json"
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app_for_snapshots(), terminal_size=SIZES[size], run_before=compare_screen)
