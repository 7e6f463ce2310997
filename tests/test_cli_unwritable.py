"""`qtui bench --json/--markdown` into a place the user may not write: one line, exit 2, at once, nothing written.

Permissions do not stop root, and the tests run as root in the container: there the CLI runs as `nobody`
(setpriv, else runuser). On a developer's machine (not root) it runs as the developer.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

NOBODY = 65534


def as_user_prefix() -> list[str]:
    """How to run a command as an unprivileged user: nothing when we are one."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    pytest.fail("running as root with neither setpriv nor runuser: cannot run the CLI as an unprivileged user")


@pytest.fixture
def shared_dir():
    """A directory the unprivileged user can reach (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="qtui-unwritable-"))
    base.chmod(0o755)
    yield base
    for p in (base, *base.rglob("*")):
        p.chmod(0o755) if p.is_dir() else p.chmod(0o644)
    shutil.rmtree(base)


def run_unprivileged(*args: str) -> tuple[subprocess.CompletedProcess, float]:
    prefix = as_user_prefix()
    probe = subprocess.run([*prefix, sys.executable, "-c", "import os, tui.cli; print(os.geteuid())"],
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    if probe.returncode != 0 or probe.stdout.strip() == "0":
        pytest.fail(f"cannot run qtui as an unprivileged user here: {probe.stderr.strip()[-300:]}")
    env = dict(os.environ, HOME="/nonexistent", QTUI_CACHE_DIR="/nonexistent/cache")
    start = time.monotonic()
    result = subprocess.run([*prefix, sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=60)
    return result, time.monotonic() - start


@pytest.mark.parametrize("option", ["--json", "--markdown"])
def test_report_into_a_read_only_directory(shared_dir, option):
    readonly = shared_dir / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    target = readonly / "r.out"
    result, took = run_unprivileged("bench", "--routes", "torch-fp32", "--num-texts", "8", "--rounds", "2",
                                    option, str(target))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(target) in lines[0] and "not writable" in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert took < 10  # before any model loading
    assert list(readonly.iterdir()) == []


def test_json_over_a_read_only_file(shared_dir):
    folder = shared_dir / "reports"
    folder.mkdir()
    existing = folder / "r.json"
    existing.write_text("{}\n")
    existing.chmod(0o444)
    folder.chmod(0o555)
    result, took = run_unprivileged("bench", "--routes", "torch-fp32", "--json", str(existing))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(existing) in lines[0] and "not writable" in lines[0]
    assert "Traceback" not in result.stderr
    assert took < 10
    assert existing.read_text() == "{}\n" and [p.name for p in folder.iterdir()] == ["r.json"]
