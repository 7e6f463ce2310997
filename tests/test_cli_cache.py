"""`qtui cache` as a user runs it: the list, prune and clear on a populated cache, and every bad input (one line on
stderr, exit 2, no traceback, nothing removed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_python, run_qtui
from tests.test_cli_unwritable import as_user_prefix
from tui.core.cache import MANIFEST, ArtefactCache
from tui.core.cache_admin import format_size
from tui.core.json_cache import JsonCache

KEY_OLD, KEY_NEW = "onnx-int8-" + "a" * 20, "openvino-fp32-" + "b" * 20


def populate(root: Path, scratch: Path) -> None:
    for key, days in ((KEY_OLD, 10), (KEY_NEW, 1)):
        def build(d: Path) -> dict:
            (d / "model.bin").write_bytes(b"w" * 50_000)
            return {}

        entry, _, _ = ArtefactCache(root).get_or_build(key, build, scratch, about={"kind": key[:-21], "model": "mini"})
        then = os.stat(entry / MANIFEST).st_mtime - days * 86400
        os.utime(entry / MANIFEST, (then, then))
    JsonCache("mixes", "qtui.mix/1", "mix").store(root, "m1", {"kept": []}, model="mini")


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.fixture
def cache(tmp_path) -> Path:
    root = tmp_path / "cache"
    populate(root, tmp_path / "scratch")
    return root


def qtui(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run_qtui("cache", *args, env=dict(os.environ, QTUI_CACHE_DIR=str(root), **env))


def test_the_list_and_its_json(cache):
    table = qtui(cache)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0] == f"qtui cache: {cache}"
    assert "onnx-int8" in table.stdout and "openvino-fp32" in table.stdout and "rescue mix" in table.stdout
    assert "total" in table.stdout.splitlines()[-1] and "3 entries" in table.stdout
    doc = json.loads(qtui(cache, "list", "--json").stdout)
    assert doc["dir"] == str(cache) and [e["kind"] for e in doc["entries"]] == ["rescue mix", "openvino-fp32",
                                                                               "onnx-int8"]
    assert doc["total_bytes"] == sum(e["bytes"] for e in doc["entries"]) > 100_000


def test_prune_and_clear_say_what_they_removed_and_freed(cache):
    old_size = format_size(sum(p.stat().st_size for p in (cache / KEY_OLD).iterdir()))  # 50 kB + the manifest
    pruned = qtui(cache, "prune", "--older-than", "5")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.startswith(f"removed {KEY_OLD} (onnx-int8, mini, {old_size}, last used ")
    assert f"freed {old_size} (1 entry)" in pruned.stdout
    assert not (cache / KEY_OLD).exists() and (cache / KEY_NEW).exists()
    cleared = qtui(cache, "clear")
    assert cleared.returncode == 0 and "freed" in cleared.stdout and "(2 entries); 0 B left" in cleared.stdout
    assert listing(cache) == ["mixes"]


def test_qtui_cache_does_not_import_torch(cache):
    code = ("import sys, os, tui.cli; os.environ['QTUI_CACHE_DIR'] = sys.argv[1]; tui.cli.main(['cache'])\n"
            "print([m for m in ('torch', 'textual', 'scipy', 'numpy') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code, str(cache)], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert run_python("import tui.core.cache_admin").returncode == 0


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(w in lines[0] for w in words), lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(("args", "words"), [
    (("prune", "--max-size", "5X"), ("--max-size", "'5X' is not a size", "500M")),
    (("prune", "--max-size", "two gigs"), ("--max-size", "is not a size")),
    (("prune", "--older-than", "a week"), ("--older-than", "is not a number of days")),
    (("prune", "--older-than", "-3"), ("--older-than", "0 or more days")),
    (("prune", "--older-than", "nan"), ("--older-than", "0 or more days")),
])
def test_bad_options(cache, args, words):
    before = listing(cache)
    assert_refused(qtui(cache, *args), *words)
    assert listing(cache) == before


@pytest.mark.parametrize("args", [("prune",), ("clear",), ("list",)])
def test_a_bad_cap_in_the_environment(cache, args):
    before = listing(cache)
    assert_refused(qtui(cache, *args, QTUI_CACHE_MAX_SIZE="2 gallons"), "QTUI_CACHE_MAX_SIZE", "is not a size")
    assert listing(cache) == before


def test_a_bad_cap_stops_qtui_bench_before_any_work(tmp_path):
    result = run_qtui("bench", "--json", str(tmp_path / "r.json"),
                      env=dict(os.environ, QTUI_CACHE_DIR=str(tmp_path / "cache"), QTUI_CACHE_MAX_SIZE="10 Q"))
    assert_refused(result, "QTUI_CACHE_MAX_SIZE", "`off`")
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("action", [("prune", "--max-size", "0"), ("clear",)])
def test_a_cache_dir_that_is_a_file(tmp_path, action):
    blocker = tmp_path / "cache"
    blocker.write_text("not a directory")
    assert_refused(qtui(blocker, *action), str(blocker), "not writable", "QTUI_CACHE_DIR")
    assert blocker.read_text() == "not a directory"


@pytest.mark.parametrize("action", [("prune", "--older-than", "0"), ("clear",)])
def test_a_read_only_cache_dir(cache, action):
    before = listing(cache)
    cache.chmod(0o555)
    try:
        result = subprocess.run([*as_user_prefix(), sys.executable, "-m", "tui", "cache", *action],
                                capture_output=True, text=True, cwd=ROOT, timeout=60,
                                env=dict(os.environ, QTUI_CACHE_DIR=str(cache)))
    finally:
        cache.chmod(0o755)
    assert_refused(result, str(cache), "not writable", "fix its permissions")
    assert listing(cache) == before
