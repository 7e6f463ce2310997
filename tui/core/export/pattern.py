"""The call pattern an export is set up for (`qtui export --pattern`): what the report measured for the route in
that pattern, and the runtime settings that follow from it. `bulk` is the benchmark's own batches in one process;
`online` one text per call (the report's `latency`); `processes` the split and OpenVINO setting that --pattern
processes chose for the route (the report's `processes.recommendation`), which encode.py then runs: P processes of
T threads, THROUGHPUT's infer requests in flight, or CPU pinning off."""

from __future__ import annotations

PATTERNS = ("bulk", "online", "processes")
BULK = {"name": "bulk", "processes": 1}  # what a folder without another pattern records


def bench_command(pattern: str, route_id: str) -> str:
    """The run that measures `route_id` in `pattern` (the pass times fp32 and the best int8 route)."""
    from tui.core.routes import BASELINE

    return f"qtui bench --pattern {pattern} --routes {BASELINE},{route_id}"


def from_report(doc: dict, route_id: str, pattern: str) -> dict | None:
    """The report's measurement of `route_id` in `pattern`, as recorded in qtui-export.json; None when the
    report did not measure the route that way (or, for processes, chose another route)."""
    if pattern == "bulk":
        return dict(BULK)
    route = next((r for r in doc.get("routes", []) if r.get("id") == route_id), None) or {}
    if pattern == "online":
        lat = route.get("latency")
        if not lat:
            return None
        rec = (doc.get("latency") or {}).get("recommendation") or {}
        return {"name": "online", "processes": 1, "calls": lat.get("calls"), "tail_resolved": lat.get("tail_resolved"),
                **{q: lat[q] for q in ("p50", "p95", "p99")}, "vs_fp32": lat.get("vs_fp32"),
                "recommended": rec.get("route") == route_id, "why": rec.get("why")}
    proc = doc.get("processes") or {}
    rec = proc.get("recommendation") or {}
    if not proc.get("available") or rec.get("route") != route_id or not rec.get("split"):
        return None
    count, threads = rec["split"]
    return {"name": "processes", "processes": count, "threads": threads, "variant": rec.get("variant"),
            "sent_per_s": _throughput(proc, route_id, rec), "gain": rec.get("gain"), "why": rec.get("why")}


def _throughput(proc: dict, route_id: str, rec: dict) -> float | None:
    """Sentences per second of the chosen group (all its processes) at the chosen split."""
    from tui.core.processes import variant_id

    gid = variant_id(route_id, rec["variant"]) if rec.get("variant") else route_id
    for point in proc.get("points") or []:
        if [point["processes"], point["threads"]] == list(rec["split"]):
            entry = next((r for r in point["routes"] if r["id"] == gid), None) or {}
            return (entry.get("throughput") or {}).get("median")
    return None


def runtime_settings(pattern: dict, backend: str) -> dict:
    """What encode.py reads from qtui-export.json's runtime to run as measured."""
    settings = {"processes": pattern.get("processes", 1)}
    if backend == "openvino":
        variant = pattern.get("variant")
        settings["performance_hint"] = "THROUGHPUT" if variant == "throughput" else "LATENCY"
        settings["cpu_pinning"] = False if variant == "unpinned" else None  # None: the plugin's default
    return settings


def words(pattern: dict | None) -> str:
    """"bulk over 2 processes × 1 thread with CPU pinning off (1.16× [1.00–1.24] the throughput of 1 process ×
    2 threads)", "online (one text per call): p95 5.6 ms" or "bulk" — what the export was set up for."""
    from tui.core.processes import setting_words, split_words

    if not pattern or pattern["name"] == "bulk":
        return "bulk (batches in one process)"
    if pattern["name"] == "online":
        p95, vs = pattern["p95"], pattern.get("vs_fp32") or {}
        ratio = f", {vs['point']:.2f}× fp32's p95 ({vs['verdict']})" if vs.get("point") is not None else ""
        tail = "" if pattern.get("tail_resolved") else "; p99 not resolved (too few calls)"
        return f"online (one text per call): p95 {p95['ms']:.1f} ms{ratio}{tail}"
    return (f"bulk over {split_words(pattern['processes'], pattern['threads'])}{setting_words(pattern['variant'])} "
            f"({pattern['why']})")


def chosen_for(doc: dict | None, route_id: str, setting: str) -> str:
    """The pattern a dashboard export sets the folder up for: the run's (--pattern processes before online for
    'all') where the run measured the route that way, else bulk."""
    wanted = {"online": ("online",), "processes": ("processes",), "all": ("processes", "online")}.get(setting, ())
    return next((p for p in wanted if doc and from_report(doc, route_id, p) is not None), "bulk")
