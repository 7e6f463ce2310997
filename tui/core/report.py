"""Results as data: the versioned `qtui.report/1` JSON document, a Markdown rendering, loading and comparing.

Kept apart from running (bench.py) so that saved reports from other machines can be read, compared and
explained with the same code.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import statistics
import tempfile
from pathlib import Path

from tui.core import accuracy_gate as gate
from tui.core.peers import comparison as peers_comparison
from tui.core.peers import peer_versions
from tui.core.recommendation import recommend_route
from tui.core.routes import BASELINE, runtime_versions

SCHEMA = "qtui.report/1"


class ReportError(ValueError):
    """A report file qtui cannot use; one line naming the problem."""


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), digits)


def route_document(r, texts: int) -> dict:
    samples = r.throughput(texts)
    median = statistics.median(samples) if samples else None
    return {
        "id": r.spec.id, "backend": r.spec.backend, "dtype": r.spec.dtype, "engine": r.spec.engine,
        "granularity": r.spec.granularity, "status": r.status, "why": r.why,
        "own_space": r.spec.own_space, "max_seq_length": r.spec.max_seq_length, "peer": r.spec.peer,
        "peer_versions": peer_versions(r.facts) if r.spec.peer else None,
        "throughput": {"median": _round(median, 2), "samples": [round(s, 2) for s in samples]} if samples else None,
        "rounds": len(r.seconds),  # fewer than the run's when the route joined after the first answer
        "speedup": r.speedup.to_json() if r.speedup is not None else None,
        "vs_best_fp32": r.vs_best_fp32.to_json() if r.vs_best_fp32 is not None else None,
        "accuracy": r.accuracy.to_json() if r.accuracy is not None else None,
        "size_mb": _round(r.size_mb, 2), "peak_rss_mb": _round(r.peak_rss_mb, 1), "prepare_s": _round(r.prepare_s, 3),
        "threads": r.threads, "facts": r.facts, "profile": r.profile, "batch_invariance": r.batch_invariance,
        "kernels": r.kernels, "task": r.task, "task_why": None if r.task else r.task_why,
    }


def build_document(result) -> dict:
    """The qtui.report/1 document for a finished (or cancelled) BenchResult, with its diagnosis."""
    from tui.core import latency, peers, processes
    from tui.core.roofline import EncoderShape, route_rooflines

    plan = result.plan
    texts = len(plan.workload.texts)
    routes = [route_document(r, texts) for r in result.routes.values()]  # the run's, then any the rescue added
    versions = runtime_versions()
    threads = result.routes[BASELINE].threads or plan.threads
    doc = {
        "schema": SCHEMA,
        "created": result.created,
        "wall_s": round(result.wall_s, 2),
        "rounds": result.rounds,
        "stop_reason": result.stop_reason,
        "first_answer": result.first_answer,
        "env": {"cpu": plan.cpu.to_json(), "threads": threads, "torch": versions.get("torch"),
                "python": versions.get("python"), "packages": versions,
                "simulated_isa": dict(plan.worker_env) or None},
        "workload": {"model": plan.model.name, "texts": texts, "batch_size": plan.batch_size,
                     "mean_tokens": _round(statistics.fmean(result.token_counts), 1) if result.token_counts else None,
                     "max_tokens": max(result.token_counts) if result.token_counts else None,
                     "source": plan.workload.source, "fingerprint": plan.workload.fingerprint},
        "baseline": BASELINE,
        "min_cosine": plan.min_cosine,
        "task": {**result.task.to_json(), "pass_s": result.task_pass_s} if result.task is not None else None,
        "max_task_loss": plan.max_task_loss if result.task is not None else None,
        "routes": routes,
        "best_fp32": _best_fp32_json(result),
        "noise_floor": result.noise_floor.to_json() if result.noise_floor is not None else None,
        "baseline_noise": _noise_json(result.baseline_noise),
        "recommendation": recommend_route(routes, plan.min_cosine, result.best_fp32,
                                          result.task.to_json() if result.task is not None else None,
                                          plan.max_task_loss),
        "sweep": result.sweep,
        "layers": result.layers,
        "threads_sweep": result.threads_sweep,
        "advice": [],
    }
    doc["frontier"] = frontier_document(doc, result)
    doc["peers"] = peers.document(doc, result)
    latency.attach(doc, result.latency, BASELINE)  # after the routes and their accuracy: it uses the gate
    doc["processes"] = result.processes
    processes.attach(doc)
    shape = EncoderShape.from_model_dir(plan.model.path)
    doc["roofline"] = route_rooflines(doc, plan.cpu, shape, result.token_counts, result.ceilings) if shape else None
    attach_diagnosis(doc, plan.cpu)
    return doc


def frontier_document(doc: dict, result) -> dict:
    """The `frontier` field, with each beyond-int8 route's paired speed-up over the int8 pick (the rounds both ran)."""
    from tui.core import frontier, rounds, stats

    pick = frontier.int8_pick(doc)
    beyond = {r["id"] for r in doc["routes"] if gate.changes_model(r)}
    vs_int8 = ({rid: s.to_json() for rid, s in rounds.speedups(result, stats, pick["id"]).items() if rid in beyond}
               if pick and beyond else {})
    return frontier.document(doc, vs_int8)


def attach_diagnosis(doc: dict, cpu) -> dict:
    """The finding and the ranked advice for `doc`, judged against `cpu`; stored in the document."""
    from tui.core import latency, peers, processes
    from tui.core.advice import explain

    diagnosis = explain(cpu, doc)
    doc["finding"] = diagnosis.finding.to_json()
    # The answers for single-text calls and for processes, when measured: they can differ from the bulk one.
    doc["finding"]["headline"] += (latency.finding_clause(doc) + processes.finding_clause(doc)
                                   + peers.finding_clause(doc))
    doc["advice"] = [a.to_json() for a in diagnosis.advice]
    return doc


def _best_fp32_json(result) -> dict | None:
    best = result.best_fp32
    if best is None:
        return None
    speedup = result.routes[best].speedup
    return {"route": best, "speedup": 1.0 if best == BASELINE else _round(speedup.point)}


def _noise_json(noise) -> dict | None:
    if noise is None:
        return None
    return {"iqr_over_median": _round(noise.iqr_over_median), "drift": _round(noise.drift),
            "flagged": noise.flagged, "reasons": list(noise.reasons)}


# ------------------------------------------------------------------------------------------ writing


def check_writable(path: str) -> None:
    """Fail before any work if a report cannot be written there (missing directory, no permission)."""
    if path == "-":
        return
    target = Path(path)
    if target.is_dir():
        raise ReportError(f"{path}: is a directory; give a file name such as {target / 'report.json'}")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise ReportError(f"{path}: directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ReportError(f"{path}: not writable; choose another path")


def write_atomic(path: str, text: str) -> None:
    """Write the whole file or nothing: a temp file in the same directory, then rename."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent if str(target.parent) else ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_report(path: str) -> dict:
    p = Path(path)
    if not p.exists():
        raise ReportError(f"{path}: no such file; pass a report written by `qtui bench --json PATH`")
    if p.is_dir():
        raise ReportError(f"{path}: is a directory; pass a qtui report JSON file")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ReportError(f"{path}: not text; pass a qtui report JSON file") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not valid JSON (truncated?) at line {exc.lineno}") from None
    return check_report(doc, path)


def check_report(doc, path: str) -> dict:
    """`doc` if it is a usable qtui.report/1 document, else a ReportError naming `path` (a file, or a host)."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise ReportError(f"{path}: not a {SCHEMA} report (schema: {found!r})")
    for key in ("routes", "env", "workload"):
        if key not in doc:
            raise ReportError(f"{path}: {SCHEMA} report without '{key}' (truncated or edited?)")
    if not isinstance(doc["routes"], list) or not all(isinstance(r, dict) and "id" in r for r in doc["routes"]):
        raise ReportError(f"{path}: 'routes' is not a list of routes")
    return doc


# ------------------------------------------------------------------------------------------ rendering


def speedup_text(point: float, ci95) -> str:
    """"2.30× [2.20–2.40]", or just the point while there is no CI (None in JSON, NaN before 2 rounds)."""
    lo, hi = ci95
    if lo is None or lo != lo:
        return f"{point:.2f}×"
    return f"{point:.2f}× [{lo:.2f}–{hi:.2f}]"


def _speedup_text(r: dict) -> str:
    s = r.get("speedup")
    if not s:
        return "baseline" if r["id"] == BASELINE and r["status"] == "ok" else "—"
    return f"{speedup_text(s['point'], s['ci95'])} {s['verdict']}"


def _vs_best_fp32_text(r: dict, best_fp32: str | None) -> str:
    if best_fp32 and r["id"] == best_fp32:
        return "fastest fp32"
    vs = r.get("vs_best_fp32")
    return f"{vs['point']:.2f}×" if vs else "—"


def task_cell(r: dict) -> str:
    """"99.6 % (0.817)": the share of fp32's task score kept, and the score; "0.820 (ref)" for fp32."""
    task = r.get("task") or {}
    if task.get("score") is None:
        return "—"
    if not task.get("kept"):
        return f"{task['score']:.3f} (ref)"
    return f"{100 * task['kept']['point']:.1f} % ({task['score']:.3f})"


def table_headers(doc: dict) -> list[str]:
    return HEADERS + (["task kept (score)"] if doc.get("task") else [])


def route_rows(doc: dict) -> list[list[str]]:
    """Table rows shared by the stdout summary and the Markdown report (a task column when it has a task)."""
    best_fp32 = (doc.get("best_fp32") or {}).get("route")
    rows = []
    for r in doc["routes"]:
        acc = r.get("accuracy")
        tp = r.get("throughput")
        rows.append([
            r["id"] + (" (peer)" if r.get("peer") else ""), r["status"],
            f"{tp['median']:.1f}" if tp else "—",
            _speedup_text(r),
            _vs_best_fp32_text(r, best_fp32),
            f"{acc['cosine_mean']:.4f}" if acc else ("1 (ref)" if r["id"] == BASELINE and tp
                                                     else "n/a" if r.get("own_space") and tp else "—"),
            f"{r['size_mb']:.1f}" if r.get("size_mb") is not None else "—",
            f"{r['prepare_s']:.1f}" if r.get("prepare_s") is not None else "—",
        ] + ([task_cell(r)] if doc.get("task") else []))
    return rows


HEADERS = ["route", "status", "sent/s", "speedup [95 % CI]", "vs best fp32", "cosine", "MB", "prep s"]


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*headers), fmt.format(*("-" * w for w in widths))] +
                     [fmt.format(*row) for row in rows])


def format_summary(doc: dict, report: str = "REPORT.json") -> str:
    """What `qtui bench` prints on stdout for people: the diagnosis at terminal size. The kernels and the layer
    table are in the Markdown report and the dashboard (`report`: the saved JSON, for the commands it names)."""
    lines = [format_table(table_headers(doc), route_rows(doc)), ""]
    if doc.get("task"):
        lines += [format_task(doc), ""]
    for r in doc["routes"]:
        if r["status"] != "ok" and r.get("why"):
            lines.append(f"{r['id']}: {r['status']} — {r['why']}")
    rec = doc["recommendation"]
    lines += ["", f"Recommended: {rec['route']} — {rec['why']}"]
    against = peers_comparison(doc)
    if against:
        lines.append(against)
    lines.append(f"Stopped: {doc.get('stop_reason', '')}")
    floor = doc.get("noise_floor")
    if floor:
        lines.append(f"fp32 noise floor (another batch order): cosine {floor['cosine_mean']:.6f}")
    invariance = format_batch_invariance(doc)
    if invariance:
        lines += ["", invariance]
    if frontier_shown(doc):
        lines += ["", format_frontier(doc)]
    if doc.get("sweep"):
        lines += ["", format_sweep(doc["sweep"])]
    if doc.get("threads_sweep"):
        lines += ["", format_threads_sweep(doc["threads_sweep"])]
    if doc.get("latency"):
        lines += ["", format_latency(doc)]
    if doc.get("processes"):
        lines += ["", format_processes(doc["processes"])]
    details = details_hint(doc, report)
    if details:
        lines += ["", details]
    if doc.get("roofline"):
        lines += ["", format_roofline(doc["roofline"], doc["routes"], report_cpu(doc))]
    if doc.get("advice") or doc.get("finding"):
        lines += ["", format_advice(doc["advice"], finding=doc.get("finding"), report=report)]
    return "\n".join(lines)


def format_task(doc: dict) -> str:
    """What the task column measured, and the budget the recommendation used."""
    task = doc["task"]
    lines = [f"Task: {task['source']} — {task['n']} {'pairs' if task['kind'] == 'pairs' else 'queries'}, "
             f"{gate.task_label(task)} of cosine similarity; kept = the route's score / fp32's on the same items, "
             f"paired bootstrap 95 % CI; budget: {gate.gate_text(doc)}."]
    lines += [f"{r['id']}: {gate.kept_text(r, doc)}" for r in doc["routes"]
              if r["id"] != BASELINE and r.get("status") == "ok"]
    lines += [f"{r['id']}: no task score — {r['task_why']}" for r in doc["routes"]
              if r.get("status") == "ok" and not r.get("task") and r.get("task_why")]
    return "\n".join(lines)


def details_hint(doc: dict, report: str) -> str | None:
    """Where the summary's left-out tables are (a line each per route or layer: they would bury the diagnosis,
    whose advice quotes the kernels and layers that matter)."""
    left_out = [what for what, present in (("the kernels each route ran (k)", kernel_lines(doc)),
                                           ("the layers that cost int8 the most (l)", doc.get("layers"))) if present]
    if not left_out:
        return None
    return (f"Also measured: {' and '.join(left_out)}: in the Markdown report (`qtui explain {shlex.quote(report)} "
            "--markdown report.md`) and the dashboard (keys in parentheses).")


def kernel_lines(doc: dict) -> list[str]:
    """"torch-qint8-onednn: int8 GEMMs: 37 on AVX-512 VNNI (observed, oneDNN)", per route with a capture."""
    from tui.core.kernels.summary import summary_lines

    return [f"{r['id']}: {line}" for r in doc["routes"] if r.get("status") == "ok" and r.get("kernels")
            for line in (r["kernels"].get("summary") or summary_lines(r["kernels"]))]


def report_cpu(doc: dict):
    """The CPU a report was measured on: what its advice and roofline are judged against."""
    from tui.core.cpu import CpuProfile

    return CpuProfile.from_json(doc["env"]["cpu"], source="report")


def format_batch_invariance(doc: dict) -> str | None:
    """Per route, the worst cosine between a text's own vectors (alone / with other neighbours); ✗ marks a route
    whose vectors move with their batch by more than fp32's noise floor."""
    from tui.core.invariance import BatchInvariance, above_floor

    checked = [(r["id"], BatchInvariance.from_json(r["batch_invariance"])) for r in doc["routes"]
               if r.get("batch_invariance")]
    if not checked:
        return None
    floor = dict(checked).get(doc.get("baseline", BASELINE))
    cells = [f"{rid} {inv.alone_worst:.6f} / {inv.order_worst:.6f}"
             + (" (fp32 floor)" if inv is floor else " ✗" if above_floor(inv, floor) else "") for rid, inv in checked]
    first = checked[0][1]
    return (f"Batch invariance (worst cosine between a text's vectors in the run's batches of {first.batch_size} and "
            f"alone / in other batches; {first.texts_alone} texts alone, {first.texts_rebatched} re-batched): "
            + ", ".join(cells))


def format_layers(layers: dict, shown: int = 5) -> str:
    """The Linear layers that cost int8 the most accuracy, measured one at a time, with their input ranges."""
    from tui.core.layers import LayerEvidence

    found = [LayerEvidence.from_json(d) for d in layers.get("layers") or []]
    rows = [[e.name, f"{e.cosine_loss:.4f}", f"{e.max_abs:.1f}", f"{e.ratio:.1f}×", f"{e.channel_ratio:.0f}×",
             str(e.outlier_channels)] for e in found[:shown]]
    return (f"Layers that cost int8 the most ({len(found)} Linear layers, each int8 alone on {layers.get('texts')} "
            f"{layers.get('source', 'texts')}; {layers.get('scheme', '')}):\n"
            + format_table(["layer", "cosine lost", "max |x|", "max/p99.9", "top/median channel", "outlier ch."],
                           rows))


def format_sweep(sweep: dict) -> str:
    """The crossover grid: rows are batch sizes, columns sequence lengths, cells the route's speedup."""
    cells = sweep["cells"]
    batches = sorted({c["batch_size"] for c in cells})
    lengths = sorted({c["seq_len"] for c in cells})
    by = {(c["batch_size"], c["seq_len"]): c["speedup"] for c in cells}
    rows = [[f"batch {b}"] + [f"{by[(b, t)]:.2f}×{'' if by[(b, t)] >= 1 else ' ✗'}" if (b, t) in by else "—"
                              for t in lengths] for b in batches]
    losing = [c for c in cells if c["speedup"] < 1]
    verdict = (f"int8 loses in {len(losing)} of {len(cells)} cells (✗)" if losing else
               f"int8 wins in every one of the {len(cells)} cells here")
    return (f"Crossover sweep: {sweep['route']} vs fp32 (speedup; {verdict})\n"
            + format_table(["", *[f"{t} tokens" for t in lengths]], rows))


def _measured_section(title: str, table: tuple[list[str], list[list[str]]] | None, conclusions: list[str],
                      markdown: bool) -> str:
    """A pass's section: its title, its table (plain or Markdown), then what it concludes."""
    lines = [title]
    if table:
        headers, rows = table
        if markdown:
            lines += ["", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
            lines += ["| " + " | ".join(row) + " |" for row in rows]
            lines.append("")
        else:
            lines.append(format_table(headers, rows))
    lines += [f"- {c}" if markdown else c for c in conclusions]
    return "\n".join(lines)


def frontier_shown(doc: dict) -> bool:
    """A frontier with more than fp32 on it, or one a beyond-int8 route needed and could not have (no task)."""
    front = doc.get("frontier") or {}
    return len(front.get("points", [])) > 1 or (not front.get("available", True)
                                                 and any(gate.changes_model(r) for r in doc.get("routes", [])))


def format_frontier(doc: dict, markdown: bool = False) -> str:
    """The routes on the speed–accuracy frontier, the budget from which each is picked, what each budget buys."""
    from tui.core import frontier

    front = doc["frontier"]
    title = (f"Speed–accuracy frontier ({front['axis']['y']} against {front['axis']['x']}; "
             "Pareto-optimal on the point estimates):" if front.get("available") else "Speed–accuracy frontier:")
    return _measured_section(title, frontier.table(doc), frontier.lines(doc), markdown)


def format_threads_sweep(sweep: dict, markdown: bool = False) -> str:
    """`--threads-sweep`: sent/s per thread count and route with CIs, the paired speedup, where threads stop paying."""
    from tui.core import thread_sweep

    table = thread_sweep.table(sweep) if sweep.get("points") else None
    return _measured_section(thread_sweep.title(sweep), table, thread_sweep.conclusions(sweep), markdown)


def format_latency(doc: dict, markdown: bool = False) -> str:
    """`--pattern online`: p50/p95/p99 per route with CIs, the paired p95 ratio to fp32, the route for online."""
    from tui.core import latency

    return _measured_section(latency.title(doc), latency.table(doc), latency.conclusions(doc), markdown)


def format_processes(proc: dict, markdown: bool = False) -> str:
    """`--pattern processes`: sent/s per split and route with CIs, the paired speedups, the split to run."""
    from tui.core import processes

    table = processes.table(proc) if proc.get("points") else None
    return _measured_section(processes.title(proc), table, processes.conclusions(proc), markdown)


def format_roofline(roof: dict, routes: list[dict], cpu) -> str:
    """Each route's share of its own dtype's ceiling; a route above its bound gets the failed assumption."""
    from tui.core.roofline import assess

    judged = assess(roof, routes, cpu)
    ceilings = {d: c for d, c in (roof.get("ceilings") or {}).items() if isinstance(c, dict) and c.get("gflops")}
    if ceilings:
        bounds = "measured ceilings: " + ", ".join(f"{d} {c['gflops']:.0f} G{'OP' if d == 'int8' else 'FLOP'}/s"
                                                    for d, c in ceilings.items())
    else:
        bounds = (f"spec-sheet peaks, no ceilings measured: fp32 {roof['peak_fp32_gflops']:.0f} GFLOP/s, int8 "
                  f"{roof['peak_int8_gops']:.0f} GOP/s")
    within = ", ".join(f"{rid} {j['percent']:.0f}% of {j['dtype']}" for rid, j in judged.items()
                       if j["percent"] is not None)
    lines = [f"Share of each route's ceiling ({bounds}; assumptions in the JSON): {within}"]
    lines += [f"  {rid}: {j['exceeds']}" for rid, j in judged.items() if j["exceeds"]]
    return "\n".join(lines)


def effect_label(a: dict) -> str:
    """"Effect (measured)" or "Effect (estimated from …)": every effect says where its number comes from."""
    basis = a.get("basis")
    return f"Effect ({basis})" if basis else "Effect"


def full_recipes_hint(report: str) -> str:
    return (f"Recipes in full (encode.py and all): `qtui explain {shlex.quote(report)} --recipes`, the Markdown "
            "report, or Enter on an advice item in the dashboard.")


def recipe_lines(a: dict, full: bool, shown: dict[str, int], rank: int) -> list[str]:
    """Item `rank`'s recipe for a terminal: in full, or its short form (without one, a line saying so). `shown`
    maps the texts printed so far to their item's rank: a repeat names that item instead."""
    text = a.get("recipe") if full else a.get("recipe_short")
    if text in shown:
        return [f"   Recipe: as for item {shown[text]}."]
    if text:
        shown[text] = rank
        return ["   Recipe:"] + [f"     {line}" for line in text.rstrip().splitlines()]
    if a.get("recipe"):
        return [f"   Recipe: {len(a['recipe'].splitlines())} lines, none fewer reproduce this route (in full: below)."]
    return []


def format_advice(advice: list[dict], recipes: bool = False, finding: dict | None = None,
                  report: str = "REPORT.json") -> str:
    """The finding, then the ranked advice for a terminal: title, evidence, fix, effect and each recipe's short
    form (`recipes`: every recipe in full); a recipe already shown is named, not repeated. `report` is the saved
    JSON, for the command that prints the recipes in full."""
    lines = [finding["headline"], ""] if finding else []
    shown: dict[str, int] = {}
    for i, a in enumerate(advice, 1):
        lines += [f"{i}. [{a['severity']}] {a['title']}  ({a['code']})",
                  f"   Evidence: {a['evidence']}", f"   Fix: {a['fix']}",
                  f"   {effect_label(a)}: {a.get('effect', '')}", *recipe_lines(a, recipes, shown, i)]
    if not advice:
        lines.append("No advice: nothing in this report points at a problem.")
    if not recipes and any(a.get("recipe") and a.get("recipe_short") != a["recipe"] for a in advice):
        lines += ["", full_recipes_hint(report)]
    return "\n".join(lines)


def peer_version_lines(doc: dict) -> list[str]:
    """"- fastembed: fastembed 0.9.1, onnxruntime 1.32.0": the versions each peer ran with, in its environment."""
    return [f"- {r['id']}: " + ", ".join(f"{k} {v}" for k, v in r["peer_versions"].items())
            for r in doc.get("routes", []) if r.get("peer") and r.get("peer_versions")]


def to_markdown(doc: dict) -> str:
    env, wl = doc["env"], doc["workload"]
    cpu = env["cpu"]
    lines = [
        "# qtui benchmark report", "",
        f"- Created: {doc['created']} · wall {doc['wall_s']} s · {doc['rounds']} rounds ({doc.get('stop_reason', '')})",
        f"- CPU: {cpu.get('model')} ({cpu.get('arch')}, {cpu.get('logical_cpus')} logical CPUs) · features: "
        f"{' '.join(cpu.get('features', []))}",
        f"- Threads: {env['threads']} · torch {env['torch']} · Python {env['python']}",
        f"- Workload: {wl['model']} · {wl['texts']} texts ({wl.get('source', '')}) · batch size {wl['batch_size']}",
    ]
    if env.get("simulated_isa"):
        lines.append(f"- **Simulated ISA**: {env['simulated_isa']} (a prediction for a weaker CPU, not this one)")
    headers = table_headers(doc)
    lines += ["", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in route_rows(doc)]
    lines += [""]
    if doc.get("task"):
        lines += ["```", format_task(doc), "```", ""]
    for r in doc["routes"]:
        if r["status"] != "ok" and r.get("why"):
            lines.append(f"- `{r['id']}` {r['status']}: {r['why']}")
    rec = doc["recommendation"]
    lines += ["", f"**Recommended:** `{rec['route']}` — {rec['why']}", ""]
    against = peers_comparison(doc)
    if against:
        lines += ["## Against the peers", "", against, "", *peer_version_lines(doc), ""]
    invariance = format_batch_invariance(doc)
    if invariance:
        lines += [invariance, ""]
    if doc.get("layers"):
        lines += ["```", format_layers(doc["layers"]), "```", ""]
    if frontier_shown(doc):
        lines += ["## The speed–accuracy frontier", "", format_frontier(doc, markdown=True), ""]
    if doc.get("threads_sweep"):
        lines += ["## Thread scaling", "", format_threads_sweep(doc["threads_sweep"], markdown=True), ""]
    if doc.get("latency"):
        lines += ["## Single-text calls (online)", "", format_latency(doc, markdown=True), ""]
    if doc.get("processes"):
        lines += ["## Bulk over processes", "", format_processes(doc["processes"], markdown=True), ""]
    kernels = kernel_lines(doc)
    if kernels:
        lines += ["## Kernels that ran", "", *(f"- {line}" for line in kernels), ""]
    if doc.get("finding"):
        lines += ["## Finding", "", doc["finding"]["headline"], ""]
    if doc.get("advice"):
        lines += ["## Advice", ""]
        shown: dict[str, str] = {}  # recipe → the title of the item that showed it: a repeat names that item
        for a in doc["advice"]:
            lines += [f"### [{a['severity']}] {a['title']} (`{a['code']}`)", "", f"Evidence: {a['evidence']}", "",
                      f"Fix: {a['fix']}", "", f"{effect_label(a)}: {a.get('effect', '')}", ""]
            if a.get("recipe") in shown:
                lines += [f"Recipe: as for “{shown[a['recipe']]}” above.", ""]
            elif a.get("recipe"):
                shown[a["recipe"]] = a["title"]
                lines += ["```python", a["recipe"].rstrip(), "```", ""]
    return "\n".join(lines)

