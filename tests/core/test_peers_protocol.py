"""A peer's worker under another interpreter (tui.core.peer_process): the worker protocol end to end with a
stand-in for the peers' python (tests/peer_standin), so make test needs no .venv-peers. The real peers, in their
real environment, are tests/test_peers_real.py."""

import sys

import psutil
import pytest

from tests.conftest import ROOT
from tests.core.test_bench import run_collecting, tiny_plan
from tui.core import peer_process
from tui.core.events import RouteFailed
from tui.core.report import build_document, format_summary
from tui.core.routes import ROUTES, parse_routes, static_unavailability
from tui.core.routes import peers as peer_routes

STANDIN = ROOT / "tests" / "peer_standin" / "python"

pytestmark = pytest.mark.slow


@pytest.fixture
def standin(monkeypatch):
    monkeypatch.setenv(peer_routes.PEERS_PYTHON_ENV, str(STANDIN))
    monkeypatch.setenv("QTUI_STANDIN_PYTHON", sys.executable)


def test_a_peer_runs_in_its_own_interpreter_in_the_same_paired_rounds(tmp_path, standin):
    plan = tiny_plan(tmp_path, ["torch-fp32", "fastembed"])
    result, _ = run_collecting(plan)
    peer = result.routes["fastembed"]
    assert peer.status == "ok", peer.why
    assert peer.facts["versions"] == "standin-peer=1.0"  # set only by the stand-in process's runner
    base = result.routes["torch-fp32"].seconds
    assert len(peer.seconds) >= 2 and set(peer.seconds) <= set(base)  # paired on rounds both ran
    doc = build_document(result)
    route = next(r for r in doc["routes"] if r["id"] == "fastembed")
    assert route["peer"] is True and route["peer_versions"] == {"standin-peer": "1.0"}
    assert route["accuracy"]["cosine_mean"] > 0.9999  # the stand-in is fp32: the vectors crossed intact
    # A peer is compared with qtui's pick, never picked itself.
    assert doc["recommendation"]["route"] != "fastembed"
    entry = doc["peers"]["routes"][0]
    assert entry["id"] == "fastembed" and entry["pick_vs"]["point"] > 0
    assert doc["peers"]["pick"] == doc["recommendation"]["route"]
    assert "Against the peers:" in doc["finding"]["headline"]
    summary = format_summary(doc)
    assert "fastembed (peer)" in summary and "Against the peers:" in summary
    assert not [p for p in peer_process._LIVE if p.is_alive()]  # stopped with the run


def test_a_peer_worker_killed_fails_its_route_and_the_run_goes_on(tmp_path, standin):
    plan = tiny_plan(tmp_path, ["torch-fp32", "fastembed"], worker_env=(("QTUI_TEST_CRASH", "fastembed:prepared"),))
    result, events = run_collecting(plan)
    failed = [e for e in events if isinstance(e, RouteFailed)]
    assert [e.route_id for e in failed] == ["fastembed"] and "SIGKILL" in failed[0].why
    assert result.routes["torch-fp32"].status == "ok" and result.rounds >= 2


def test_an_interpreter_that_cannot_start_the_worker_says_so(tmp_path, monkeypatch):
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'No module named tui' >&2\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv(peer_routes.PEERS_PYTHON_ENV, str(broken))
    result, events = run_collecting(tiny_plan(tmp_path, ["torch-fp32", "fastembed"]))
    failed = [e for e in events if isinstance(e, RouteFailed)]
    assert failed and "exited with code 3" in failed[0].why and "No module named tui" in failed[0].why


def test_without_the_peers_environment_a_peer_is_unavailable_with_the_command_that_builds_it(tmp_path,
                                                                                              monkeypatch):
    monkeypatch.delenv(peer_routes.PEERS_PYTHON_ENV, raising=False)
    monkeypatch.setattr(peer_routes, "source_root", lambda: tmp_path)  # a checkout without .venv-peers
    why = static_unavailability(ROUTES["st-openvino-qint8"], None)
    assert why and "make peers" in why
    monkeypatch.setenv(peer_routes.PEERS_PYTHON_ENV, str(tmp_path / "nowhere"))
    assert "not an executable Python" in static_unavailability(ROUTES["fastembed"], None)


def test_peers_take_no_length_cap_and_are_not_a_default_route():
    from tui.core.routes import DEFAULT_ROUTES, RouteError

    assert not any(ROUTES[r].peer for r in DEFAULT_ROUTES)
    with pytest.raises(RouteError, match="as its project ships it"):
        parse_routes("fastembed@len32")


def test_no_peer_process_outlives_qtui(tmp_path, standin):
    """A cancelled run kills its workers; a peer's is a plain subprocess, killed the same way."""
    import threading

    cancel = threading.Event()
    seen = []

    def watch(event):
        if type(event).__name__ == "RouteReady" and event.route_id == "fastembed":
            seen.extend(p.pid for p in peer_process._LIVE)
            cancel.set()

    from tui.core import bench

    bench.run(tiny_plan(tmp_path, ["torch-fp32", "fastembed"], max_rounds=50, min_rounds=50), watch, cancel.is_set)
    assert seen
    assert not [pid for pid in seen if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
