"""tui.core never imports textual; the modules the dashboard needs at startup import no heavy runtime."""

import pkgutil

import pytest

import tui.core
from tests.conftest import run_python

CORE_MODULES = sorted(f"tui.core.{m.name}" for m in pkgutil.iter_modules(tui.core.__path__))
HEAVY = ("torch", "sentence_transformers", "transformers", "onnxruntime", "openvino", "nncf", "scipy")


def test_there_are_core_modules():
    assert "tui.core.cpu" in CORE_MODULES and "tui.core.engines" in CORE_MODULES


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_does_not_load_textual(module):
    result = run_python(f"import sys, {module}\nprint([m for m in sys.modules if m.split('.')[0] == 'textual'])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["tui.core.cpu", "tui.core.engines", "tui.core.detect", "tui.cli", "tui.app"])
def test_startup_modules_import_no_heavy_runtime(module):
    result = run_python(f"import sys, {module}\nprint([m for m in {HEAVY!r} if m in sys.modules])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_dashboard_paints_without_the_coordinator_or_pygments():
    """What the first frame does not need stays out of it: the run's modules load when a run starts."""
    later = ("tui.core.bench", "tui.core.events", "tui.core.report", "tui.core.workload", "pygments")
    result = run_python(f"import sys, tui.app\nprint([m for m in {later!r} if m in sys.modules])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_ssh_loads_only_when_a_fleet_runs():
    """`qtui --help` builds every parser, the fleet's included; the dashboard paints before any fleet runs."""
    code = ("import sys, tui.cli, tui.app; tui.cli.build_parser()\n"
            "print([m for m in ('asyncssh', 'asyncio', 'tui.core.fleet') if m in sys.modules])")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "asyncssh" not in result.stdout and "tui.core.fleet" not in result.stdout
