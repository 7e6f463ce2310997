"""Bulk work split over processes (`--pattern processes`): fp32 and the int8 route run as P worker processes of T
threads each, for each split P × T of the run's threads, paired and alternated as the thread sweep is; and an
OpenVINO route also runs with the THROUGHPUT hint (several infer requests in flight) beside its LATENCY one.

Indexing jobs and web servers (gunicorn/uvicorn workers, fastembed's `parallel=`) run N processes × fewer
threads, and int8 kernels often scale worse across threads than across processes: the split is measured, not
estimated. In a round of a split every process of a route encodes the run's texts at once; the round's time is
from the first process's start to the last one's end, so its throughput is P × texts over that wall time.

This is the pure half: the splits, the statistics, the words. The coordinator (`passes/processes.py`) drives
the workers. Nothing heavy at import: `stats` (numpy, scipy) loads inside the functions that compute.
"""

from __future__ import annotations

import math

MAX_SPLITS = 6  # a count with many divisors (48, 60) keeps 1 × N, N × 1 and splits spread between them
MEMORY_SHARE = 0.8  # a split starts only when its workers' expected memory fits in this share of what is free
# An OpenVINO route's variants, measured as groups of their own ("openvino-int8+throughput"): the THROUGHPUT hint
# (one process, all threads) beside the LATENCY one, and CPU pinning off (several processes) beside the plugin's
# default, which pins the threads of processes started side by side to the same cores.
VARIANTS = {"throughput": "with the LATENCY hint", "unpinned": "pinned (OpenVINO's default)"}


# ------------------------------------------------------------------------------------------- planning


def default_splits(threads: int) -> tuple[tuple[int, int], ...]:
    """Every way to split `threads` into P processes × T threads (P × T = threads), one process first:
    2 → 1×2, 2×1; 16 → 1×16, 2×8, 4×4, 8×2, 16×1. With more than MAX_SPLITS divisors, the ones nearest to
    evenly spaced points on a log scale between 1 and `threads` (1 and `threads` always kept)."""
    divisors = [p for p in range(1, threads + 1) if threads % p == 0]
    if len(divisors) > MAX_SPLITS:
        step = math.log(threads) / (MAX_SPLITS - 1)
        picked = {min(divisors, key=lambda d, t=math.exp(i * step): abs(math.log(d) - math.log(t)))
                  for i in range(MAX_SPLITS)}
        divisors = sorted(picked)
    return tuple((p, threads // p) for p in divisors)


def parse_splits(text: str) -> tuple[tuple[int, int], ...]:
    """--processes' list: "1x2,2x1" → ((1, 2), (2, 1)), in the order given, without repeats. ValueError says
    what is wrong with a part."""
    splits: list[tuple[int, int]] = []
    for part in text.split(","):
        part = part.strip().lower().replace("×", "x")
        p, sep, t = part.partition("x")
        if not sep or not p.strip().isdigit() or not t.strip().isdigit():
            raise ValueError(f"{part!r} is not a split (want PROCESSESxTHREADS, e.g. 2x1)")
        split = (int(p), int(t))
        if min(split) < 1:
            raise ValueError(f"{part!r}: processes and threads must be 1 or more")
        if split not in splits:
            splits.append(split)
    return tuple(splits)


def beyond_cpus(splits, cpus: int) -> str | None:
    """The first split that needs more CPUs than the machine has, said as one line; None when all fit."""
    for p, t in splits:
        if p * t > cpus:
            return f"{p}x{t} needs {p * t} CPUs; this machine has {cpus} (keep P × T ≤ {cpus})"
    return None


def memory_shortfall(processes: int, rss_mb: dict[str, float | None], available_mb: float) -> str | None:
    """Why a split cannot start: its P workers per route would need more than MEMORY_SHARE of the free memory
    (each worker's expected size is its route's peak RSS in the main rounds). None when it fits or is unknown."""
    known = [mb for mb in rss_mb.values() if mb]
    if not known or not available_mb:
        return None
    need = processes * sum(known)
    if need <= MEMORY_SHARE * available_mb:
        return None
    return (f"{processes} processes per route would need about {need / 1024:.1f} GiB "
            f"({len(known)} routes × {processes} × their peak RSS); {available_mb / 1024:.1f} GiB is free")


def split_text(processes: int, threads: int) -> str:
    return f"{processes} × {threads}"


def split_words(processes: int, threads: int) -> str:
    """"2 processes × 1 thread"."""
    return (f"{processes} process" + ("" if processes == 1 else "es") + f" × {threads} thread"
            + ("" if threads == 1 else "s"))


def variant_id(rid: str, kind: str) -> str:
    return f"{rid}+{kind}"


def variant_of(gid: str) -> str | None:
    """The route a variant's group id belongs to ("openvino-int8+unpinned" → "openvino-int8"), else None."""
    rid, _, kind = gid.partition("+")
    return rid if kind in VARIANTS else None


def variant_kind(gid: str) -> str | None:
    return gid.partition("+")[2] if variant_of(gid) else None


def has_variants(route) -> bool:
    """Whether a route (results.RouteResult) gets the variants: a measured dynamic-shape OpenVINO route (a
    fixed-shape route's per-shape compilations keep their LATENCY settings)."""
    return (route.spec.backend == "openvino" and route.status == "ok"
            and "length_bucket" not in (route.facts or {}))


def pick_variant_route(routes: dict, route: str | None, min_cosine: float, speedups: dict) -> str | None:
    """The OpenVINO route that also runs with the THROUGHPUT hint: the swept int8 route when it is OpenVINO's,
    else the fastest accurate OpenVINO route of the run. Fixed-shape routes are left out (their per-shape
    compilations are LATENCY ones)."""
    def eligible(rid: str) -> bool:
        return has_variants(routes[rid]) and rid in speedups

    if route and route in routes and eligible(route):
        return route
    accurate = [rid for rid in routes if eligible(rid) and routes[rid].accuracy is not None
                and routes[rid].accuracy.cosine_mean >= min_cosine]
    return max(accurate, key=lambda rid: speedups[rid].point) if accurate else None


# ----------------------------------------------------------------------------------------- statistics


def _json(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), digits)


def _ratio_json(point: float, lo: float, hi: float) -> dict:
    verdict = "faster" if lo > 1 else "slower" if hi < 1 else "inconclusive"  # NaN compares False: no claim
    return {"point": _json(point), "ci95": [_json(lo), _json(hi)], "verdict": verdict}


def point(split: tuple[int, int], measured: dict, texts: int, baseline: str, route: str | None) -> dict:
    """One split's entry: each group's throughput (P × texts per round over the round's wall time), the int8
    route's paired speedup over fp32, and each variant's paired speedups over fp32 and over its own route as the
    route runs by default (`vs_route`), both from the same rounds. `measured` maps group ids to {"status", "why",
    "threads_used", "seconds", "facts"}."""
    from tui.core import stats
    from tui.core.thread_sweep import point as thread_point

    processes, threads = split
    out = thread_point(threads, measured, processes * texts, baseline, route)
    out["processes"] = processes
    for entry in out["routes"]:
        entry["facts"] = measured[entry["id"]].get("facts") or {}
    variants = {}
    for rid, m in measured.items():
        of = variant_of(rid)
        if not of or m["status"] != "ok" or not m.get("seconds"):
            continue
        against = {}
        for name, ref in (("vs_fp32", baseline), ("vs_route", of)):
            other = measured.get(ref)
            if other and other["status"] == "ok" and other.get("seconds"):
                n = min(len(other["seconds"]), len(m["seconds"]))
                against[name] = stats.speedup(other["seconds"][:n], m["seconds"][:n]).to_json()
        variants[rid] = {"of": of, "kind": variant_kind(rid), **against}
    out["variants"] = variants
    return out


def _entry(p: dict, rid: str) -> dict | None:
    return next((r for r in p["routes"] if r["id"] == rid), None)


def _samples(p: dict, rid: str) -> list[float] | None:
    entry = _entry(p, rid)
    tp = entry.get("throughput") if entry else None
    return tp["samples"] if tp and tp.get("samples") else None


def _median(p: dict, rid: str) -> float | None:
    entry = _entry(p, rid)
    return entry["throughput"]["median"] if entry and entry.get("throughput") else None


def best_splits(points: list[dict], ids: list[str]) -> dict[str, dict]:
    """Per route: the split with the most throughput, and the fastest split of several processes (`compared`)
    against one process with all the threads: the median ratio with a two-sample CI (the splits ran in
    different rounds). Without both kinds measured there is nothing to compare."""
    from tui.core import stats

    out = {}
    for rid in ids:
        measured = [p for p in points if _median(p, rid) is not None]
        if not measured:
            continue
        best = max(measured, key=lambda p: _median(p, rid))
        entry = {"split": [best["processes"], best["threads"]], "median": _median(best, rid), "vs_one_process": None}
        one = next((p for p in measured if p["processes"] == 1), None)
        several = [p for p in measured if p["processes"] > 1]
        if one is not None and several:
            top = max(several, key=lambda p: _median(p, rid))
            entry.update(one_process=[one["processes"], one["threads"]], compared=[top["processes"], top["threads"]],
                         vs_one_process=_ratio_json(*stats.ratio_ci(_samples(one, rid), _samples(top, rid))))
        out[rid] = entry
    return out


def recommendation(points: list[dict], route: str | None, baseline: str) -> dict:
    """How to run bulk work: the int8 route (fp32 without one) in the split and setting — its own, or one of its
    variants — with the most throughput, when that beats the route in one process with all the threads
    conclusively (two-sample CI of the medians); else one process as the route runs by default."""
    from tui.core import stats

    rid = route if any(_median(p, route) for p in points) else baseline
    ref = next((p for p in points if p["processes"] == 1 and _median(p, rid) is not None), None)
    options = [(p, gid) for p in points for gid in [r["id"] for r in p["routes"]]
               if (gid == rid or variant_of(gid) == rid) and _median(p, gid) is not None]
    if not options:
        return {"route": None, "split": None, "variant": None, "gain": None, "why": "no split was measured"}
    p, gid = max(options, key=lambda o: _median(o[0], o[1]))
    if ref is None:
        return {"route": rid, "split": [p["processes"], p["threads"]], "variant": variant_kind(gid), "gain": None,
                "why": "one process was not measured to compare with"}
    one = split_words(ref["processes"], ref["threads"])
    if (p, gid) == (ref, rid):
        others = [o for o in options if o != (ref, rid)]
        if not others:
            return {"route": rid, "split": [ref["processes"], ref["threads"]], "variant": None, "gain": None,
                    "why": "nothing else was measured to compare with"}
        p, gid = max(others, key=lambda o: _median(o[0], o[1]))
    gain = _ratio_json(*stats.ratio_ci(_samples(ref, rid), _samples(p, gid)))
    said = f"{label(gid, p)} as {split_words(p['processes'], p['threads'])}"
    if gain["verdict"] == "faster":
        return {"route": rid, "split": [p["processes"], p["threads"]], "variant": variant_kind(gid), "gain": gain,
                "why": f"{gain['point']:.2f}× [{_ci(gain)}] the throughput of {one}"}
    return {"route": rid, "split": [ref["processes"], ref["threads"]], "variant": None, "gain": gain,
            "why": f"nothing beat {one} conclusively (the best other, {said}: {gain['point']:.2f}× [{_ci(gain)}], "
                   f"{gain['verdict']})"}


def _ci(r: dict) -> str:
    lo, hi = r["ci95"]
    return "no CI" if lo is None or hi is None else f"{lo:.2f}–{hi:.2f}"


def document(*, baseline: str, route: str | None, route_why: str, variant_route: str | None, threads: int,
             splits, rounds: int, points: list[dict], why: str | None = None) -> dict:
    """The report's `processes` field. `available` is false (with `why`) when no split measured fp32."""
    ids = [baseline] + ([route] if route else [])
    variants = {v: d for p in points for v, d in p.get("variants", {}).items()}
    best = best_splits(points, ids + list(variants)) if points else {}
    measured_any = any(_median(p, baseline) is not None for p in points)
    if why is None and not measured_any:
        failures = [f"{r['id']} at {split_text(p['processes'], p['threads'])}: {r['status']} — {r['why']}"
                    for p in points for r in p["routes"] if r["status"] != "ok"]
        why = "; ".join(failures) or "no split was measured"
    return {"baseline": baseline, "route": route, "route_why": route_why, "variant_route": variant_route,
            "threads": threads, "splits": [list(s) for s in splits], "rounds": rounds,
            "available": measured_any, "why": None if measured_any else why, "points": points,
            "best": best, "variants": variants,
            "recommendation": recommendation(points, route, baseline) if measured_any else None}


def unavailable(splits, threads: int, why: str, baseline: str) -> dict:
    """Processes that could not be measured (the baseline failed, the run was cancelled first): it says why."""
    return document(baseline=baseline, route=None, route_why="", variant_route=None, threads=threads,
                    splits=splits, rounds=0, points=[], why=why)


def attach(doc: dict) -> None:
    """Each route's `processes`: its best split, the gain over one process, and for an OpenVINO route its
    variants (THROUGHPUT hint, pinning off) measured beside it."""
    proc = doc.get("processes") or {}
    best, variants = proc.get("best", {}), proc.get("variants", {})
    for r in doc["routes"]:
        mine = best.get(r["id"])
        found = {d["kind"]: {"id": v, **d, **({"best_split": best[v]["split"], "sent_per_s": best[v]["median"]}
                                                if v in best else {})}
                 for v, d in variants.items() if d["of"] == r["id"]}
        r["processes"] = None if mine is None and not found else {
            "best_split": mine["split"] if mine else None, "sent_per_s": mine["median"] if mine else None,
            "vs_one_process": mine.get("vs_one_process") if mine else None, "variants": found}


# ------------------------------------------------------------------------------------------- words


def progress_text(processes: int, threads: int, done: int, total: int, stage: str) -> str:
    return f"processes {done}/{total}: {split_words(processes, threads)} — {stage}"


def label(gid: str, p: dict | None = None) -> str:
    """A row's name: the route id, "openvino-int8 THROUGHPUT (4 requests)" or "openvino-int8 unpinned"."""
    of = variant_of(gid)
    if not of:
        return gid
    if variant_kind(gid) == "unpinned":
        return f"{of} unpinned"
    facts = (_entry(p, gid) or {}).get("facts", {}) if p else {}
    requests = facts.get("infer_requests")
    return f"{of} THROUGHPUT" + (f" ({requests} requests)" if requests else "")


def setting_words(kind: str | None) -> str:
    """How to set a variant up, for the answer and the advice."""
    return {"throughput": " with the THROUGHPUT hint", "unpinned": " with CPU pinning off"}.get(kind or "", "")


def _cell(tp: dict | None, status: str) -> str:
    if not tp:
        return "n/a" if status == "unavailable" else status
    lo, hi = tp["ci95"]
    return f"{tp['median']:.0f}" + (f" [{lo:.0f}–{hi:.0f}]" if lo is not None and hi is not None else "")


def _times(s: dict | None) -> str:
    if not s:
        return "—"
    lo, hi = s["ci95"]
    return f"{s['point']:.2f}×" + (f" [{lo:.2f}–{hi:.2f}]" if lo is not None and hi is not None else "")


NARROW = ("split", "route", "sent/s [95% CI]", "vs fp32")


def table(proc: dict, narrow: bool = False) -> tuple[list[str], list[list[str]]]:
    """A row per split and route: sent/s median [95 % CI], the paired speedup over fp32 in that split, and the
    route's throughput against one process (the best split's gain is in `best`)."""
    headers = ["split", "route", "sent/s [95% CI]", "vs fp32", "vs 1 process"]
    one = {r["id"]: _median(p, r["id"]) for p in proc["points"] if p["processes"] == 1 for r in p["routes"]}
    rows = []
    for p in proc["points"]:
        for entry in p["routes"]:
            rid = entry["id"]
            if rid == proc["baseline"]:
                vs = "ref"
            elif variant_of(rid):
                vs = _times(p["variants"].get(rid, {}).get("vs_fp32"))
            else:
                vs = _times(p.get("speedup"))
            here, base = _median(p, rid), one.get(rid) or one.get(variant_of(rid))  # a variant: its route's
            gain = "ref" if p["processes"] == 1 else (f"{here / base:.2f}×" if here and base else "—")
            rows.append([split_text(p["processes"], p["threads"]), label(rid, p),
                         _cell(entry.get("throughput"), entry["status"]), vs, gain])
    if narrow:
        keep = [headers.index(h) for h in NARROW]
        return list(NARROW), [[row[i] for i in keep] for row in rows]
    return headers, rows


def title(proc: dict) -> str:
    splits = ", ".join(split_text(*split) for split in proc["splits"])
    return (f"Bulk over processes: P processes × T threads ({splits}), {proc['rounds']} paired rounds per split "
            f"(sent/s median [95 % CI])")


def conclusions(proc: dict) -> list[str]:
    """Per route the best split against one process, each THROUGHPUT variant against its LATENCY hint, what
    could not be measured, and the answer for bulk over processes."""
    if not proc.get("available"):
        return [f"not available: {proc.get('why') or 'no split was measured'}"]
    lines = []
    for rid, b in proc["best"].items():
        vs = b.get("vs_one_process")
        name = label(rid, next((p for p in proc["points"] if _entry(p, rid)), None))
        if vs is None:
            lines.append(f"{name}: {b['median']:.0f} sent/s with {split_words(*b['split'])}")
        else:
            lines.append(f"{name}: most throughput with {split_words(*b['split'])}, {b['median']:.0f} sent/s; "
                         f"{split_words(*b['compared'])} gave {vs['point']:.2f}× [{_ci(vs)}] the throughput of "
                         f"{split_words(*b['one_process'])} ({vs['verdict']})")
    for p in proc["points"]:
        for gid, d in p.get("variants", {}).items():
            if vs := d.get("vs_route"):
                lines.append(f"{label(gid, p)} at {split_text(p['processes'], p['threads'])}: {_times(vs)} the "
                             f"throughput of {d['of']} {VARIANTS[d['kind']]}, same rounds ({vs['verdict']})")
    for p in proc["points"]:
        for r in p["routes"]:
            if r["status"] != "ok":
                lines.append(f"{label(r['id'], p)} at {split_text(p['processes'], p['threads'])}: not available: "
                             f"{r['status']} — {r['why']}")
    if not proc.get("route"):
        lines.append(f"int8: not available: {proc.get('route_why') or 'no int8 route was measured'}")
    rec = proc.get("recommendation") or {}
    if rec.get("route"):
        lines.append(f"For bulk over processes: {rec['route']} as {split_words(*rec['split'])}"
                     f"{setting_words(rec.get('variant'))} — {rec['why']}.")
    return lines


def finding_clause(doc: dict) -> str:
    """What the finding adds for --pattern processes: " Bulk over processes: ort-qint8 as 2 processes × 1 thread,
    1.31× one process with 2 threads." — or that nothing beat one process."""
    rec = (doc.get("processes") or {}).get("recommendation") or {}
    gain = rec.get("gain")
    if not rec.get("route") or not gain:
        return ""
    if gain["verdict"] != "faster":
        return f" Bulk over processes: nothing beat one process conclusively for {rec['route']}."
    return (f" Bulk over processes: {rec['route']} as {split_words(*rec['split'])}{setting_words(rec['variant'])}, "
            f"{gain['point']:.2f}× one process.")
