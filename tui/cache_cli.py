"""`qtui cache`: list the cache's entries (kind, model, size, last used), prune them (least recently used first)
or clear them; and the size cap applied after `qtui bench` and a dashboard run. The core is tui/core/cache_admin.py."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tui.errors import EXIT_OK, UserError

EPILOG = ("Entries: built artefacts (ONNX, OpenVINO IR, PT2E), unfinished builds a killed run left, small measured "
          "results (GEMM ceilings, layer evidence, rescue mixes, task items) and torch.compile's kernels. The report "
          "history (reports/, the last 20 reports, for `qtui export`) is not cache: it is listed, never pruned. "
          "After `qtui bench` and a dashboard run the cache is pruned to QTUI_CACHE_MAX_SIZE (default 2G; `off`: no "
          "cap). Exit codes: 0 ok, 2 bad input or a cache dir that cannot be changed (nothing removed).")


def size_arg(text: str) -> int:
    from tui.core.cache_admin import SizeError, parse_size

    try:
        return parse_size(text)
    except SizeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def days_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (e.g. 30 or 0.5)") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more days")
    return value


def add_cache_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("cache", help="list, prune or clear qtui's cache (built models, measured results)",
                       description="Without a subcommand: `qtui cache list`.", epilog=EPILOG)
    p.add_argument("--json", action="store_true", help="print the list as qtui.cache/1 JSON")
    actions = p.add_subparsers(dest="cache_command", metavar="ACTION", parser_class=type(p))
    listing = actions.add_parser("list", help="every entry: kind, model, size, last used; the total and the dir",
                                 epilog=EPILOG)
    listing.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                         help="print qtui.cache/1 JSON: dir, total_bytes, entries[] (path, kind, model, bytes, "
                              "last_used), reports")
    prune = actions.add_parser("prune", help="remove the least recently used entries", epilog=EPILOG,
                               description="Remove entries least recently used first, keeping the most recently "
                               "used: those unused for --older-than DAYS, then more until the cache fits in "
                               "--max-size. Without either option: down to the cap (QTUI_CACHE_MAX_SIZE, default 2G). "
                               "Unfinished builds are always removed; an entry a running build holds is kept.")
    prune.add_argument("--max-size", type=size_arg, metavar="SIZE",
                       help="the size to fit in: 500M, 2G, 1.5GB, 2GiB (K/M/G/T: powers of 1000; KiB/MiB/GiB: 1024)")
    prune.add_argument("--older-than", type=days_arg, metavar="DAYS",
                       help="remove entries not used for more than DAYS days (e.g. 30, 0.5)")
    actions.add_parser("clear", help="remove every entry (the report history is kept)", epilog=EPILOG)
    p.set_defaults(cache_command="list")
    return p


def cap_or_error():
    """The cap after a run (bytes, or None for no cap); a bad QTUI_CACHE_MAX_SIZE is the user's to fix."""
    from tui.core.cache_admin import SizeError, cap_from_env

    try:
        return cap_from_env()
    except SizeError as exc:
        raise UserError(str(exc)) from None


def prune_after_run(root: Path | None = None) -> str | None:
    """After a finished run: prune to the cap; the one line to show when it removed something."""
    from tui.core.cache import default_cache_dir
    from tui.core.cache_admin import SizeError, cap_from_env, prune_to_cap

    try:
        cap = cap_from_env()
    except SizeError as exc:
        return f"cache not pruned: {exc}"
    return prune_to_cap(root or default_cache_dir(), cap)


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def format_inventory(inventory, cap: int | None) -> str:
    from tui.core.cache_admin import CAP_ENV, format_size

    lines = [f"qtui cache: {inventory.root}"]
    if inventory.entries:
        lines.append(f"{'KIND':<22} {'MODEL':<32} {'SIZE':>9}  LAST USED")
        lines += [f"{_short(e.kind, 22):<22} {_short(e.model, 32):<32} {format_size(e.size):>9}  {_when(e.last_used)}"
                  for e in inventory.entries]
    else:
        lines.append("no entries")
    n = len(inventory.entries)
    cap_text = f"cap {format_size(cap)}" if cap is not None else "no cap"
    lines.append(f"total {format_size(inventory.total)} in {n} entr{'y' if n == 1 else 'ies'} "
                 f"({cap_text}, set by {CAP_ENV})")
    if inventory.reports:
        plural = "s" if inventory.reports != 1 else ""
        lines.append(f"report history: {inventory.reports} report{plural}, {format_size(inventory.reports_size)} in "
                     "reports/ (not cache: never pruned)")
    return "\n".join(lines)


def _describe(entry, root: Path) -> str:
    from tui.core.cache_admin import format_size

    return (f"{entry.path.relative_to(root)} ({entry.kind}, {entry.model}, {format_size(entry.size)}, "
            f"last used {_when(entry.last_used)})")


def format_pruned(pruned, root: Path, reports: int) -> str:
    from tui.core.cache_admin import format_size

    lines = [f"removed {_describe(e, root)}" for e in reversed(pruned.removed)]
    lines += [f"kept {_describe(e, root)}: a build is using it" for e in pruned.busy]
    lines += [f"could not remove {_describe(e, root)}: {why}" for e, why in pruned.failed]
    n = len(pruned.removed)
    head = f"freed {format_size(pruned.freed)} ({n} entr{'y' if n == 1 else 'ies'})" if n else "nothing to remove"
    lines.append(f"{head}; {format_size(pruned.left)} left in {root}")
    if reports:
        lines.append(f"the report history (reports/, {reports} report{'s' if reports != 1 else ''}) is kept: "
                     "it is not cache")
    return "\n".join(lines)


def cmd_cache(args: argparse.Namespace) -> int:
    from tui.core.cache import default_cache_dir
    from tui.core.cache_admin import NotWritable, check_writable, prune, scan

    root = default_cache_dir()
    cap = cap_or_error()
    if args.cache_command == "list":
        inventory = scan(root)
        print(json.dumps(inventory.to_json(), indent=2) if args.json else format_inventory(inventory, cap))
        return EXIT_OK
    try:
        check_writable(root)
    except NotWritable as exc:
        raise UserError(str(exc)) from None
    if args.cache_command == "clear":
        pruned = prune(root, everything=True)
    elif args.max_size is None and args.older_than is None:
        pruned = prune(root, max_size=cap)
    else:
        pruned = prune(root, max_size=args.max_size, older_than_days=args.older_than)
    print(format_pruned(pruned, root, scan(root).reports))
    return EXIT_OK
