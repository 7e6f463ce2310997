"""`qtui cache`'s core on a populated temporary cache: entries made through the real ArtefactCache.get_or_build and
the JSON caches, times set with os.utime (no sleeps)."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from tui.cache_cli import prune_after_run
from tui.core.cache import MANIFEST, ArtefactCache, lock_path, locked
from tui.core.cache_admin import UNKNOWN, SizeError, cap_from_env, parse_size, prune, scan
from tui.core.json_cache import JsonCache

NOW = time.time()
DAY = 86400
LAYERS = JsonCache("layers", "qtui.layers/1", "layers")
KEYS = {"old": "onnx-int8-" + "a" * 20, "mid": "openvino-int8-" + "b" * 20, "new": "onnx-fp32-" + "c" * 20}


def writer(size: int, calls: list | None = None):
    def build(d: Path) -> dict:
        if calls is not None:
            calls.append(d)
        (d / "model.bin").write_bytes(b"w" * size)
        return {"built": True}
    return build


def age(path: Path, days: float) -> None:
    os.utime(path, (NOW - days * DAY, NOW - days * DAY))


def entry_size(entry: Path) -> int:
    return sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())


@pytest.fixture
def cache(tmp_path) -> Path:
    """Three artefacts used 3, 2 and 1 days ago (10, 20, 30 kB), a layer-evidence JSON used 0.5 days ago, one
    finished report, and a file that is not qtui's."""
    root = tmp_path / "cache"
    artefacts = ArtefactCache(root)
    for (name, key), size, days in zip(KEYS.items(), (10_000, 20_000, 30_000), (3, 2, 1), strict=True):
        entry, _, hit = artefacts.get_or_build(key, writer(size), tmp_path / "scratch",
                                               about={"kind": key.rsplit("-", 1)[0], "model": f"model-{name}"})
        assert not hit
        age(entry / MANIFEST, days)
    LAYERS.store(root, "k1", {"x": 1}, model="model-new")
    age(LAYERS.path(root, "k1"), 0.5)
    (root / "reports").mkdir()
    (root / "reports" / "report-20250101T000000Z.json").write_text('{"routes": []}')
    (root / "notes.txt").write_text("the user's, not qtui's")
    return root


def names(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_the_list_has_every_entry_with_kind_model_size_and_last_used_newest_first(cache):
    inventory = scan(cache)
    rows = [(e.path.name, e.kind, e.model) for e in inventory.entries]
    assert rows == [("k1.json", "layer evidence", "model-new"), (KEYS["new"], "onnx-fp32", "model-new"),
                    (KEYS["mid"], "openvino-int8", "model-mid"), (KEYS["old"], "onnx-int8", "model-old")]
    sizes = {e.path.name: e.size for e in inventory.entries}
    for key, payload in zip(KEYS.values(), (10_000, 20_000, 30_000), strict=True):
        assert sizes[key] == entry_size(cache / key) and payload < sizes[key] < payload + 2000  # + the manifest
    assert sizes["k1.json"] == LAYERS.path(cache, "k1").stat().st_size
    assert inventory.total == sum(sizes.values())
    assert [round((NOW - e.last_used) / DAY, 3) for e in inventory.entries] == [0.5, 1, 2, 3]
    assert inventory.reports == 1 and all("reports" not in str(e.path) for e in inventory.entries)
    assert all(e.path.name != "notes.txt" for e in inventory.entries)
    as_json = inventory.to_json()
    assert as_json["total_bytes"] == inventory.total and as_json["entries"][1]["path"] == KEYS["new"]


def test_an_older_entry_without_about_shows_its_kind_from_the_name_and_no_model(cache):
    manifest = cache / KEYS["old"] / MANIFEST
    manifest.write_text(manifest.read_text().replace('"about"', '"unknown"'))
    old = next(e for e in scan(cache).entries if e.path.name == KEYS["old"])
    assert (old.kind, old.model) == ("onnx-int8", UNKNOWN)


def test_a_hit_updates_last_used(cache, tmp_path):
    artefacts, calls = ArtefactCache(cache), []
    _, _, hit = artefacts.get_or_build(KEYS["old"], writer(1, calls), tmp_path / "scratch")
    assert hit and calls == []
    assert LAYERS.load(cache, "k1") == {"x": 1}
    used = {e.path.name: NOW - e.last_used for e in scan(cache).entries}
    assert used[KEYS["old"]] < 60 and used["k1.json"] < 60 and used[KEYS["mid"]] > DAY


def test_max_size_removes_the_least_recently_used_and_keeps_the_most_recent(cache):
    before = scan(cache)
    keep = sum(e.size for e in before.entries[:2])  # room for the two most recently used
    pruned = prune(cache, max_size=keep)
    assert [e.path.name for e in pruned.removed] == [KEYS["old"], KEYS["mid"]]
    assert pruned.freed == before.total - keep and pruned.left == keep
    assert [e.path.name for e in scan(cache).entries] == ["k1.json", KEYS["new"]]
    assert not (cache / KEYS["old"]).exists() and (cache / "notes.txt").exists() and (cache / "reports").exists()


def test_older_than_removes_only_entries_unused_that_long(cache):
    pruned = prune(cache, older_than_days=1.5, now=NOW)
    assert sorted(e.path.name for e in pruned.removed) == sorted([KEYS["old"], KEYS["mid"]])
    assert sorted(e.path.name for e in scan(cache).entries) == sorted(["k1.json", KEYS["new"]])


def test_clear_removes_every_entry_but_keeps_the_report_history_and_what_is_not_qtuis(cache):
    pruned = prune(cache, everything=True)
    assert len(pruned.removed) == 4 and pruned.left == 0
    assert scan(cache).entries == [] and scan(cache).reports == 1
    assert names(cache) == {"layers", "reports", "reports/report-20250101T000000Z.json", "notes.txt"}


def test_no_lock_file_is_left_after_a_build_a_hit_or_a_failed_build(cache, tmp_path):
    assert not list(cache.glob("*.lock"))
    ArtefactCache(cache).get_or_build(KEYS["old"], writer(1), tmp_path / "scratch")  # a hit

    def broken(d: Path) -> dict:
        raise RuntimeError("export crashed")

    with pytest.raises(RuntimeError):
        ArtefactCache(cache).get_or_build("onnx-qdq-int8-" + "d" * 20, broken, tmp_path / "scratch")
    assert not list(cache.glob("*.lock")) and not list(cache.glob(".*"))


def test_an_entry_whose_lock_is_held_is_never_pruned(cache):
    with locked(lock_path(cache, KEYS["old"])):
        pruned = prune(cache, everything=True)
        assert [e.path.name for e in pruned.busy] == [KEYS["old"]]
        assert (cache / KEYS["old"] / MANIFEST).exists()
    assert [e.path.name for e in scan(cache).entries] == [KEYS["old"]]


def test_unfinished_builds_are_removed_unless_their_build_is_running(cache):
    orphan, running = cache / f".{KEYS['mid']}.abc123_x", cache / f".{KEYS['new']}.def456_y"
    for staging in (orphan, running):
        staging.mkdir()
        (staging / "half.onnx").write_bytes(b"h" * 500)
    with locked(lock_path(cache, KEYS["new"])):  # a build of KEYS["new"] is under way
        pruned = prune(cache, max_size=10**9)
    assert [e.path for e in pruned.removed] == [orphan] and [e.path for e in pruned.busy] == [running]
    assert running.exists() and not orphan.exists()


def test_a_lock_file_an_older_version_left_is_removed_by_a_prune(cache):
    stale = lock_path(cache, KEYS["old"])
    stale.touch()
    prune(cache, max_size=10**9)
    assert not stale.exists() and (cache / KEYS["old"]).exists()


def _hammer(lock: str, marker: str, rounds: int, start) -> None:
    start.wait()
    for _ in range(rounds):
        with locked(Path(lock)):
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # fails if another process is inside
            os.write(fd, b"x")
            os.close(fd)
            os.unlink(marker)


def test_processes_are_still_serialised_though_each_holder_removes_the_lock_file(tmp_path):
    """Four processes take and release the same lock 300 times each: the lock file is unlinked on every release,
    so waiters keep waking on removed files; were one let in on such a file, two would be inside at once and the
    O_EXCL marker would fail with FileExistsError in one of them."""
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(4)
    procs = [spawn.Process(target=_hammer, args=(str(tmp_path / "k.lock"), str(tmp_path / "inside"), 300, start))
             for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert not (tmp_path / "k.lock").exists()


def _build_once(root: str, log: str, start) -> None:
    start.wait()

    def build(d: Path) -> dict:
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        (d / "model.bin").write_bytes(os.urandom(1 << 20))
        return {}

    ArtefactCache(Path(root)).get_or_build("onnx-fp32-" + "e" * 20, build, Path(root) / "scratch")


def test_processes_building_the_same_entry_build_it_once(tmp_path):
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(3)
    log = tmp_path / "builds.log"
    procs = [spawn.Process(target=_build_once, args=(str(tmp_path / "c"), str(log), start)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert len(log.read_text().split()) == 1
    assert [e.kind for e in scan(tmp_path / "c").entries] == ["onnx-fp32"] and not list((tmp_path / "c").glob("*.lock"))


@pytest.mark.parametrize(("text", "size"), [("500M", 500 * 10**6), ("2G", 2 * 10**9), ("1.5GB", 1_500_000_000),
                                            ("2GiB", 2 * 2**30), ("4096", 4096), ("10 kb", 10_000)])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["5X", "G", "", "1.5.5G", "-1G", "2 GBs"])
def test_not_sizes(text):
    with pytest.raises(SizeError, match="is not a size"):
        parse_size(text)


def test_the_cap_after_a_run(cache, monkeypatch):
    assert cap_from_env({}) == 2 * 10**9 and cap_from_env({"QTUI_CACHE_MAX_SIZE": "off"}) is None
    monkeypatch.setenv("QTUI_CACHE_MAX_SIZE", "off")
    assert prune_after_run(cache) is None and len(scan(cache).entries) == 4
    monkeypatch.setenv("QTUI_CACHE_MAX_SIZE", "1G")
    assert prune_after_run(cache) is None and len(scan(cache).entries) == 4  # under the cap: nothing, silently
    newest = scan(cache).entries[:2]
    monkeypatch.setenv("QTUI_CACHE_MAX_SIZE", str(sum(e.size for e in newest)))
    line = prune_after_run(cache)
    assert line is not None and "\n" not in line
    assert "removed 2 least recently used entries" in line and "QTUI_CACHE_MAX_SIZE" in line
    assert scan(cache).entries == newest
    monkeypatch.setenv("QTUI_CACHE_MAX_SIZE", "lots")
    assert prune_after_run(cache).startswith("cache not pruned: QTUI_CACHE_MAX_SIZE='lots' is not a size")
