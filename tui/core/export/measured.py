"""What was measured for the exported route: speed-up over torch fp32 with its CI, cosine to fp32, threads,
the CPU — copied from a report (the one given, or the latest saved here), never made up. Without one the
export says "not measured"."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Measured:
    route: str
    speedup: float
    ci95: tuple[float | None, float | None]
    verdict: str
    cosine_mean: float | None
    cosine_min: float | None
    sentences_per_s: float | None
    threads: int | None
    batch_size: int | None
    cpu: dict  # the report's env.cpu
    packages: dict
    report: str  # where the numbers come from
    created: str
    workload: dict
    facts: dict = field(default_factory=dict)  # the route's facts in the report (a mix's kept_fp32 layers)
    task: dict | None = None  # with a task in the report: the task, the route's score and the share of fp32's kept
    pattern: dict | None = None  # the call pattern measured and set up for (export/pattern.py)
    own_space: bool = False  # a static route: its vectors are not fp32's, so no cosine (the task judges it)

    def to_json(self) -> dict:
        return {"speedup_vs_torch_fp32": self.speedup, "ci95": list(self.ci95), "verdict": self.verdict,
                "cosine_mean": self.cosine_mean, "cosine_min": self.cosine_min,
                "sentences_per_s": self.sentences_per_s, "threads": self.threads, "batch_size": self.batch_size,
                "measured_on": self.cpu, "packages": self.packages, "report": self.report,
                "report_created": self.created, "workload": self.workload, "task": self.task,
                "pattern": self.pattern, "own_space": self.own_space}


def from_report(doc: dict, route_id: str, source: str, model_name: str | None = None,
                pattern: str = "bulk") -> Measured | None:
    """The route's numbers in `doc`, if it measured that route (on that model) with a speed-up, and in
    `pattern` (export/pattern.py)."""
    from tui.core.export import pattern as patterns

    workload = doc.get("workload") or {}
    if model_name is not None and workload.get("model") != model_name:
        return None
    route = next((r for r in doc.get("routes", []) if r.get("id") == route_id), None)
    if not route or route.get("status") != "ok" or not route.get("speedup"):
        return None
    measured_pattern = patterns.from_report(doc, route_id, pattern)
    if measured_pattern is None:
        return None
    speedup, accuracy = route["speedup"], route.get("accuracy") or {}
    env = doc.get("env") or {}
    return Measured(route_id, speedup["point"], tuple(speedup.get("ci95") or (None, None)), speedup.get("verdict", ""),
                    accuracy.get("cosine_mean"), accuracy.get("cosine_min"),
                    (route.get("throughput") or {}).get("median"), route.get("threads") or env.get("threads"),
                    workload.get("batch_size"), env.get("cpu") or {}, env.get("packages") or {}, source,
                    str(doc.get("created", "")),
                    {k: workload.get(k) for k in ("model", "texts", "source", "fingerprint")},
                    dict(route.get("facts") or {}), _task(doc, route), measured_pattern, bool(route.get("own_space")))


def _task(doc: dict, route: dict) -> dict | None:
    from tui.core import accuracy_gate

    task, score = doc.get("task"), route.get("task")
    if not task or not score or score.get("score") is None:
        return None
    return {**{k: task.get(k) for k in ("name", "metric", "split", "n", "source")}, "score": score["score"],
            "ci95": score.get("ci95"), "kept": score.get("kept"), "said": accuracy_gate.accuracy_text(route, doc)}


def latest_saved(route_id: str, model_name: str, cache_root: Path | None = None,
                 pattern: str = "bulk") -> Measured | None:
    """The newest report saved on this machine that measured `route_id` on `model_name` (in `pattern`)."""
    from tui.core.report_history import saved_reports

    for path, doc in saved_reports(cache_root):
        found = from_report(doc, route_id, str(path), model_name, pattern)
        if found is not None:
            return found
    return None


def describe(measured: dict | None) -> str:
    """One line for the README and the CLI, from `Measured.to_json()` (or None)."""
    if not isinstance(measured, dict):
        return NOT_MEASURED
    lo, hi = measured["ci95"]
    ci = f" [95% CI {lo:.2f}–{hi:.2f}]" if lo is not None and hi is not None else ""
    from tui.core.accuracy_gate import OTHER_SPACE

    cos = f", mean cosine to fp32 {measured['cosine_mean']:.4f}" if measured["cosine_mean"] is not None else (
        f", cosine to fp32 {OTHER_SPACE}" if measured.get("own_space") else "")
    task = measured.get("task") or {}
    said = f", {task['said']}" if task.get("kept") else (
        f", {task['metric']} {task['score']:.4f} on {task['name']}" if task else
        ", unjudged without a task" if measured.get("own_space") else "")
    from tui.core.export.pattern import words

    pattern = measured.get("pattern") or {}
    chosen = f"; set up for {words(pattern)}" if pattern.get("name", "bulk") != "bulk" else ""
    return (f"{measured['speedup_vs_torch_fp32']:.2f}× torch fp32{ci} ({measured['verdict']}){cos}{said}, "
            f"{measured['threads']} threads{chosen}")


def measure_briefly(checked, workload, say, cancel) -> tuple[Measured | None, str]:
    """A short paired run of the route against torch fp32 (the same coordinator as `qtui bench`), saved to the
    history like any run; its artefact lands in the cache, where the export then takes it from."""
    from tui.core import bench
    from tui.core.events import RoundDone, RouteFailed
    from tui.core.report import build_document
    from tui.core.report_history import remember
    from tui.core.routes import BASELINE

    request = checked.request
    plan = bench.Plan(model=checked.model, workload=workload, routes=(BASELINE, checked.spec.id), cpu=checked.cpu,
                      batch_size=request.batch_size, threads=checked.threads, max_rounds=15,
                      time_budget_s=request.measure_budget_s,
                      cache_root=request.cache_root,
                      # The export needs the speed-up and the cosine: none of the diagnosis passes.
                      profile=False, ceilings=False, invariance=False, kernels=False, layers=False)
    say(f"no saved measurement of {checked.spec.id}: measuring it against torch fp32 (up to 15 rounds or "
        f"{request.measure_budget_s:g} s after preparation; `qtui bench` measures longer)…")

    def emit(event) -> None:
        if isinstance(event, RoundDone) and checked.spec.id in event.speedups:
            say(f"  round {event.round}: {event.speedups[checked.spec.id].point:.2f}×")
        elif isinstance(event, RouteFailed):
            say(f"  {event.route_id} {event.status}: {event.why}")

    doc = build_document(bench.run(plan, emit, cancel))
    if cancel():
        return None, "measurement cancelled"
    path = remember(doc, request.cache_root)
    found = from_report(doc, checked.spec.id, str(path) if path else "a short measurement by qtui export")
    if found is None:
        route = next(r for r in doc["routes"] if r["id"] == checked.spec.id)
        return None, f"the short measurement did not finish: {route.get('why') or route['status']}"
    return found, ""


def mix_facts(checked) -> dict:
    """A mixed route's facts from its run (which layers it kept out of int8, in what dtype); {} for other routes."""
    return checked.measured.facts if checked.spec.rescue and checked.measured else {}
