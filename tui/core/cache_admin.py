"""What is in the cache dir, how big, when last used, and pruning it (`qtui cache`, the cap after a run).

An entry is one thing qtui can rebuild or re-measure:
- an artefact (`cache.py`): a directory `<kind>-<20 hex>`; its kind and model from the manifest's `about`
  (older entries: the kind from the name, the model unknown); last used = the manifest's mtime (touched on a hit);
- an unfinished build: a staging directory `.<key>.<random>` a killed build left (removed only when nobody
  holds that key's lock, i.e. no build of it is running);
- a small JSON result (`json_cache.py`): one file in ceilings/, layers/, mixes/ or task-items/; last used = its
  mtime (touched on a hit);
- torch.compile's kernel cache (`inductor/`, routes/compiled.py): one entry; last used = its newest file.

Not an entry: the report history (`reports/`, report_history.py) is what was measured, not a cache: it is
listed apart, never pruned or cleared here (it keeps itself to 20 reports). Anything else in the dir is not
qtui's and is left alone. Lock files are not entries either: one without a holder is removed by any prune.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from tui.core.cache import MANIFEST, Busy, lock_path, locked
from tui.core.json_cache import KINDS

ARTEFACT = re.compile(r"(?P<kind>[A-Za-z0-9][A-Za-z0-9._-]*)-[0-9a-f]{20}")
STAGING = re.compile(r"\.(?P<key>[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{20})\.[A-Za-z0-9_]+")
INDUCTOR, REPORTS = "inductor", "reports"
DEFAULT_CAP = 2 * 10**9
CAP_ENV = "QTUI_CACHE_MAX_SIZE"
UNKNOWN = "—"
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


class SizeError(ValueError):
    """A size the user wrote that is not one: the message says what to write."""


class NotWritable(OSError):
    """The cache dir cannot be changed: the message names it and what to fix."""


def parse_size(text: str) -> int:
    """Bytes from '500M', '2G', '1.5GB', '2GiB', '4096' (K, M, G, T are powers of 1000; KiB, MiB, … of 1024)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise SizeError(f"{text!r} is not a size: write a number with K, M, G or T (500M, 2G, 1.5GB, 2GiB)")
    return int(float(match.group(1)) * _UNITS[unit])


def format_size(size: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def cap_from_env(environ=os.environ) -> int | None:
    """The size cap applied after a run: QTUI_CACHE_MAX_SIZE (a size, or `off`), else 2 GB."""
    text = environ.get(CAP_ENV, "").strip()
    if not text:
        return DEFAULT_CAP
    if text.lower() in ("off", "none"):
        return None
    try:
        return parse_size(text)
    except SizeError as exc:
        raise SizeError(f"{CAP_ENV}={exc} (or `off` for no cap)") from None


@dataclass(frozen=True)
class Entry:
    path: Path
    kind: str
    model: str
    size: int
    last_used: float  # seconds since the epoch
    lock_key: str | None = None  # the artefact key whose lock guards it

    def to_json(self, root: Path) -> dict:
        return {"path": str(self.path.relative_to(root)), "kind": self.kind, "model": self.model, "bytes": self.size,
                "last_used": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_used))}


@dataclass
class Inventory:
    root: Path
    entries: list[Entry] = field(default_factory=list)  # most recently used first
    reports: int = 0
    reports_size: int = 0
    stale_locks: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(e.size for e in self.entries)

    def to_json(self) -> dict:
        return {"schema": "qtui.cache/1", "dir": str(self.root), "total_bytes": self.total,
                "entries": [e.to_json(self.root) for e in self.entries],
                "reports": {"count": self.reports, "bytes": self.reports_size, "pruned": False}}


@dataclass
class Pruned:
    removed: list[Entry] = field(default_factory=list)
    busy: list[Entry] = field(default_factory=list)  # a build or a hit held its lock: kept
    failed: list[tuple[Entry, str]] = field(default_factory=list)
    left: int = 0  # bytes still in entries

    @property
    def freed(self) -> int:
        return sum(e.size for e in self.removed)


def _tree(path: Path) -> tuple[int, float]:
    """(bytes of its files, newest mtime) of a file or a directory tree; vanishing files are skipped."""
    try:
        stat = path.stat()
    except OSError:
        return 0, 0.0
    if not path.is_dir():
        return stat.st_size, stat.st_mtime
    size, newest = 0, stat.st_mtime
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                st = os.stat(os.path.join(folder, name))
                size, newest = size + st.st_size, max(newest, st.st_mtime)
    return size, newest


def _mtime(path: Path, fallback: float) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return fallback


def _artefact(path: Path, kind_from_name: str) -> Entry:
    size, newest = _tree(path)
    try:
        about = json.loads((path / MANIFEST).read_text()).get("about") or {}
    except (OSError, ValueError, AttributeError):
        about = {}
    return Entry(path, str(about.get("kind") or kind_from_name), str(about.get("model") or UNKNOWN), size,
                 _mtime(path / MANIFEST, newest), lock_key=path.name)


def _json_entry(path: Path, kind: str) -> Entry:
    size, mtime = _tree(path)
    model = UNKNOWN
    with contextlib.suppress(OSError, ValueError, AttributeError):
        model = str(json.loads(path.read_text()).get("model") or UNKNOWN)
    return Entry(path, kind, model, size, mtime)


def scan(root: Path) -> Inventory:
    """Every entry under `root`, most recently used first; a missing dir is an empty cache."""
    inventory = Inventory(root)
    try:
        children = sorted(root.iterdir())
    except OSError:
        return inventory
    entries = []
    for child in children:
        name = child.name
        if child.is_dir() and (m := ARTEFACT.fullmatch(name)):
            entries.append(_artefact(child, m.group("kind")))
        elif child.is_dir() and (m := STAGING.fullmatch(name)):
            size, mtime = _tree(child)
            entries.append(Entry(child, "unfinished build", UNKNOWN, size, mtime, lock_key=m.group("key")))
        elif name.endswith(".lock") and ARTEFACT.fullmatch(name[:-5]) and child.is_file():
            inventory.stale_locks.append(child)  # possibly held right now: prune checks before removing
        elif name == INDUCTOR and child.is_dir():
            size, mtime = _tree(child)
            entries.append(Entry(child, "torch.compile kernels", UNKNOWN, size, mtime))
        elif name in KINDS and child.is_dir():
            for item in sorted(child.iterdir()):
                if item.is_file() and (item.suffix == ".json" or item.name.endswith(".tmp")):
                    entries.append(_json_entry(item, KINDS[name]))
        elif name == REPORTS and child.is_dir():
            for report in child.glob("report-*.json"):
                inventory.reports += 1
                inventory.reports_size += _tree(report)[0]
    inventory.entries = sorted(entries, key=lambda e: e.last_used, reverse=True)
    return inventory


def check_writable(root: Path) -> None:
    """Raise NotWritable when entries under `root` could not be removed (an absent dir has nothing to remove)."""
    if not root.exists():
        return
    probe = root / f".qtui-probe-{os.getpid()}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise NotWritable(f"the cache dir {root} is not writable ({exc.strerror or exc}): fix its permissions, "
                          "or set QTUI_CACHE_DIR to a writable directory") from None


def _remove(entry: Entry) -> None:
    if entry.path.is_dir():
        shutil.rmtree(entry.path)
    else:
        entry.path.unlink(missing_ok=True)


def _remove_unless_busy(root: Path, entry: Entry, pruned: Pruned) -> None:
    try:
        if entry.lock_key is None:
            _remove(entry)
        else:  # never while a build (or a hit) holds the key: it would lose the entry under the builder's feet
            with locked(lock_path(root, entry.lock_key), wait=False):
                _remove(entry)
        pruned.removed.append(entry)
    except Busy:
        pruned.busy.append(entry)
    except OSError as exc:
        pruned.failed.append((entry, exc.strerror or str(exc)))


def _drop_stale_locks(inventory: Inventory) -> None:
    for lock in inventory.stale_locks:  # left by older versions, which never removed them
        with contextlib.suppress(Busy, OSError), locked(lock, wait=False):
            pass  # taking the lock removes its file on release


def prune(root: Path, *, max_size: int | None = None, older_than_days: float | None = None,
          everything: bool = False, now: float | None = None) -> Pruned:
    """Remove entries least recently used first: unfinished builds always; those unused for `older_than_days`;
    then while the total is above `max_size`; every one with `everything`. Entries whose lock is held are kept."""
    inventory = scan(root)
    now = time.time() if now is None else now
    pruned = Pruned()
    total = inventory.total
    for entry in reversed(inventory.entries):  # least recently used first
        stale = older_than_days is not None and now - entry.last_used > older_than_days * 86400
        if everything or entry.kind == "unfinished build" or stale or (max_size is not None and total > max_size):
            _remove_unless_busy(root, entry, pruned)
            if pruned.removed and pruned.removed[-1] is entry:
                total -= entry.size
    _drop_stale_locks(inventory)
    pruned.left = total
    return pruned


def prune_to_cap(root: Path, cap: int | None) -> str | None:
    """The cap after a run: one line when it removed something, else None. Never raises (a run is over)."""
    if cap is None:
        return None
    try:
        pruned = prune(root, max_size=cap)
    except OSError:
        return None
    if not pruned.removed:
        return None
    n = len(pruned.removed)
    return (f"cache over its {format_size(cap)} cap ({CAP_ENV}): removed {n} least recently used "
            f"entr{'y' if n == 1 else 'ies'}, freed {format_size(pruned.freed)}")
