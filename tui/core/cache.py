"""On-disk cache of exported/quantized artefacts (ONNX, OpenVINO IR), so a second run starts fast.

An entry is a directory named by a key (model fingerprint, route, library versions). It is built in a
temporary sibling directory and renamed into place, so readers never see half an entry; a manifest with
every file's size and SHA-256 is written last and checked on use, so a corrupt entry is rebuilt. A lock
file serialises two qtui processes building the same entry and is removed when the holder is done (see
`locked`). The manifest records what the entry is (`about`: kind, model) and its mtime is when it was last
used (touched on a hit). A cache that cannot be written means no cache, never a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

MANIFEST = "qtui-manifest.json"


def default_cache_dir() -> Path:
    env = os.environ.get("QTUI_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("qtui"))


def cache_key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_manifest(entry: Path, facts: dict, about: dict | None = None) -> None:
    files = {str(p.relative_to(entry)): {"size": p.stat().st_size, "sha256": _sha256(p)}
             for p in sorted(entry.rglob("*")) if p.is_file() and p.name != MANIFEST}
    (entry / MANIFEST).write_text(json.dumps({"files": files, "facts": facts, "about": about or {}}, indent=1))


def touch(path: Path) -> None:
    """Mark an entry as used now (its manifest's or file's mtime is its "last used"); best effort."""
    with contextlib.suppress(OSError):
        os.utime(path)


def verify(entry: Path) -> dict | None:
    """The entry's facts if every file is present with its recorded size and hash, else None."""
    try:
        manifest = json.loads((entry / MANIFEST).read_text())
        for name, meta in manifest["files"].items():
            path = entry / name
            if path.stat().st_size != meta["size"] or _sha256(path) != meta["sha256"]:
                return None
        return manifest.get("facts", {})
    except (OSError, ValueError, KeyError, TypeError):
        return None


class Busy(Exception):
    """Another process holds the entry's lock (a build or a hit in progress)."""


@contextlib.contextmanager
def locked(lock_path: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the exclusive lock of one entry; the lock file is unlinked before it is released.

    Why removing the file is safe: the path is only ever unlinked by a process holding the flock on the inode
    at that path, and a process counts as holding the lock only once it has the flock *and* the inode at the
    path is still the one it locked. A waiter woken on an unlinked inode sees the mismatch and starts over on
    the file now at the path, so two processes can never both pass. The inode number cannot be reused while
    the waiter keeps its descriptor open, so the comparison cannot be fooled. `wait=False` raises Busy.
    """
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            raise Busy(str(lock_path)) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            mine, there = os.fstat(fd), os.stat(lock_path)
            if (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino):
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # the previous holder removed the file we locked: lock the one at the path now
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock_path)  # still holding the lock (see above)
        os.close(fd)


def lock_path(root: Path, key: str) -> Path:
    return root / f"{key}.lock"


class ArtefactCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_cache_dir()
        self.writable = self._probe_writable()

    def _probe_writable(self) -> bool:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root):
                pass
            return True
        except OSError:
            return False

    def get_or_build(self, key: str, build: Callable[[Path], dict], scratch: Path,
                     about: dict | None = None) -> tuple[Path, dict, bool]:
        """(entry dir, facts, hit?). `build(dir)` writes the artefacts into an empty dir and returns facts;
        `about` (e.g. {"kind": "onnx-int8", "model": "…"}) goes into the manifest for `qtui cache`.

        Without a writable cache the artefacts are built under `scratch` (a per-run temp dir) instead.
        """
        if not self.writable:
            target = scratch / key
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            return target, build(target), False
        entry = self.root / key
        with locked(lock_path(self.root, key)):
            facts = verify(entry) if entry.exists() else None
            if facts is not None:
                touch(entry / MANIFEST)
                return entry, facts, True
            if entry.exists():  # corrupt or partial: rebuild from scratch
                shutil.rmtree(entry, ignore_errors=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=self.root))
            try:
                facts = build(staging)
                _write_manifest(staging, facts, about)
                os.replace(staging, entry)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            return entry, facts, False
