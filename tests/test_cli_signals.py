"""`qtui bench` stopped by a signal mid-run: SIGTERM (a CI timeout, systemd, `timeout`) and SIGHUP (a dropped SSH
session) end it like Ctrl-C — workers killed, run directory removed, no report, one line, exit 128 + signal.
Sent to qtui alone (`kill PID`) and to its whole process group, as `timeout` and a hang-up do: then the workers
get it too and must leave the stopping to qtui (not die first and be reported as failed routes)."""

import os
import signal
import subprocess
import sys

import psutil
import pytest

from benchmarks.processes import is_worker
from tests.conftest import ROOT

RUN = ["bench", "--num-texts", "16", "--batch-size", "8", "--rounds", "50", "--time-budget", "60", "--threads", "1",
       "--routes", "torch-fp32,torch-qint8-x86", "--quick"]  # a worker per route: no mix added


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, said, to_group", [
    (signal.SIGTERM, 143, "qtui: terminated (SIGTERM); workers stopped, nothing written", False),
    (signal.SIGTERM, 143, "qtui: terminated (SIGTERM); workers stopped, nothing written", True),
    (signal.SIGHUP, 129, "qtui: hung up (SIGHUP); workers stopped, nothing written", True),
])
def test_a_stop_signal_mid_run_cleans_up_and_says_so_in_one_line(tmp_path, sig, code, said, to_group):
    (tmp_path / "tmp").mkdir()
    report = tmp_path / "r.json"
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"), QTUI_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.Popen([sys.executable, "-m", "tui", *RUN, "--json", str(report)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in proc.stderr:  # wait until rounds are running
            if line.startswith("round"):
                break
        started = psutil.Process(proc.pid).children(recursive=True)
        assert len([p for p in started if is_worker(p)]) == 2  # a worker per route
        assert list((tmp_path / "tmp").glob("qtui-run-*"))  # the run directory exists while it runs
        if to_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        rest = proc.stderr.read()
        assert proc.wait(timeout=15) == code
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    _, alive = psutil.wait_procs(started, timeout=5)
    assert not alive, f"left behind: {[p.pid for p in alive]}"
    assert not list((tmp_path / "tmp").glob("qtui-run-*")) and not report.exists()
    assert not list(tmp_path.glob(".r.json*"))
    lines = rest.strip().splitlines()
    assert lines[-1] == said and [line for line in lines if line.startswith("qtui:")] == [said], rest
    assert "failed" not in rest and "Traceback" not in rest  # no worker died before qtui stopped it
