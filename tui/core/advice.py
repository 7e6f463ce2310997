"""Diagnosis: what a run found, then the advice that explains it, ranked by the question the finding asks.

Every rule fires only on evidence — a number measured in the report or a fact read from the CPU — and
quotes that evidence. Rules read the `qtui.report/1` document (a dict), so the same code explains a
report saved on another machine (`qtui explain`), older reports included (optional fields have fallbacks).

The finding answers the user's question first: int8 is faster here, slower here, fast but inaccurate, or
these measurements cannot decide. The advice is then ranked for that question: when nothing can be
decided, why not (noise); when int8 loses, the causes of the loss; when it wins, what would gain more, then
the caveats. Within a group, effects the run measured come first, then those estimated from a stated model
(usually an upper bound); each set is ranked by its expected gain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tui.core import accuracy_gate as gate
from tui.core import frontier
from tui.core.accuracy_gate import changes_model
from tui.core.cpu import CpuProfile
from tui.core.engines import int8_capability, recommend
from tui.core.invariance import BatchInvariance, above_floor
from tui.core.kernels.summary import route_findings
from tui.core.layers import LayerEvidence
from tui.core.profile import LINEAR, OpProfile, amdahl_bound
from tui.core.recipes import recipe_for

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}
INT8_DTYPES = ("qint8", "int8")
MEASURED = "measured"
CI_WIDE = 0.05  # a CI wider than ±5 % could still move a verdict (the stop rule's target)
DRIFT_LIMIT = 0.05

# What each kind of item answers: a cause of a loss, a further gain, an accuracy caveat, whether the numbers
# can be trusted, or context (a conclusion without a fix of its own).
KINDS = ("cause", "gain", "caveat", "trust", "context")

# The order of the kinds for each finding. When int8 wins (accurately or not), a loss on some route is a gain
# to recover, so causes rank with the gains.
GROUPS = {
    "undecidable": (("trust",), ("cause",), ("gain",), ("caveat",), ("context",)),
    "slower": (("cause",), ("trust",), ("gain",), ("caveat",), ("context",)),
    "faster": (("gain", "cause"), ("caveat",), ("trust",), ("context",)),
    "inaccurate": (("caveat",), ("gain", "cause"), ("trust",), ("context",)),
    "no-int8": (("trust",), ("cause",), ("gain",), ("caveat",), ("context",)),
}


@dataclass(frozen=True)
class Advice:
    code: str
    severity: str  # "high" | "medium" | "low" | "info"
    title: str
    evidence: str
    fix: str
    effect: str  # the expected effect of the fix, in words
    recipe: str | None = None  # a recipes.Recipe from Facts.recipe: the full text, and its short form
    gain: float = 1.0  # expected speedup factor of applying the fix
    basis: str = MEASURED  # "measured", or "estimated from …" (the model behind the gain)
    kind: str = "cause"  # one of KINDS

    def to_json(self) -> dict:
        return {"code": self.code, "severity": self.severity, "title": self.title, "evidence": self.evidence,
                "fix": self.fix, "effect": self.effect, "recipe": self.recipe, "gain": round(self.gain, 3),
                "basis": self.basis, "kind": self.kind,
                "recipe_short": getattr(self.recipe, "short", None)}  # recipes.Recipe: the fewest lines


@dataclass(frozen=True)
class Finding:
    kind: str  # "faster" | "slower" | "inaccurate" | "undecidable" | "no-int8"
    headline: str

    def to_json(self) -> dict:
        return {"kind": self.kind, "headline": self.headline}


@dataclass(frozen=True)
class Diagnosis:
    finding: Finding
    advice: tuple[Advice, ...]


def severity_for(gain: float) -> str:
    return "high" if gain >= 1.5 else "medium" if gain >= 1.1 else "low"


# ------------------------------------------------------------------------------------ report access


class Facts:
    """Convenient, read-only access to a report document."""

    def __init__(self, doc: dict) -> None:
        self.doc = doc
        self.routes = {r["id"]: r for r in doc.get("routes", [])}
        self.min_cosine = doc.get("min_cosine", 0.99)
        self.model = doc.get("workload", {}).get("model", "")

    def recipe(self, route_id: str) -> str | None:
        facts = (self.routes.get(route_id) or {}).get("facts") or {}
        return recipe_for(route_id, self.model, self.doc.get("env", {}).get("threads") or 1, facts)

    def ok(self, rid: str) -> dict | None:
        r = self.routes.get(rid)
        return r if r and r.get("status") == "ok" else None

    def measured(self) -> list[dict]:
        """qtui's routes with a speedup against fp32 (the peers are compared with its pick: peers())."""
        return [r for r in self.routes.values() if r.get("status") == "ok" and r.get("speedup") and not r.get("peer")]

    def int8(self) -> list[dict]:
        """The int8 routes the finding rests on; a length-capped or static route is beyond int8 (the frontier)."""
        return [r for r in self.measured() if r.get("dtype") in INT8_DTYPES and not changes_model(r)]

    def peers(self) -> list[dict]:
        """The peers measured beside qtui's routes (fastembed, sentence-transformers' recipes)."""
        return [r for r in self.routes.values() if r.get("peer") and r.get("status") == "ok" and r.get("speedup")]

    def throughput(self, rid: str) -> float | None:
        r = self.ok(rid)
        return r["throughput"]["median"] if r and r.get("throughput") else None

    def cosine(self, rid: str) -> float | None:
        r = self.routes.get(rid)
        return r["accuracy"]["cosine_mean"] if r and r.get("accuracy") else None

    def accurate(self, r: dict) -> bool:
        """The recommendation's gate: the task's kept share when the report has a task, else the mean cosine."""
        return gate.accurate(r, self.doc)

    def cosine_ok(self, r: dict) -> bool:
        """The cosine gate alone: what the rules explaining a cosine loss (outliers, per-tensor scales) ask."""
        return gate.passes_cosine(r, self.doc)

    def accuracy(self, r: dict) -> str:
        """"cosine 0.9934", or with a task "keeps 99.6 % of fp32's STS-B Spearman, 95 % CI 99.3–99.9"."""
        return gate.accuracy_text(r, self.doc)

    def torch_int8(self) -> list[dict]:
        """torch's dynamic int8 routes (quantize_dynamic of every Linear): the ones the engine, ISA and Amdahl rules
        are about. Not the rescue's mixes, which keep layers fp32: not "the same quantization" on another engine."""
        return [r for r in self.measured() if r["id"].startswith("torch-qint8-") and not r["id"].endswith("-mixed")]

    def whole_graph_int8(self) -> list[dict]:
        """Accurate int8 routes that quantize or fuse more than the Linear layers: ONNX Runtime after its
        optimizer, OpenVINO, and torch's static int8 (PT2E, compiled)."""
        return [r for r in self.int8() if self.accurate(r)
                and (r.get("backend") in ("onnxruntime", "openvino") or r["id"] == "torch-pt2e-int8")]

    def torch_routes(self) -> list[dict]:
        """Every measured torch route: dynamic and static int8, bf16, compiled fp32."""
        return [r for r in self.measured() if r.get("backend") == "torch"]

    def profile(self, rid: str) -> OpProfile | None:
        r = self.ok(rid)
        return OpProfile.from_json(r["profile"]) if r and r.get("profile") else None

    def linear_share(self) -> float | None:
        """The share of fp32's time in Linear layers, from its profiled batch."""
        p = self.profile("torch-fp32")
        return p.linear_share if p and p.linear_share > 0 else None


def ci_text(r: dict) -> str | None:
    lo, hi = r["speedup"]["ci95"]
    return f"95 % CI {lo:.2f}–{hi:.2f}" if lo is not None else None


def fmt_speedup(r: dict) -> str:
    ci = ci_text(r)
    return f"{r['speedup']['point']:.2f}×" + (f", {ci}" if ci else "")


def fmt_route(f: Facts, r: dict) -> str:
    tp = f.throughput(r["id"])
    details = [d for d in (ci_text(r), f"{tp:.0f} sent/s" if tp else None) if d]
    return f"{r['id']} ran at {r['speedup']['point']:.2f}× of fp32" + (f" ({'; '.join(details)})" if details else "")


def _best(routes: list[dict]) -> dict | None:
    return max(routes, key=lambda r: r["speedup"]["point"]) if routes else None


def _half_width(r: dict) -> float:
    lo, hi = r["speedup"]["ci95"]
    if lo is None or hi is None or lo <= 0:
        return math.inf
    return math.expm1(math.log(hi / lo) / 2)


def _share(f: Facts) -> tuple[float, str]:
    share = f.linear_share()
    if share is None:
        # Without a profile there is no measured share: say what is assumed, and that it is an assumption.
        return 0.8, "a Linear share of 80 % assumed (this report has no fp32 profile)"
    return share, f"the profiled Linear share of {share:.0%}"


def isa_estimate(cpu: CpuProfile, f: Facts, k: float | None = None) -> tuple[float, str]:
    """The speed-up over fp32 int8 Linear kernels with ratio k would give, by Amdahl over the profiled share."""
    k = k if k is not None else int8_capability(cpu).ratio
    share, source = _share(f)
    return amdahl_bound(share, k), f"estimated from the ISA's int8:fp32 ratio k≈{k:.0f} and {source}"


def isa_upgrade(f: Facts, k_here: float, k_better: float) -> tuple[float, float, str]:
    """(speed-up here, speed-up with the better ISA, basis): what a CPU with a wider int8 path would give."""
    share, source = _share(f)
    return (amdahl_bound(share, k_here), amdahl_bound(share, k_better),
            f"estimated from the ISAs' int8:fp32 ratios (k≈{k_here:.0f} here, ≈{k_better:.0f} with the missing "
            f"instructions) and {source}")


# ------------------------------------------------------------------------------------------- finding


def finding(f: Facts) -> Finding:
    """What the run found about int8, in one line: the question the advice then answers."""
    int8 = f.int8()
    if not int8:
        tried = [r["id"] for r in f.routes.values() if r.get("dtype") in INT8_DTYPES]
        return Finding("no-int8", "No int8 route was measured" + (f" ({', '.join(tried)} could not run)" if tried
                                                                  else "") + ": nothing to say about int8 yet.")
    faster = [r for r in int8 if r["speedup"]["verdict"] == "faster"]
    accurate = [r for r in faster if f.accurate(r)]
    slowest = min(int8, key=lambda r: r["speedup"]["point"])
    but = (f"; {slowest['id']} ran at {slowest['speedup']['point']:.2f}×"
           if slowest["speedup"]["verdict"] == "slower" else "")
    if accurate:
        best = _best(accurate)
        best_fp32 = (f.doc.get("best_fp32") or {}).get("route")
        fair = (f"; {best['vs_best_fp32']['point']:.2f}× the fastest fp32 route, {best_fp32}"
                if best.get("vs_best_fp32") and best_fp32 not in (None, "torch-fp32") else "")
        return Finding("faster", f"int8 is {best['speedup']['point']:.2f}× faster than fp32 here ({best['id']}, "
                       f"{ci_text(best) or 'no CI yet'}, {f.accuracy(best)}{fair}){but}: "
                       f"what would gain more, then the caveats.")
    if faster:
        best = _best(faster)
        return Finding("inaccurate", f"int8 is up to {best['speedup']['point']:.2f}× faster here ({best['id']}), "
                       f"but no faster int8 route {gate.gate_text(f.doc)} (it: {f.accuracy(best)}): why accuracy "
                       "is lost, then what else to try.")
    best = _best(int8)
    if best["speedup"]["verdict"] == "inconclusive" and _half_width(best) > CI_WIDE:
        return Finding("undecidable", f"These measurements cannot decide whether int8 is faster here: the best, "
                       f"{best['id']}, ran at {fmt_speedup(best)}, a CI that includes 1.0: why, then what else "
                       f"the run shows.")
    if best["speedup"]["verdict"] == "slower":
        return Finding("slower", f"int8 is slower than fp32 here: the fastest int8 route, {best['id']}, ran at "
                       f"{fmt_speedup(best)}. The causes, most likely first.")
    return Finding("slower", f"int8 is no faster than fp32 here: the best int8 route, {best['id']}, ran at "
                   f"{fmt_speedup(best)}. The causes, most likely first.")


# ------------------------------------------------------------------------------------------- rules


def engine_mismatch(cpu: CpuProfile, f: Facts) -> Advice | None:
    """qnnpack on x86: the seed case."""
    if not cpu.is_x86:
        return None
    qnnpack = [r for r in f.measured() if r.get("engine") == "qnnpack"]
    if not qnnpack:
        return None
    worst = min(qnnpack, key=lambda r: r["speedup"]["point"])
    peers = [r for r in f.torch_int8() if r.get("engine") in ("x86", "fbgemm", "onednn")
             and r.get("granularity") == worst.get("granularity")]
    engine = recommend(cpu).engine or "x86"
    # Cite the engine the fix names when it was measured; otherwise the fastest x86-family peer.
    best_peer = next((r for r in peers if r.get("engine") == engine), None) or _best(peers)
    if worst["speedup"]["verdict"] != "slower" and not (
            best_peer and best_peer["speedup"]["point"] > worst["speedup"]["point"] * 1.1):
        return None
    evidence = f"{fmt_route(f, worst)}."
    if best_peer:
        gain = best_peer["speedup"]["point"] / worst["speedup"]["point"]
        evidence += f" The same quantization on the {best_peer['engine']} engine ran at {fmt_speedup(best_peer)}."
        effect, basis = f"{gain:.1f}× faster than with qnnpack ({best_peer['id']} vs {worst['id']}).", MEASURED
    else:
        target, basis = isa_estimate(cpu, f)
        target = max(target, 1.0)  # an x86 engine is at least as fast as fp32's kernels
        gain = target / worst["speedup"]["point"]
        effect = (f"About {target:.1f}× of fp32 instead of {worst['speedup']['point']:.2f}× ({gain:.1f}× the qnnpack "
                  f"route); not measured in this run: add --routes torch-qint8-{engine}.")
    evidence += (" qnnpack is PyTorch's ARM engine: on x86 its int8 GEMMs are 128-bit SSE2 micro-kernels, "
                 f"while this CPU's best int8 path is {int8_capability(cpu).instruction}.")
    return Advice("engine-mismatch", severity_for(gain), "qnnpack is the wrong quantized engine on x86", evidence,
                  f"Set torch.backends.quantized.engine = '{engine}' before quantize_dynamic (weights are packed "
                  f"for the engine active at quantization time).", effect,
                  f.recipe(f"torch-qint8-{engine}" + ("-perchannel" if worst.get("granularity") == "per-channel"
                                                        else "")), gain, basis, "cause")


def no_int8_dot(cpu: CpuProfile, f: Facts) -> Advice | None:
    cap = int8_capability(cpu)
    if cpu.is_x86 and not cpu.has("avx2"):
        return None  # no-avx2 says it
    if cap.ratio >= 4 or not f.torch_int8():
        return None
    best = _best(f.torch_int8())
    dot = "AVX-512 VNNI / AVX-VNNI / AMX" if cpu.is_x86 else "dotprod (SDOT) / i8mm (SMMLA)"
    here, with_dot, basis = isa_upgrade(f, cap.ratio, 4.0)
    gain = with_dot / here
    evidence = (f"This CPU has no int8 dot-product instruction ({dot} absent); its best int8 path is "
                f"{cap.instruction}: {cap.why}. Best torch int8 route measured: {fmt_route(f, best)}.")
    return Advice("no-int8-dot", severity_for(gain), "No int8 dot-product instructions on this CPU", evidence,
                  f"Expect at most about {cap.ratio:.0f}× from the int8 kernels here; a CPU with {dot} runs them "
                  f"about 4× the fp32 rate (x86: Cascade Lake / Ice Lake / Sapphire Rapids, AMD Zen 4+; "
                  f"ARM: Neoverse N1+).",
                  f"On such a CPU the same model would reach about {with_dot:.2f}× of fp32 instead of {here:.2f}× "
                  f"({gain:.2f}×); a property of the hardware, not measurable here.", None, gain, basis, "cause")


def no_avx2(cpu: CpuProfile, f: Facts) -> Advice | None:
    if not cpu.is_x86 or cpu.has("avx2") or not f.torch_int8():
        return None
    best = _best(f.torch_int8())
    here, with_avx2, basis = isa_upgrade(f, int8_capability(cpu).ratio, 2.0)
    gain = with_avx2 / here
    return Advice("no-avx2", severity_for(gain), "No AVX2: FBGEMM's int8 kernels cannot run", f"This CPU lacks AVX2 "
                  f"(features: {' '.join(cpu.sorted_features()) or 'none read'}); FBGEMM, behind the x86 and "
                  f"fbgemm engines, needs it. Best torch int8 route measured: {fmt_route(f, best)}.",
                  "Use the onednn engine, or keep fp32 on this CPU.",
                  f"int8 kernels here are no wider than fp32; with AVX2 the same model would reach about "
                  f"{with_avx2:.2f}× of fp32 ({gain:.2f}× over this CPU's {here:.2f}×).",
                  f.recipe("torch-qint8-onednn"), gain, basis, "cause")


def _linear_speedup(base: OpProfile, q: OpProfile) -> float | None:
    """fp32 Linear time over the int8 route's Linear time (activation quantization included), same batch."""
    q_linear, fp32_linear = q.linear_work_ms, base.ms_of(*LINEAR)
    if q_linear <= 0 or fp32_linear <= 0 or base.batch_size != q.batch_size:
        return None
    return fp32_linear / q_linear


def unquantized_share(cpu: CpuProfile, f: Facts) -> Advice | None:
    """Amdahl with measured numbers: dynamic quantization speeds up only the Linear layers."""
    base = f.profile("torch-fp32")
    share = f.linear_share()
    best = _best(f.torch_int8())
    if base is None or share is None or best is None:
        return None
    point = best["speedup"]["point"]
    q = f.profile(best["id"])
    k_measured = _linear_speedup(base, q) if q else None
    rest = sorted(((c, ms) for c, ms in base.ms.items() if c not in LINEAR),
                  key=lambda x: -x[1])
    rest_text = ", ".join(f"{c} {ms / base.total_ms:.0%}" for c, ms in rest[:3] if ms > 0)
    evidence = (f"Profiling one batch of {base.batch_size} in fp32: Linear layers take {share:.0%} of the time; "
                f"the rest ({rest_text}) stays fp32 under dynamic quantization.")
    if k_measured:
        k, k_source = k_measured, f"the Linear layers' measured speed-up in {best['id']}'s profile"
    else:
        k, k_source = int8_capability(cpu).ratio, "this ISA's int8:fp32 ratio (no int8 profile in this report)"
    predicted = amdahl_bound(share, k)
    evidence += (f" With k = {k:.2f}× ({k_source}), Amdahl predicts 1/((1−{share:.2f}) + {share:.2f}/{k:.2f}) = "
                 f"{predicted:.2f}× if only the Linear layers change.")
    evidence += " " + _amdahl_against_measurement(f, best, predicted, share, base, q, k_measured)
    if q:
        q_rest = q.rest_ms / q.total_ms if q.total_ms else 0.0
        evidence += (f" In {best['id']}'s own profile, {q_rest:.0%} of the time is now in the ops it leaves in "
                     f"fp32.")
        title = f"{q_rest:.0%} of {best['id']}'s time is in fp32 ops that dynamic int8 does not touch"
    else:
        title = f"Only {share:.0%} of the time is in layers int8 speeds up"
    # Routes that quantize or fuse more than the Linear layers: the measured alternative, if any.
    whole_graph = _best(f.whole_graph_int8())
    if whole_graph is not None:
        gain, basis = whole_graph["speedup"]["point"] / point, MEASURED
        effect = (f"{fmt_route(f, whole_graph)}, {gain:.2f}× the best torch int8 route." if gain > 1 else
                  f"{fmt_route(f, whole_graph)} — no better than torch's on this CPU.")
    elif q and k_measured:
        # If the fp32 rest ran at the Linear layers' measured speed-up too.
        gain = q.total_ms / (q.total_ms - q.rest_ms + q.rest_ms / k_measured)
        basis = "estimated from the profiles: the fp32 ops sped up like the Linear layers did"
        effect = f"Up to {gain:.2f}× over {best['id']}; not measured in this run: add --routes ort-qint8,openvino-int8."
    else:
        gain, basis = 1.0, "not estimated: this report has no int8 profile"
        effect = "Not measured in this run: add --routes ort-qint8,openvino-int8."
    return Advice("unquantized-share", severity_for(gain) if gain > 1 else "info", title, evidence,
                  "Quantize or fuse more of the graph: ONNX Runtime after its transformer optimizer (fused "
                  "attention, LayerNorm, GELU), static int8 with OpenVINO + nncf (attention matmuls too), or "
                  "torch's static int8 (PT2E) compiled by inductor, which fuses the ops around the GEMMs.", effect,
                  f.recipe(whole_graph["id"] if whole_graph else "ort-qint8"), max(gain, 1.0), basis, "gain")


def _amdahl_against_measurement(f: Facts, best: dict, predicted: float, share: float, base: OpProfile,
                                q: OpProfile | None, k_measured: float | None) -> str:
    """Compare the model with the measurement; when the measurement beats it, say which assumption failed."""
    point = best["speedup"]["point"]
    lo = best["speedup"]["ci95"][0] or point
    if lo <= predicted:
        return f"Measured: {fmt_route(f, best)}, {point / predicted:.0%} of that prediction."
    over = point / predicted - 1
    if q and q.rest_ms < base.rest_ms * 0.95:
        return (f"Measured: {fmt_route(f, best)}, {over:.0%} above the prediction — its assumption that only the "
                f"Linear layers change failed: the other ops took {base.rest_ms:.1f} ms in fp32's profile and "
                f"{q.rest_ms:.1f} ms in {best['id']}'s.")
    if k_measured:
        return (f"Measured: {fmt_route(f, best)}, {over:.0%} above the prediction — the profiled batch is not "
                f"representative of the timed rounds (one batch of {base.batch_size}, profiler overhead included).")
    needed = share / (1 / point - (1 - share)) if 1 / point > 1 - share else math.inf
    needed_text = f"k ≥ {needed:.1f}" if math.isfinite(needed) else "more than infinitely fast Linear layers"
    return (f"Measured: {fmt_route(f, best)}, {over:.0%} above the prediction — the ISA ratio understates this "
            f"CPU's int8 Linear speed-up: explaining {point:.2f}× needs {needed_text}.")


def small_workload(cpu: CpuProfile, f: Facts) -> Advice | None:
    """Per-call overheads (dynamic activation quantization, kernel dispatch) dominate small GEMMs."""
    sweep = f.doc.get("sweep")
    if sweep and sweep.get("cells"):
        losing = [c for c in sweep["cells"] if c["speedup"] is not None and c["speedup"] < 1.0]
        if not losing:
            return None
        worst = min(losing, key=lambda c: c["speedup"])
        best = max((c for c in sweep["cells"] if c["speedup"] is not None), key=lambda c: c["speedup"])
        evidence = (f"Crossover sweep of {sweep['route']} vs fp32: int8 loses in {len(losing)} of "
                    f"{len(sweep['cells'])} cells, worst {worst['speedup']:.2f}× at batch {worst['batch_size']} × "
                    f"{worst['seq_len']} tokens; best {best['speedup']:.2f}× at batch {best['batch_size']} × "
                    f"{best['seq_len']} tokens.")
        gain = best["speedup"] / worst["speedup"]
        return Advice("small-workload", severity_for(gain), "int8 loses on small batches or short texts",
                      evidence, "Batch requests (larger batch size) before encoding, or keep fp32 for "
                      "single short queries and int8 for bulk encoding.",
                      f"Up to {gain:.1f}× between the worst and best measured cells.", None, gain, MEASURED, "cause")
    wl = f.doc.get("workload", {})
    tokens, batch = wl.get("mean_tokens"), wl.get("batch_size")
    best = _best(f.torch_int8())
    if not tokens or not batch or not best or batch * tokens >= 256 or best["speedup"]["point"] >= 1.2:
        return None
    target, basis = isa_estimate(cpu, f)
    gain = max(target, 1.0) / best["speedup"]["point"]
    return Advice("small-workload", severity_for(gain), "The workload is small: per-call overheads dominate",
                  f"Each batch is {batch} texts × {tokens:.0f} tokens on average ({batch * tokens:.0f} token rows "
                  f"per GEMM), far from the large GEMMs where int8 kernels reach their ISA ratio; best torch int8 "
                  f"route: {fmt_route(f, best)}.",
                  "Measure with larger batches (qtui bench --batch-size 32) or run the crossover sweep "
                  "(qtui bench --sweep) to see where int8 starts to win.",
                  f"On large batches about {max(target, 1.0):.2f}× of fp32 ({gain:.2f}× over now); not measured in "
                  f"this run.", None, gain, basis + " (reached on large batches)", "cause")


def threads(cpu: CpuProfile, f: Facts) -> Advice | None:
    used = f.doc.get("env", {}).get("threads")
    physical, logical = cpu.physical_cores, cpu.logical_cpus
    if not used or not physical:
        return None
    if used > physical:
        gain = used / physical
        return Advice("threads", severity_for(gain), f"{used} threads on {physical} physical cores",
                      f"The run used {used} threads; this CPU has {physical} physical cores ({logical} logical). "
                      f"GEMM kernels gain little from SMT siblings, and with more threads than cores each parallel "
                      f"region waits for its descheduled threads — dynamic int8 has several per Linear layer "
                      f"(quantize the activation, GEMM, dequantize).",
                      f"torch.set_num_threads({physical}) (and intra_op_num_threads / INFERENCE_NUM_THREADS for "
                      f"ORT / OpenVINO).", f"Up to {gain:.1f}× (each thread gets 1/{gain:.1f} of a core now); "
                      f"measure with --threads {physical}.", None, gain,
                      f"estimated from the oversubscription ratio {used}/{physical}", "cause")
    if used < physical:
        if _threads_swept_beyond(f, used):
            return None  # thread-scaling says what more threads measured here; no estimate beside it
        gain = physical / used
        return Advice("threads", severity_for(gain), f"Only {used} of {physical} cores used",
                      f"The run used {used} threads on a CPU with {physical} physical cores.",
                      f"Use torch.set_num_threads({physical}) for throughput, or keep {used} if other work "
                      f"shares the machine.", f"Up to {gain:.1f}× for large batches; not measured.",
                      None, gain, f"estimated from the idle cores: {physical}/{used} at perfect scaling", "gain")
    return None


def _threads_swept_beyond(f: Facts, used: int) -> bool:
    sweep = f.doc.get("threads_sweep") or {}
    return bool(sweep.get("available")) and any(p["threads"] > used for p in sweep.get("points", []))


def thread_scaling(cpu: CpuProfile, f: Facts) -> Advice | None:
    """--threads-sweep measured each thread count: a count conclusively faster than the run's, or where adding
    threads stops paying. About the int8 route when it was swept (the user's question), else fp32."""
    from tui.core import thread_sweep as ts

    sweep = f.doc.get("threads_sweep")
    if not sweep or not sweep.get("available"):
        return None
    scaling = {s["route"]: s for s in sweep.get("scaling", [])}
    focus = scaling.get(sweep.get("route")) or scaling.get(sweep.get("baseline"))
    if focus is None:
        return None
    rid, best, k = focus["route"], focus["best_threads"], focus["stops_paying_after"]
    medians = ts.medians(sweep, rid)
    used = f.doc.get("env", {}).get("threads")
    evidence = "; ".join(ts.conclusions(sweep)) + "."
    if trend := ts.speedup_trend(sweep):
        evidence += f" {sweep['route']}'s paired speedup over fp32: {trend}."
    how = (f"torch.set_num_threads({best}); intra_op_num_threads / INFERENCE_NUM_THREADS for ONNX Runtime / "
           "OpenVINO")
    if used in medians and ts.conclusively_above(sweep, rid, best, used):
        gain = medians[best] / medians[used]
        title = (f"More threads make {rid} slower: {ts.threads_text(best)} beat the run's {used}" if best < used
                 else f"{rid} runs faster with {ts.threads_text(best)} than with the run's {used}")
        return Advice("thread-scaling", severity_for(gain), title, evidence,
                      f"Run {rid} with {ts.threads_text(best)} ({how}).",
                      f"{gain:.2f}× the throughput ({medians[best]:.0f} vs {medians[used]:.0f} sent/s).",
                      None, gain, MEASURED, "gain")
    if k is None:
        return None  # still gains at the largest count measured
    if (f.doc.get("processes") or {}).get("available"):
        return None  # --pattern processes measured what this would estimate (process_split)
    top = max(medians)  # the most threads measured
    processes = top // k
    estimate = processes * medians[k] / medians[top]
    title = f"Adding threads stops paying after {k} for {rid}"
    if processes < 2 or estimate < 1.05:
        return Advice("thread-scaling", "info", title, evidence,
                      f"{ts.threads_text(k)} give {rid} as much as {top}: keep the other cores for other work.",
                      f"The same throughput with {top - k} cores fewer.", None, 1.0, MEASURED, "context")
    return Advice("thread-scaling", severity_for(estimate), title, evidence,
                  f"Serve {rid} from {processes} worker processes of {ts.threads_text(k)} each instead of one "
                  f"with {top}.",
                  f"Up to {estimate:.2f}× the total throughput ({processes} × {medians[k]:.0f} sent/s against "
                  f"{medians[top]:.0f}); an upper bound, as processes share memory bandwidth.", None, estimate,
                  f"estimated from the thread sweep: {processes} processes × the throughput at {ts.threads_text(k)}, "
                  "assuming they do not contend", "gain")


def process_split(cpu: CpuProfile, f: Facts) -> Advice | None:
    """--pattern processes measured a split or an OpenVINO setting conclusively faster than one process with all
    the threads: run bulk work that way."""
    from tui.core import processes as pr

    proc = f.doc.get("processes") or {}
    rec = proc.get("recommendation") or {}
    gain = rec.get("gain")
    if not gain or gain["verdict"] != "faster":
        return None
    count, threads = rec["split"]
    settings = {"throughput": " Compile with PERFORMANCE_HINT THROUGHPUT and keep OPTIMAL_NUMBER_OF_INFER_REQUESTS "
                              "requests in flight (openvino.AsyncInferQueue).",
                "unpinned": " Compile with ENABLE_CPU_PINNING set to False in every process."}
    fix = (f"Run {rec['route']} as {pr.split_words(count, threads)} each (torch.set_num_threads({threads}); "
           f"intra_op_num_threads / INFERENCE_NUM_THREADS = {threads})." if count > 1 else
           f"Run {rec['route']} in one process with {threads} threads.") + settings.get(rec.get("variant") or "", "")
    return Advice("process-split", severity_for(gain["point"]),
                  f"{rec['route']} gives more bulk throughput as {pr.split_words(count, threads)}"
                  f"{pr.setting_words(rec.get('variant'))}",
                  "; ".join(pr.conclusions(proc)) + ".", fix,
                  f"{rec['why']}.", None, gain["point"],
                  MEASURED, "gain")


def openvino_pinning(cpu: CpuProfile, f: Facts) -> Advice | None:
    """The multi-process trap: OpenVINO pins its threads to cores by default, and processes started side by side
    pin to the same ones; measured when a split's unpinned variant beat the pinned default in the same rounds."""
    from tui.core import processes as pr

    proc = f.doc.get("processes") or {}
    found = [(p, gid, d) for p in proc.get("points", []) for gid, d in p.get("variants", {}).items()
             if d["kind"] == "unpinned" and (d.get("vs_route") or {}).get("verdict") == "faster"]
    if not found:
        return None
    p, gid, d = max(found, key=lambda x: x[2]["vs_route"]["point"])
    vs, split = d["vs_route"], pr.split_words(p["processes"], p["threads"])
    medians = {r["id"]: r["throughput"]["median"] for r in p["routes"] if r.get("throughput")}
    pinned, unpinned = medians[d["of"]], medians[gid]
    return Advice("openvino-pinning", severity_for(vs["point"]),
                  f"OpenVINO pins every process's threads to the same cores: {d['of']} as {split} ran "
                  f"{vs['point']:.2f}× faster with pinning off",
                  f"As {split}, {d['of']} with OpenVINO's default CPU pinning: {pinned:.0f} sent/s; with "
                  f"ENABLE_CPU_PINNING off, in the same rounds: {unpinned:.0f} sent/s ({vs['point']:.2f}× "
                  f"[{vs['ci95'][0]:.2f}–{vs['ci95'][1]:.2f}]).",
                  "In every worker process: core.compile_model(model, \"CPU\", {\"ENABLE_CPU_PINNING\": False}), "
                  "or serve from one process with all the threads.",
                  f"{vs['point']:.2f}× the throughput of the pinned processes.", None, vs["point"], MEASURED, "cause")


def _baseline_drift(f: Facts) -> str | None:
    """The baseline's drift reason, recomputed from its samples when the report has them."""
    base = f.ok("torch-fp32")
    samples = (base.get("throughput") or {}).get("samples") if base else None
    if samples and len(samples) >= 6:
        from tui.core import stats

        try:
            drift = stats.noise(samples, drift_limit=DRIFT_LIMIT)
        except ValueError:
            return None
        moved = [r for r in drift.reasons if "moved" in r]
        return f"fp32's throughput {moved[0]}" if moved else None
    noise = f.doc.get("baseline_noise") or {}
    moved = [r for r in noise.get("reasons", []) if "moved" in r] if noise.get("flagged") else []
    return f"fp32's round times: {moved[0]}" if moved else None


def noisy(cpu: CpuProfile, f: Facts) -> Advice | None:
    """Only when noise changes a conclusion: an open verdict, a recommendation that could flip, a drifting base."""
    reasons = []
    open_verdicts = [r for r in f.measured() if r["speedup"]["verdict"] == "inconclusive" and _half_width(r) > CI_WIDE]
    if open_verdicts:
        reasons.append("verdicts left open by wide CIs: " + ", ".join(f"{r['id']} {fmt_speedup(r)}"
                                                                     for r in open_verdicts[:3]))
    rec = f.ok(f.doc.get("recommendation", {}).get("route") or "")
    if rec and rec.get("speedup"):
        rivals = [r for r in f.measured() if r["id"] != rec["id"] and r["speedup"]["verdict"] == "faster"
                  and f.accurate(r) and r["speedup"]["ci95"][1] is not None and rec["speedup"]["ci95"][0] is not None
                  and r["speedup"]["ci95"][1] >= rec["speedup"]["ci95"][0]]
        if rivals:
            reasons.append(f"the recommendation could flip: {rec['id']} {fmt_speedup(rec)} overlaps "
                           + ", ".join(f"{r['id']} {fmt_speedup(r)}" for r in rivals[:2]))
    drift = _baseline_drift(f)
    if drift:
        reasons.append(drift)
    if not reasons:
        return None
    return Advice("noisy", "medium" if open_verdicts or drift else "low",
                  "The measurements are too noisy for a conclusion", "; ".join(reasons) + ".",
                  "Close other programs, avoid a shared or throttled machine, and give the run more time "
                  "(--time-budget, --rounds).", "Narrower CIs: the open verdicts decided, the ranking settled.",
                  None, 1.0, MEASURED, "trust")


# A layer that alone spends this share of the accuracy budget (1 − min cosine) is a culprit, not noise.
CULPRIT_SHARE = 0.25


def activation_outliers(cpu: CpuProfile, f: Facts) -> Advice | None:
    """int8 below the threshold, and the layer evidence shows which layers' outlier channels cost it."""
    missed = [r for r in f.int8() if r.get("accuracy") and not f.cosine_ok(r)]
    evidence_doc = f.doc.get("layers") or {}
    layers = [LayerEvidence.from_json(d) for d in evidence_doc.get("layers") or []]
    if not missed or not layers:
        return None
    budget = 1 - f.min_cosine
    culprits = [e for e in layers if e.outlier and e.cosine_loss >= CULPRIT_SHARE * budget]
    if not culprits:
        return None
    culprits.sort(key=lambda e: -e.cosine_loss)
    best_missed = _best(missed)
    named = "; ".join(f"{e.name}: max |x| {e.max_abs:.1f} = {e.channel_ratio:.0f}× the median channel "
                      f"({e.outlier_channels} outlier channel{'s' if e.outlier_channels != 1 else ''}; "
                      f"{e.ratio:.1f}× its 99.9th percentile), cosine −{e.cosine_loss:.4f} when int8 alone"
                      for e in culprits[:5])
    more = f" (and {len(culprits) - 5} more)" if len(culprits) > 5 else ""
    evidence = (f"{best_missed['id']} has mean cosine {f.cosine(best_missed['id']):.4f} < {f.min_cosine}. Quantizing "
                f"each of the {len(layers)} Linear layers alone on {evidence_doc.get('texts', '?')} "
                f"{evidence_doc.get('source', 'texts')} ({evidence_doc.get('scheme', 'int8')}): {len(culprits)} "
                f"layer{'s' if len(culprits) != 1 else ''} with outlier input channels each cost at least "
                f"{CULPRIT_SHARE:.0%} of the {budget:.3f} cosine budget — {named}{more}. One per-tensor "
                "activation scale is set by those channels and leaves the other values a few int8 steps.")
    lost = sum(e.cosine_loss for e in culprits)
    mixes = [r for r in f.measured() if r["id"].endswith("-mixed") and r.get("accuracy")]
    mix = _best([r for r in mixes if f.accurate(r)]) or _best(mixes)
    if mix:
        facts = mix.get("facts") or {}
        effect = (f"{mix['id']}, keeping {facts.get('kept', '?')} of {facts.get('linear_layers', '?')} Linear "
                  f"layers in {facts.get('kept_dtype') or 'fp32'} (the most sensitive first): mean cosine "
                  f"{f.cosine(mix['id']):.4f} on the measured texts at {fmt_speedup(mix)}.")
        others = [r for r in mixes if r is not mix]
        if others:
            effect += " Also measured: " + "; ".join(
                f"{r['id']} keeping {(r.get('facts') or {}).get('kept', '?')}: cosine {f.cosine(r['id']):.4f} at "
                f"{fmt_speedup(r)}" for r in others) + "."
        basis = MEASURED
    else:
        effect = (f"Their losses, measured one layer at a time, add up to {lost:.4f} of mean cosine; no mixed route "
                  "was measured in this run (torch dynamic int8, ort-qint8 and openvino-int8 get one when they miss, "
                  "unless --no-rescue).")
        basis = "estimated from each layer's loss measured alone, summed"
    return Advice("activation-outliers", "high", f"Outlier channels in {len(culprits)} layer"
                  f"{'s' if len(culprits) != 1 else ''} break int8 accuracy", evidence,
                  "Keep those layers in fp32 (or bf16) and quantize the rest, or smooth the outliers into the "
                  "weights before quantizing (SmoothQuant).", effect,
                  f.recipe(mix["id"]) if mix else None, 1.0, basis, "caveat")


def accuracy_per_tensor(cpu: CpuProfile, f: Facts) -> Advice | None:
    offenders = [r for r in f.torch_int8() if r.get("granularity") == "per-tensor" and r.get("accuracy")
                 and not f.cosine_ok(r)]
    if not offenders:
        return None
    r = max(offenders, key=lambda x: x["speedup"]["point"])
    twin = f.routes.get(r["id"] + "-perchannel")
    evidence = (f"{r['id']} (per-tensor weight scales) has mean cosine {f.cosine(r['id']):.4f} to fp32, below "
                f"{f.min_cosine}.")
    if twin and twin.get("accuracy"):
        evidence += f" Its per-channel twin has {f.cosine(twin['id']):.4f}"
        evidence += f" at {fmt_speedup(twin)}." if twin.get("speedup") else "."
        effect, basis = f"Mean cosine {f.cosine(r['id']):.4f} → {f.cosine(twin['id']):.4f}.", MEASURED
    else:
        effect, basis = "Not measured in this run: add the -perchannel route to --routes.", "not measured"
    return Advice("accuracy-per-tensor", "medium", "Per-tensor int8 costs accuracy", evidence,
                  "Quantize weights per output channel: qconfig_spec={nn.Linear: per_channel_dynamic_qconfig}.",
                  effect, f.recipe(r["id"] + "-perchannel"), 1.0, basis, "caveat")


def bf16_better(cpu: CpuProfile, f: Facts) -> Advice | None:
    bf16 = f.ok("torch-bf16")
    if not bf16 or not bf16.get("speedup") or bf16["speedup"]["verdict"] != "faster" or not f.accurate(bf16):
        return None
    int8 = [r for r in f.int8() if f.accurate(r)]
    best = _best(int8)
    if best and best["speedup"]["point"] >= bf16["speedup"]["point"]:
        return None
    gain = bf16["speedup"]["point"] / best["speedup"]["point"] if best else bf16["speedup"]["point"]
    return Advice("bf16-better", severity_for(gain), "bf16 beats int8 here",
                  f"{fmt_route(f, bf16)} at mean cosine {f.cosine('torch-bf16'):.4f}; " +
                  (f"the best accurate int8 route, {best['id']}, ran at {fmt_speedup(best)}." if best else
                   f"no int8 route {gate.gate_text(f.doc)}."),
                  "Run the model in bfloat16 (this CPU has bf16 hardware) instead of int8.",
                  f"{gain:.2f}× over the best accurate int8 route." if best else f"{gain:.2f}× over fp32.",
                  f.recipe("torch-bf16"), gain, MEASURED, "gain")


def better_backend(cpu: CpuProfile, f: Facts) -> Advice | None:
    rec = f.doc.get("recommendation", {}).get("route")
    chosen = f.ok(rec) if rec else None
    if chosen and changes_model(chosen):  # a length cap or static model: beyond-int8 speaks for it
        chosen = frontier.int8_pick(f.doc)
    if not chosen or chosen.get("backend") == "torch" or not chosen.get("speedup"):
        return None
    # Against what a torch user would run instead: the fastest torch route of any kind (accurate or not, so the
    # gain is never overstated), or fp32 if none is faster.
    torch_best = _best(f.torch_routes())
    gain = chosen["speedup"]["point"] / max(torch_best["speedup"]["point"] if torch_best else 1.0, 1.0)
    if gain < 1.05:
        return None
    evidence = f"{fmt_route(f, chosen)}, {f.accuracy(chosen)}"
    evidence += (f"; the fastest torch route, {torch_best['id']}, ran at {fmt_speedup(torch_best)}"
                 + (f" at cosine {f.cosine(torch_best['id']):.4f}." if f.cosine(torch_best['id']) is not None
                    else ".") if torch_best else ".")
    return Advice("better-backend", severity_for(gain), f"{chosen['backend']} is the faster int8 runtime here",
                  evidence, f"Serve the model with {chosen['backend']} ({chosen['id']}).",
                  f"{gain:.2f}× over the fastest torch route.", f.recipe(chosen["id"]), gain, MEASURED, "gain")


def peer_as_fast(cpu: CpuProfile, f: Facts) -> Advice | None:
    """The fastest peer that passes the gate is not conclusively slower than qtui's pick: a qtui export gains
    nothing measurable over running that peer as its project documents it."""
    peers = f.doc.get("peers") or {}
    best = next((p for p in peers.get("routes", []) if p["id"] == peers.get("best")), None)
    peer, pick = f.ok(peers.get("best")), f.ok(peers.get("pick"))
    if not best or peers.get("export_advised") or not peer or not pick or not best.get("pick_vs"):
        return None
    vs = best["pick_vs"]
    lo, hi = vs["ci95"]
    versions = ", ".join(f"{k} {v}" for k, v in (best.get("versions") or {}).items())
    gain = 1 / vs["point"]  # the peer over the pick: about 1, or more
    return Advice("peer-as-fast", severity_for(gain), f"{peer['id']} (a peer) is as fast as qtui's pick here",
                  f"{fmt_route(f, peer)}, {f.accuracy(peer)}" + (f" ({versions})" if versions else "")
                  + f"; {fmt_route(f, pick) if pick.get('speedup') else pick['id'] + ' is the baseline'}. "
                  f"{pick['id']} over {peer['id']}, paired over the rounds both ran, "
                  f"same texts and threads: {vs['point']:.2f}× (95 % CI {lo:.2f}–{hi:.2f}), not conclusively faster.",
                  f"Run {peer['id']} as its project documents it (the recipe) instead of exporting {pick['id']}.",
                  f"{gain:.2f}× of {pick['id']}'s speed, without a qtui export.", f.recipe(peer["id"]), gain,
                  MEASURED, "gain")


def beyond_int8(cpu: CpuProfile, f: Facts) -> Advice | None:
    """The budget allows a length-capped or static route that is conclusively faster than the best int8 route:
    both numbers, and the paired ratio between them."""
    front = f.doc.get("frontier") or {}
    pick, int8 = f.ok((f.doc.get("recommendation") or {}).get("route")), f.ok(front.get("int8_pick"))
    vs = (front.get("vs_int8") or {}).get(pick["id"]) if pick and int8 and changes_model(pick) else None
    if not vs or vs["verdict"] != "faster":
        return None
    lo, hi = vs["ci95"]
    cut = (pick.get("facts") or {}).get("texts_cut")
    what = (f"cuts its inputs at {pick['max_seq_length']} tokens ({cut} of the {f.doc['workload']['texts']} measured "
            "texts were longer)"
            if pick.get("max_seq_length") else "is a static model distilled from yours (no transformer at inference)")
    return Advice("beyond-int8", severity_for(vs["point"]),
                  f"the budget allows {pick['id']}, faster than the best int8 route",
                  f"{fmt_route(f, pick)}, {f.accuracy(pick)}; it {what}. The best int8 route: {fmt_route(f, int8)}, "
                  f"{f.accuracy(int8)}. {pick['id']} over {int8['id']}, paired over the rounds both ran: "
                  f"{vs['point']:.2f}× (95 % CI {lo:.2f}–{hi:.2f}).",
                  f"Run {pick['id']} if its kept share is acceptable for your texts (qtui export {pick['id']}); "
                  f"a smaller --max-task-loss keeps {int8['id']}.",
                  f"{vs['point']:.2f}× over {int8['id']}.", f.recipe(pick["id"]), vs["point"], MEASURED, "gain")


def static_weighed(cpu: CpuProfile, f: Facts) -> Advice | None:
    """A static route that the budget rules out (by how much), or that no task judged: so the user knows the
    option was weighed and what it would take."""
    static = [r for r in f.measured() if r.get("own_space")]
    if not static or (f.doc.get("recommendation") or {}).get("route") in {r["id"] for r in static}:
        return None
    r = _best(static)
    if not gate.by_task(f.doc):
        return Advice("static-unjudged", "info", f"{r['id']} was measured for speed only",
                      f"{fmt_route(f, r)}; its vectors live in a space of their own, so the cosine to fp32 says "
                      "nothing about it, and this run had no task to judge it.",
                      f"Add --task stsb (or --task your pairs or retrieval set) to see what {r['id']} keeps.",
                      "unjudged: never recommended without a task score.", None, 1.0, MEASURED, "context")
    need = frontier.needs_budget(r)
    if need is None:
        return None
    budget = gate.max_task_loss(f.doc)
    return Advice("static-weighed", "info", f"{r['id']} is {r['speedup']['point']:.0f}× faster but loses more "
                  "than the budget", f"{fmt_route(f, r)}, {f.accuracy(r)}: it passes only with --max-task-loss ≥ "
                  f"{need:g} (the budget is {budget:g} %, {need - budget:.1f} points short).",
                  f"If that loss is acceptable for your use, rerun with --max-task-loss {math.ceil(need)}.",
                  f"weighed and ruled out by the budget ({need:g} % needed, {budget:g} % allowed).", None, 1.0,
                  MEASURED, "context")


def fp32_fast_path(cpu: CpuProfile, f: Facts) -> Advice | None:
    int8 = f.int8()
    if not int8 or any(r["speedup"]["verdict"] == "faster" for r in int8):
        return None
    best = _best(int8)
    why = (" Apple silicon's fp32 matmuls run on the Accelerate framework's matrix units, which torch's int8 "
           "kernels do not use." if cpu.is_apple else " fp32 GEMMs already run on tuned MKL/oneDNN kernels.")
    gain = 1 / best["speedup"]["point"] if best["speedup"]["point"] < 1 else 1.0
    return Advice("fp32-fast-path", "info", "fp32 is already the fast path here",
                  f"No int8 route was conclusively faster than fp32; the best was {fmt_route(f, best)}." + why,
                  "Keep fp32 on this machine (or try the routes not measured in this run).",
                  f"Keeping fp32 is {gain:.2f}× the best int8 route." if gain > 1 else
                  "No speedup is available from int8 here, per these measurements.", None, gain, MEASURED,
                  "cause" if cpu.is_apple else "context")


def _invariance(r: dict | None) -> BatchInvariance | None:
    return BatchInvariance.from_json(r["batch_invariance"]) if r and r.get("batch_invariance") else None


def batch_dependence(cpu: CpuProfile, f: Facts) -> Advice | None:
    """Dynamic int8 scales activations per batch: a text's vector then depends on its neighbours."""
    floor = _invariance(f.ok(f.doc.get("baseline", "torch-fp32")))
    checked = [(r, inv) for r in f.int8() if (inv := _invariance(r)) is not None]
    moving = sorted(((r, inv) for r, inv in checked if above_floor(inv, floor)), key=lambda x: x[1].worst)
    if not moving:
        return None
    rec = f.doc.get("recommendation", {}).get("route")
    r, inv = next(((r, inv) for r, inv in moving if r["id"] == rec), moving[0])
    evidence = (f"{r['id']}: the same text encoded alone and in its batch of {inv.batch_size} has cosine "
                f"{inv.alone_mean:.4f} on average, {inv.alone_worst:.4f} at worst ({inv.texts_alone} texts); in "
                f"batches with other neighbours, {inv.order_mean:.4f} and {inv.order_worst:.4f}.")
    evidence += (f" fp32's, the noise floor: {floor.worst:.6f} at worst." if floor else "")
    others = [f"{o['id']} {oi.worst:.4f}" for o, oi in moving if o is not r]
    if others:
        evidence += " Also above the floor (worst cosine): " + ", ".join(others) + "."
    evidence += (" The accuracy column compares each route with fp32 in the same batches, so it does not show "
                 "this: an index built in batches and queried one text at a time disagrees with itself.")
    steady = _best([o for o, oi in checked if not above_floor(oi, floor) and f.accurate(o)])
    if steady:
        worst = _invariance(steady).worst
        effect = (f"{steady['id']} keeps a text's vector whatever its batch (worst cosine {worst:.6f}) at "
                  f"{fmt_speedup(steady)}.")
    else:
        effect = ("Static int8 fixes activation scales at calibration; not measured in this run: add --routes "
                  "openvino-int8,ort-qdq-int8.")
    severity = "high" if r["id"] == rec and inv.worst < f.min_cosine else "medium" if r["id"] == rec else "low"
    return Advice("batch-dependence", severity, f"{r['id']}: a text's vector depends on the batch it is in",
                  evidence, "Use static int8 (activation scales fixed at calibration), or encode documents and "
                  "queries the same way (one text per call) when you must keep dynamic int8.", effect,
                  f.recipe(steady["id"]) if steady else None, 1.0, MEASURED, "caveat")


def _kernel_findings(cpu: CpuProfile, f: Facts, kind: str) -> list:
    simulated = bool(f.doc.get("env", {}).get("simulated_isa"))
    return [k for r in f.routes.values() for k in route_findings(r, cpu.features, simulated) if k.kind == kind]


def _kernel_basis(found: list) -> str:
    return MEASURED if all(k.observed for k in found) else "inferred from the CPU features the library dispatches on"


def int8_weaker_isa(cpu: CpuProfile, f: Facts) -> Advice | None:
    """int8 GEMMs that ran on a weaker ISA than this CPU offers (a library capped, or a build without the path)."""
    found = _kernel_findings(cpu, f, "weaker-isa")
    if not found:
        return None
    routes = ", ".join(dict.fromkeys(k.route for k in found))
    return Advice("int8-weaker-isa", "medium", f"int8 ran on a weaker ISA than this CPU has ({routes})",
                  "; ".join(k.text for k in found) + ".",
                  "Check ONEDNN_MAX_CPU_ISA, DNNL_MAX_CPU_ISA, FBGEMM_ENABLE_INSTRUCTIONS and ATEN_CPU_CAPABILITY in "
                  "the environment, and that the runtime's build has kernels for this CPU (a newer release often "
                  "adds them).", "Not measured: the same GEMMs on this CPU's best int8 path.", None, 1.0,
                  _kernel_basis(found), "cause")


def int8_ran_fp32(cpu: CpuProfile, f: Facts) -> Advice | None:
    """A route labelled int8 whose captured batch ran no int8 GEMM at all."""
    found = _kernel_findings(cpu, f, "stayed-fp32")
    if not found:
        return None
    return Advice("int8-ran-fp32", "high", "A route labelled int8 ran its GEMMs in fp32",
                  "; ".join(k.text for k in found) + ".",
                  "The quantization did not reach the GEMMs: check that the quantized modules replaced the Linear "
                  "layers (torch), that the quantized ops are in the graph (ORT), or the precision hints (OpenVINO).",
                  "Not measured: its int8 speed-up, once the GEMMs are int8.", None, 1.0, _kernel_basis(found), "cause")


def fp32_ran_bf16(cpu: CpuProfile, f: Facts) -> Advice | None:
    """A route labelled fp32 that computed in bf16: its speed and accuracy are bf16's, not fp32's."""
    found = _kernel_findings(cpu, f, "ran-bf16")
    if not found:
        return None
    return Advice("fp32-ran-bf16", "medium", "A route labelled fp32 ran in bf16", "; ".join(k.text for k in found)
                  + ".", "Pin the precision (OpenVINO: INFERENCE_PRECISION_HINT=f32; torch: keep the model in "
                  "float32 and autocast off) before comparing it as fp32.",
                  "Its speed and accuracy are bf16's, not fp32's.", None, 1.0, _kernel_basis(found), "caveat")


def simulation_ignored(cpu: CpuProfile, f: Facts) -> Advice | None:
    """--simulate-isa: routes whose int8 GEMMs ran above the simulated ISA say nothing about the simulated CPU."""
    found = _kernel_findings(cpu, f, "not-simulated")
    if not found:
        return None
    routes = ", ".join(dict.fromkeys(k.route for k in found))
    return Advice("simulation-ignored", "medium", f"The ISA simulation did not reach {routes}",
                  "; ".join(k.text for k in found) + ".",
                  "Read these routes' speed-ups as this machine's, not the simulated server's; measure them on a "
                  "real CPU of that kind.", "Their speed-ups overstate the simulated CPU's.", None, 1.0,
                  _kernel_basis(found), "trust")


def task_vs_cosine(cpu: CpuProfile, f: Facts) -> Advice | None:
    """With a task, where the cosine gate and the task's budget disagree about a conclusively faster route: the
    cosine passes but the task loses more than the budget, or the cosine fails but the task keeps enough (the
    faster route the cosine gate alone would have thrown away)."""
    if not gate.by_task(f.doc):
        return None
    # A static route has no cosine to fp32 to disagree with (its vectors live in another space).
    faster = [r for r in f.measured() if r["speedup"]["verdict"] == "faster" and gate.kept(r)
              and not r.get("own_space")]
    kept_despite = [r for r in faster if not f.cosine_ok(r) and f.accurate(r)]
    lost_despite = [r for r in faster if f.cosine_ok(r) and not f.accurate(r)]
    if not kept_despite and not lost_despite:
        return None
    budget, cosine = gate.gate_text(f.doc), f"mean cosine ≥ {f.min_cosine}"
    if kept_despite:
        best = _best(kept_despite)
        by_cosine = _best([r for r in faster if f.cosine_ok(r)])
        gain = best["speedup"]["point"] / max(by_cosine["speedup"]["point"] if by_cosine else 1.0, 1.0)
        evidence = (f"{fmt_route(f, best)} with mean cosine {f.cosine(best['id']):.4f} < {f.min_cosine}, yet it "
                    f"{gate.kept_text(best, f.doc)}.")
        evidence += (f" The fastest route the cosine gate accepts, {by_cosine['id']}, ran at {fmt_speedup(by_cosine)}."
                     if by_cosine else " No faster route passes the cosine gate.")
        return Advice("task-vs-cosine", severity_for(gain), "The task keeps a route the cosine gate would reject",
                      evidence, f"Judge by the task (it is the budget you set: {budget}); {best['id']} is within it.",
                      f"{gain:.2f}× over the cosine gate's pick.", f.recipe(best["id"]), gain, MEASURED, "gain")
    worst = min(lost_despite, key=lambda r: gate.kept(r)["point"])
    others = [r["id"] for r in lost_despite if r is not worst]
    evidence = (f"{worst['id']} has mean cosine {f.cosine(worst['id']):.4f} ≥ {f.min_cosine}, yet it "
                f"{gate.kept_text(worst, f.doc)}: more than the budget ({budget}) is lost on the task."
                + (f" Also: {', '.join(others)}." if others else ""))
    fix = f"Do not judge by {cosine} alone for this task; the recommendation uses the task budget."
    mix = _mix_of(worst["id"])
    if mix and mix not in {r["id"] for r in f.doc.get("routes", [])}:
        # A mix is only started by a cosine miss: the task scores come after the rounds that could have built it.
        fix += (f" To keep its speed within the budget, run again with --routes torch-fp32,{mix} and the same "
                f"--task: the rescue then tunes that mix against the task.")
    return Advice("task-vs-cosine", "high", "Cosine to fp32 passes, the task score does not", evidence, fix,
                  "The task loss is measured on the task's own pairs or queries, with a paired 95 % CI.", None, 1.0,
                  MEASURED, "caveat")


def _mix_of(route_id: str) -> str | None:
    """The rescue route that mixes `route_id` (its layers kept out of int8), if it has one."""
    from tui.core.routes import ROUTES

    spec = ROUTES.get(route_id)
    return spec.mix if spec is not None and spec.mix and spec.mix != route_id else None


# Also the last tie-break: of two items with the same group, gain and basis, the earlier rule's comes first.
RULES: tuple[Callable[[CpuProfile, Facts], Advice | None], ...] = (
    noisy, engine_mismatch, no_avx2, no_int8_dot, threads, thread_scaling, process_split, openvino_pinning,
    small_workload, activation_outliers,
    accuracy_per_tensor, task_vs_cosine, better_backend, peer_as_fast, beyond_int8, static_weighed, bf16_better,
    unquantized_share, batch_dependence,
    fp32_fast_path, int8_ran_fp32, int8_weaker_isa, fp32_ran_bf16, simulation_ignored,
)


def _rank_key(found: Finding):
    groups = GROUPS[found.kind]

    def key(a: Advice) -> tuple:
        group = next(i for i, kinds in enumerate(groups) if a.kind in kinds)
        if a.kind == "caveat":  # accuracy caveats gain no speed: the one naming the cause (most severe) first
            return group, SEVERITY_ORDER.get(a.severity, 9), a.basis != MEASURED
        # A measured effect is a fact about this machine; an estimate is a model's (often upper) bound.
        # Equal gains (accuracy caveats have none): the more severe first, then rule order.
        return group, a.basis != MEASURED, -round(a.gain, 3), SEVERITY_ORDER.get(a.severity, 9)

    return key


def explain(cpu: CpuProfile, doc: dict) -> Diagnosis:
    """The finding, and all the advice the evidence supports, ranked for the finding's question."""
    facts = Facts(doc)
    found = finding(facts)
    items = [a for rule in RULES if (a := rule(cpu, facts)) is not None]
    return Diagnosis(found, tuple(sorted(items, key=_rank_key(found))))


def diagnose(cpu: CpuProfile, doc: dict) -> list[Advice]:
    """The ranked advice alone (see `explain` for the finding it answers)."""
    return list(explain(cpu, doc).advice)
