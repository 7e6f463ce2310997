"""The wheel carries what a user needs: every module of tui/, the stylesheet, and the shipped themes, which live
in the repository's top-level themes/ and are mapped into the package tui.builtin_themes (not copied)."""

import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT

SOURCES = ("pyproject.toml", "README.md", "tui", "themes")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """`pip wheel .` on a copy of the sources (the build writes build/ and *.egg-info next to them)."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree
                                         else {}))
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                            "--quiet", "-w", str(out)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (path,) = out.glob("qtui_bench-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_carries_the_shipped_themes(wheel):
    themes = {n.removeprefix("tui/builtin_themes/") for n in wheel.namelist() if n.startswith("tui/builtin_themes/")}
    assert {p.name for p in (ROOT / "themes").glob("*.toml")} <= themes
    assert "tui/app.tcss" in wheel.namelist()


def test_the_wheel_carries_every_module_of_tui(wheel):
    """pyproject.toml lists tui's packages by hand (see there why): a new package must be added to that list."""
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tui").rglob("*.py")}
    missing = modules - set(wheel.namelist())
    assert not missing, f"not in the wheel (add their package to [tool.setuptools] packages): {sorted(missing)}"


def test_the_installed_wheel_finds_its_themes(wheel, tmp_path):
    wheel.extractall(tmp_path / "site")
    code = "import tui.themes as t; print(t.__file__); print(' '.join(x.name for x in t.load_themes()))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path / "site"),
                              "XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert run.returncode == 0, run.stderr
    where, names = run.stdout.splitlines()
    assert where.startswith(str(tmp_path / "site"))  # the wheel's copy, not the source tree
    assert names.split() == ["qtui-contrast", "qtui-dark", "qtui-light"]
