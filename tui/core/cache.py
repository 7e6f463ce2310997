"""On-disk cache of exported/quantized artefacts (ONNX, OpenVINO IR), so a second run starts fast.

An entry is a directory named by a key (model fingerprint, route, library versions). It is built in a
temporary sibling directory and renamed into place, so readers never see half an entry; a manifest with
every file's size and SHA-256 is written last and checked on use, so a corrupt entry is rebuilt. A lock
file serialises two qtui processes building the same entry. A cache that cannot be written means no
cache, never a crash.
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


def _write_manifest(entry: Path, facts: dict) -> None:
    files = {str(p.relative_to(entry)): {"size": p.stat().st_size, "sha256": _sha256(p)}
             for p in sorted(entry.rglob("*")) if p.is_file() and p.name != MANIFEST}
    (entry / MANIFEST).write_text(json.dumps({"files": files, "facts": facts}, indent=1))


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


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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

    def get_or_build(self, key: str, build: Callable[[Path], dict], scratch: Path) -> tuple[Path, dict, bool]:
        """(entry dir, facts, hit?). `build(dir)` writes the artefacts into an empty dir and returns facts.

        Without a writable cache the artefacts are built under `scratch` (a per-run temp dir) instead.
        """
        if not self.writable:
            target = scratch / key
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            return target, build(target), False
        entry = self.root / key
        with _locked(self.root / f"{key}.lock"):
            facts = verify(entry) if entry.exists() else None
            if facts is not None:
                return entry, facts, True
            if entry.exists():  # corrupt or partial: rebuild from scratch
                shutil.rmtree(entry, ignore_errors=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=self.root))
            try:
                facts = build(staging)
                _write_manifest(staging, facts)
                os.replace(staging, entry)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            return entry, facts, False
