"""Small measured results kept as JSON under the cache root (ceilings, layer evidence, mixes, task items): one
file per key, written atomically, and read back only when its schema and key match. A hit touches the file, so
its mtime is when it was last used (`qtui cache` prunes the least recently used)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from tui.core.cache import default_cache_dir, touch

# folder → what `qtui cache` calls its entries; every JsonCache's folder is listed here
KINDS = {"ceilings": "GEMM ceilings", "layers": "layer evidence", "mixes": "rescue mix", "task-items": "task items"}


class JsonCache:
    def __init__(self, folder: str, schema: str, field: str) -> None:
        self.folder, self.schema, self.field = folder, schema, field

    def path(self, cache_root: Path | None, key: str) -> Path:
        return Path(cache_root or default_cache_dir()) / self.folder / f"{key}.json"

    def load(self, cache_root: Path | None, key: str):
        """The value stored under `key`, or None when absent, unreadable or another schema's entry."""
        try:
            entry = json.loads(self.path(cache_root, key).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("schema") != self.schema or entry.get("key") != key:
            return None
        touch(self.path(cache_root, key))
        return entry.get(self.field)

    def store(self, cache_root: Path | None, key: str, value, model: str | None = None) -> None:
        """Write the entry atomically (temp file + rename); a cache that cannot be written is skipped.
        `model` (the model it was measured on) is recorded for `qtui cache`."""
        entry = {"schema": self.schema, "key": key, self.field: value}
        if model:
            entry["model"] = model
        text = json.dumps(entry, indent=1)
        path = self.path(cache_root, key)
        temp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(temp, path)
        except OSError:
            if temp:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
