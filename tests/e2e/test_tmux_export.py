"""`d` in the real dashboard (tmux, 80×24): the path prompt, the export, a folder on disk that encode.py loads."""

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from benchmarks.tmux_terminal import QTUI

pytestmark = pytest.mark.slow


def test_d_exports_the_recommended_route_to_the_path_typed(tmux, tmp_path):
    from tui.core.cpu import detect
    from tui.core.engines import recommend

    engine = recommend(detect()).engine
    if engine is None:  # no quantized engine suits this CPU: d must say there is nothing to export
        t = tmux(QTUI)
        t.wait_for("engine = ", 10)
        t.keys("d")
        t.wait_for("cannot be exported", 10)
        return
    route = f"torch-qint8-{engine}"
    t = tmux(QTUI)
    t.wait_for("engine = ", 10)
    t.keys("d")
    prompt = t.wait_for("Folder to create", 10)
    assert f"Export {route}" in prompt and f"./{route}" in prompt
    t.keys("C-u")  # clears the suggested path
    t.wait_until(lambda screen: f"./{route}" not in screen, 5, "the path field to clear")
    t.keys("deployed")
    t.wait_for("deployed", 5)
    t.keys("Enter")
    t.wait_for("exported to ./deployed —", 60)  # the folder as typed: an absolute temp path overflows 80 columns
    assert "Traceback" not in t.seen
    folder = tmp_path / "deployed"
    manifest = json.loads((folder / "qtui-export.json").read_text())
    assert manifest["route"]["id"] == route and manifest["measured"] == "not measured"  # no run in this session
    # The folder loads where qtui cannot be imported.
    result = subprocess.run([sys.executable, "-S", str(folder / "encode.py")], input="one text\nanother\n",
                            capture_output=True, text=True, cwd=folder, timeout=120,
                            env={"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-1000:]
    assert [len(line.split()) for line in result.stdout.splitlines()] == [384, 384]
    t.keys("q")
    t.wait_for("EXITED-0", 10)
    assert not any(p.name.startswith(".deployed") for p in Path(tmp_path).iterdir())  # no temp dir left
