"""The last reports measured on this machine, kept in the cache dir (reports/), so `qtui export` can quote
what was measured for a route without the user pointing at a file. Best effort: a cache that cannot be
written or read means no history, never a failed run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

KEEP = 20


def history_dir(cache_root: Path | None = None) -> Path:
    from tui.core.cache import default_cache_dir

    return (cache_root or default_cache_dir()) / "reports"


def remember(doc: dict, cache_root: Path | None = None) -> Path | None:
    """Save a finished report (not a cancelled or simulated one: its numbers are not this CPU's answer)."""
    from tui.core.report import write_atomic

    if doc.get("stop_reason") == "cancelled" or (doc.get("env") or {}).get("simulated_isa"):
        return None
    folder = history_dir(cache_root)
    stamp = str(doc.get("created", "")).replace(":", "").replace("-", "")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"report-{stamp or 'undated'}.json"
        write_atomic(str(path), json.dumps(doc, indent=1) + "\n")
        for old in sorted(folder.glob("report-*.json"))[:-KEEP]:
            old.unlink(missing_ok=True)
        return path
    except OSError:
        return None


def saved_reports(cache_root: Path | None = None) -> Iterator[tuple[Path, dict]]:
    """(path, document), newest first; unreadable files are skipped."""
    try:
        paths = sorted(history_dir(cache_root).glob("report-*.json"), reverse=True)
    except OSError:
        return
    for path in paths:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("routes"), list):
            yield path, doc
