"""`qtui bench --json/--markdown` into a place the user may not write: one line, exit 2, at once, nothing written.

Permissions do not stop root, and the tests run as root in the container: there the CLI runs as root without
the capabilities that bypass file permissions (setpriv drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the
bounding set), so a read-only directory stops it like any user — while the repo and venv stay readable wherever
the clone lives (a `nobody` could not read a clone under a private directory). Not root: it runs as is.
"""

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT


def as_user_prefix() -> list[str]:
    """How to run a command subject to file permissions: nothing when we are not root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv"):
        return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    pytest.fail("running as root without setpriv (util-linux): cannot run the CLI subject to file permissions")


def run_subject_to_permissions(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    prefix = as_user_prefix()
    probe_code = ("import os, tempfile, tui.cli; d = tempfile.mkdtemp(); os.chmod(d, 0o555); "
                  "print(os.access(d, os.W_OK)); os.rmdir(d)")  # a read-only directory must stop this process
    probe = subprocess.run([*prefix, sys.executable, "-c", probe_code], capture_output=True, text=True, cwd=ROOT,
                           timeout=60)
    if probe.returncode != 0 or probe.stdout.strip() != "False":
        pytest.fail(f"cannot run qtui subject to file permissions here: {probe.stdout} {probe.stderr[-300:]}")
    env = dict(os.environ, HOME="/nonexistent", QTUI_CACHE_DIR="/nonexistent/cache")
    start = time.monotonic()
    result = subprocess.run([*prefix, sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=60)
    return result, time.monotonic() - start


@pytest.mark.parametrize("option", ["--json", "--markdown"])
def test_report_into_a_read_only_directory(tmp_path, option):
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    target = readonly / "r.out"
    result, took = run_subject_to_permissions("bench", "--routes", "torch-fp32", "--num-texts", "8", "--rounds", "2",
                                    option, str(target))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(target) in lines[0] and "not writable" in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert took < 10  # before any model loading
    assert list(readonly.iterdir()) == []


def test_json_over_a_read_only_file(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    existing = folder / "r.json"
    existing.write_text("{}\n")
    existing.chmod(0o444)
    folder.chmod(0o555)
    result, took = run_subject_to_permissions("bench", "--routes", "torch-fp32", "--json", str(existing))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(existing) in lines[0] and "not writable" in lines[0]
    assert "Traceback" not in result.stderr
    assert took < 10
    assert existing.read_text() == "{}\n" and [p.name for p in folder.iterdir()] == ["r.json"]
