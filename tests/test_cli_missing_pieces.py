"""`qtui bench` on a machine without the optional runtimes: their routes say what to install, the rest runs.

The runtimes are really absent for the run, not mocked: the CLI (and every worker it spawns, which inherit the
environment) sees a copy of the venv's site-packages made of symlinks to every entry except the hidden
packages and their metadata, so `importlib.util.find_spec`, `import` and `importlib.metadata` all agree they
are not installed — exactly what a user who skipped the extras has.
"""

import json
import os
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_qtui

pytestmark = pytest.mark.slow
TINY = ["--num-texts", "8", "--batch-size", "4", "--rounds", "2", "--threads", "1"]
ONNX_HINT = "pip install 'qtui-bench[onnx]' (onnxruntime, onnx, onnxscript)"
OPENVINO_HINT = "pip install 'qtui-bench[openvino]' (openvino, nncf)"


def without(packages: tuple[str, ...], where: Path) -> dict:
    """Environment for a Python in which `packages` (import names = distribution names here) are not installed."""
    site = Path(sysconfig.get_paths()["purelib"])
    shadow = where / "site-packages"
    shadow.mkdir()
    hidden = {p.lower() for p in packages}
    for entry in site.iterdir():
        name = entry.name.split("-")[0].lower() if entry.name.endswith((".dist-info", ".egg-info")) else entry.name
        if name.lower() not in hidden:
            (shadow / entry.name).symlink_to(entry)
    startup = where / "startup"
    startup.mkdir()
    (startup / "sitecustomize.py").write_text(
        "import sys\n"
        f"sys.path[:] = [{str(shadow)!r} if p == {str(site)!r} else p for p in sys.path]\n")
    return dict(os.environ, PYTHONPATH=str(startup), QTUI_CACHE_DIR=str(where / "cache"))


def test_the_simulation_hides_the_packages_completely(tmp_path):
    import subprocess

    env = without(("onnxruntime", "openvino"), tmp_path)
    code = ("import importlib.util, importlib.metadata as md\n"
            "print(importlib.util.find_spec('onnxruntime'), importlib.util.find_spec('openvino'))\n"
            "try:\n    md.version('onnxruntime')\nexcept md.PackageNotFoundError:\n    print('no metadata')\n"
            "try:\n    import openvino\nexcept ModuleNotFoundError as e:\n    print(e)\n"
            "import torch, onnx, nncf\nprint('others ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                            timeout=120)
    assert result.stdout.splitlines() == ["None None", "no metadata", "No module named 'openvino'", "others ok"], \
        result.stderr


def test_the_install_hints_name_extras_that_exist():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {d.split(">")[0].split("=")[0] for d in extras["onnx"]} == {"onnxruntime", "onnx", "onnxscript"}
    assert {d.split(">")[0].split("=")[0] for d in extras["openvino"]} == {"openvino", "nncf"}


def test_missing_onnxruntime_and_openvino_make_their_routes_unavailable_and_the_rest_runs(tmp_path):
    env = without(("onnxruntime", "openvino"), tmp_path)
    out = tmp_path / "r.json"
    result = run_qtui("bench", "--routes", "torch-fp32,ort-fp32,ort-qint8,openvino-int8,torch-qint8-qnnpack", *TINY,
                      "--no-rescue", "--json", str(out), timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    doc = json.loads(out.read_text())
    routes = {r["id"]: r for r in doc["routes"]}
    assert "onnxruntime" not in doc["env"]["packages"] and "openvino" not in doc["env"]["packages"]
    for rid in ("ort-fp32", "ort-qint8"):
        assert routes[rid]["status"] == "unavailable"
        assert routes[rid]["why"] == f"onnxruntime not installed: {ONNX_HINT}"
        assert routes[rid]["throughput"] is None and routes[rid]["speedup"] is None
    assert routes["openvino-int8"]["status"] == "unavailable"
    assert routes["openvino-int8"]["why"] == f"openvino not installed: {OPENVINO_HINT}"
    # The others ran in full.
    for rid in ("torch-fp32", "torch-qint8-qnnpack"):
        assert routes[rid]["status"] == "ok" and len(routes[rid]["throughput"]["samples"]) == 2
    assert routes["torch-qint8-qnnpack"]["speedup"]["point"] > 0
    assert doc["rounds"] == 2
    # People read the same on stdout: the install command, once per unavailable route.
    assert f"ort-qint8: unavailable — onnxruntime not installed: {ONNX_HINT}" in result.stdout
    assert f"openvino-int8: unavailable — openvino not installed: {OPENVINO_HINT}" in result.stdout
    # `qtui routes` agrees.
    listed = run_qtui("routes", env=env).stdout
    assert f"unavailable here: onnxruntime not installed: {ONNX_HINT}" in listed
