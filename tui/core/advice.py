"""Diagnosis: rules that turn a report (and the CPU it ran on) into ranked advice.

Every rule fires only on evidence — a number measured in the report or a fact read from the CPU — and
quotes that evidence. Rules read the `qtui.report/1` document (a dict), so the same code explains a
report saved on another machine (`qtui explain`). Ranked by expected gain, then severity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tui.core.cpu import CpuProfile
from tui.core.engines import int8_capability, recommend
from tui.core.profile import OpProfile, amdahl_bound
from tui.core.recipes import recipe_for

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "info": 3}


@dataclass(frozen=True)
class Advice:
    code: str
    severity: str  # "high" | "medium" | "low" | "info"
    title: str
    evidence: str
    fix: str
    effect: str  # the expected effect of the fix, and whether it was measured
    recipe: str | None = None
    gain: float = 1.0  # expected speedup factor of applying the fix (1.0: none / unknown)

    def to_json(self) -> dict:
        return {"code": self.code, "severity": self.severity, "title": self.title, "evidence": self.evidence,
                "fix": self.fix, "effect": self.effect, "recipe": self.recipe, "gain": round(self.gain, 3)}


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
        return recipe_for(route_id, self.model, self.doc.get("env", {}).get("threads") or 1)

    def ok(self, rid: str) -> dict | None:
        r = self.routes.get(rid)
        return r if r and r.get("status") == "ok" else None

    def measured(self) -> list[dict]:
        """Routes with a speedup against fp32."""
        return [r for r in self.routes.values() if r.get("status") == "ok" and r.get("speedup")]

    def throughput(self, rid: str) -> float | None:
        r = self.ok(rid)
        return r["throughput"]["median"] if r and r.get("throughput") else None

    def cosine(self, rid: str) -> float | None:
        r = self.routes.get(rid)
        return r["accuracy"]["cosine_mean"] if r and r.get("accuracy") else None

    def accurate(self, r: dict) -> bool:
        return bool(r.get("accuracy")) and r["accuracy"]["cosine_mean"] >= self.min_cosine

    def torch_int8(self) -> list[dict]:
        return [r for r in self.measured() if r["id"].startswith("torch-qint8-")]


def fmt_speedup(r: dict) -> str:
    s = r["speedup"]
    lo, hi = s["ci95"]
    ci = f", 95 % CI {lo:.2f}–{hi:.2f}" if lo is not None else ""
    return f"{s['point']:.2f}×{ci}"


def fmt_route(f: Facts, r: dict) -> str:
    s, tp = r["speedup"], f.throughput(r["id"])
    lo, hi = s["ci95"]
    details = ([f"95 % CI {lo:.2f}–{hi:.2f}"] if lo is not None else []) + ([f"{tp:.0f} sent/s"] if tp else [])
    return f"{r['id']} ran at {s['point']:.2f}× of fp32" + (f" ({'; '.join(details)})" if details else "")


def _best(routes: list[dict]) -> dict | None:
    return max(routes, key=lambda r: r["speedup"]["point"]) if routes else None


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
        effect = (f"{gain:.1f}× faster than with qnnpack (measured here: {best_peer['id']} vs {worst['id']}).")
    else:
        gain = 1.0 / worst["speedup"]["point"]
        effect = "At least back to fp32 speed; an x86 engine was not measured in this run."
    evidence += (" qnnpack is PyTorch's ARM engine: on x86 its int8 GEMMs are 128-bit SSE2 micro-kernels, "
                 f"while this CPU's best int8 path is {int8_capability(cpu).instruction}.")
    return Advice("engine-mismatch", severity_for(gain), "qnnpack is the wrong quantized engine on x86", evidence,
                  f"Set torch.backends.quantized.engine = '{engine}' before quantize_dynamic (weights are packed "
                  f"for the engine active at quantization time).", effect,
                  f.recipe(f"torch-qint8-{engine}" + ("-perchannel" if worst.get("granularity") == "per-channel"
                                                        else "")), gain)


def no_int8_dot(cpu: CpuProfile, f: Facts) -> Advice | None:
    cap = int8_capability(cpu)
    if cpu.is_x86 and not cpu.has("avx2"):
        return None  # no-avx2 says it
    if cap.ratio >= 4 or not f.torch_int8():
        return None
    best = _best(f.torch_int8())
    dot = "AVX-512 VNNI / AVX-VNNI / AMX" if cpu.is_x86 else "dotprod (SDOT) / i8mm (SMMLA)"
    evidence = (f"This CPU has no int8 dot-product instruction ({dot} absent); its best int8 path is "
                f"{cap.instruction}: {cap.why}. Best torch int8 route measured: {fmt_route(f, best)}.")
    return Advice("no-int8-dot", "medium", "No int8 dot-product instructions on this CPU", evidence,
                  f"Expect at most about {cap.ratio:.0f}× from the int8 kernels here; a CPU with {dot} runs them "
                  f"about 4× the fp32 rate (x86: Cascade Lake / Ice Lake / Sapphire Rapids, AMD Zen 4+; "
                  f"ARM: Neoverse N1+).",
                  "Not measurable on this machine: it is a property of the hardware.", None, 1.0)


def no_avx2(cpu: CpuProfile, f: Facts) -> Advice | None:
    if not cpu.is_x86 or cpu.has("avx2") or not f.torch_int8():
        return None
    best = _best(f.torch_int8())
    return Advice("no-avx2", "high", "No AVX2: FBGEMM's int8 kernels cannot run", f"This CPU lacks AVX2 "
                  f"(features: {' '.join(cpu.sorted_features()) or 'none read'}); FBGEMM, behind the x86 and "
                  f"fbgemm engines, needs it. Best torch int8 route measured: {fmt_route(f, best)}.",
                  "Use the onednn engine, or keep fp32 on this CPU.",
                  "int8 kernels here are no wider than fp32; fp32 is likely the fastest route.",
                  f.recipe("torch-qint8-onednn"), 1.0)


def unquantized_share(cpu: CpuProfile, f: Facts) -> Advice | None:
    """Amdahl: dynamic quantization speeds up only the Linear layers."""
    base = f.ok("torch-fp32")
    if not base or not base.get("profile"):
        return None
    profile = OpProfile.from_json(base["profile"])
    share = profile.linear_share
    if share <= 0:
        return None
    k = int8_capability(cpu).ratio
    bound = amdahl_bound(share, k)
    rest = sorted(((c, ms) for c, ms in profile.ms.items() if c not in ("dense Linear", "quantized Linear")),
                  key=lambda x: -x[1])
    rest_text = ", ".join(f"{c} {ms / profile.total_ms:.0%}" for c, ms in rest[:3] if ms > 0)
    best = _best(f.torch_int8())
    evidence = (f"Profiling one batch of {profile.batch_size} in fp32: Linear layers take {share:.0%} of the time; "
                f"the rest ({rest_text}) stays fp32 under dynamic quantization. With this ISA's int8:fp32 ratio "
                f"k≈{k:.0f}, Amdahl's bound is 1/((1−{share:.2f}) + {share:.2f}/{k:.0f}) = {bound:.2f}×.")
    if best:
        evidence += f" Measured: {fmt_route(f, best)} ({best['speedup']['point'] / bound:.0%} of the bound)."
        if best.get("profile"):
            q = OpProfile.from_json(best["profile"])
            qd = q.share("quantize/dequantize")
            if qd > 0.02:
                evidence += f" Quantize/dequantize ops take {qd:.0%} of its time."
    # Runtimes that quantize or fuse more than the Linear layers: the measured alternative, if any.
    whole_graph = _best([r for r in f.measured() if r["id"] in ("openvino-int8", "ort-qint8") and f.accurate(r)])
    if best is None and whole_graph is None:
        return None
    gain = whole_graph["speedup"]["point"] / best["speedup"]["point"] if whole_graph and best else 1.0
    if whole_graph is None:
        effect = "Not measured in this run: add --routes ort-qint8,openvino-int8."
    elif gain > 1:
        effect = f"Measured here: {fmt_route(f, whole_graph)}, {gain:.2f}× the best torch int8 route."
    else:
        effect = f"Measured here: {fmt_route(f, whole_graph)} — no better than torch's on this CPU."
    return Advice("unquantized-share", severity_for(gain) if gain > 1 else "info",
                  f"Only {share:.0%} of the time is in layers int8 speeds up", evidence,
                  "Quantize or fuse more of the graph: ONNX Runtime after its transformer optimizer (fused "
                  "attention, LayerNorm, GELU) or static int8 with OpenVINO + nncf (attention matmuls too).", effect,
                  f.recipe(whole_graph["id"] if whole_graph else "ort-qint8"), gain)


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
                      f"Up to {gain:.1f}× between the worst and best measured cells.", None, gain)
    wl = f.doc.get("workload", {})
    tokens, batch = wl.get("mean_tokens"), wl.get("batch_size")
    best = _best(f.torch_int8())
    if not tokens or not batch or not best or batch * tokens >= 256 or best["speedup"]["point"] >= 1.2:
        return None
    return Advice("small-workload", "medium", "The workload is small: per-call overheads dominate",
                  f"Each batch is {batch} texts × {tokens:.0f} tokens on average ({batch * tokens:.0f} token rows "
                  f"per GEMM); best torch int8 route: {fmt_route(f, best)}.",
                  "Measure with larger batches (qtui bench --batch-size 32) or run the crossover sweep "
                  "(qtui bench --sweep) to see where int8 starts to win.", "Not measured in this run.", None, 1.0)


def threads(cpu: CpuProfile, f: Facts) -> Advice | None:
    used = f.doc.get("env", {}).get("threads")
    physical, logical = cpu.physical_cores, cpu.logical_cpus
    if not used or not physical:
        return None
    if used > physical:
        return Advice("threads", "medium", f"{used} threads on {physical} physical cores",
                      f"The run used {used} threads; this CPU has {physical} physical cores ({logical} logical). "
                      f"GEMM kernels gain little from SMT siblings and oversubscription makes threads wait.",
                      f"torch.set_num_threads({physical}) (and intra_op_num_threads / INFERENCE_NUM_THREADS for "
                      f"ORT / OpenVINO).", "Usually faster and steadier; measure with --threads "
                      f"{physical}.", None, 1.0)
    if used < physical:
        return Advice("threads", "low", f"Only {used} of {physical} cores used",
                      f"The run used {used} threads on a CPU with {physical} physical cores.",
                      f"Use torch.set_num_threads({physical}) for throughput, or keep {used} if other work "
                      f"shares the machine.", f"Up to {physical / used:.1f}× for large batches; not measured.",
                      None, 1.0)
    return None


def noisy(cpu: CpuProfile, f: Facts) -> Advice | None:
    noise = f.doc.get("baseline_noise") or {}
    wide = [r for r in f.measured() if r["speedup"]["ci95"][0] is not None and r["speedup"]["ci95"][1]
            / max(r["speedup"]["ci95"][0], 1e-9) > 1.1025]  # wider than ±5 %
    if not noise.get("flagged") and not wide:
        return None
    parts = list(noise.get("reasons", [])) if noise.get("flagged") else []
    if wide:
        parts.append("CIs wider than ±5 %: " + ", ".join(f"{r['id']} {fmt_speedup(r)}" for r in wide[:3]))
    return Advice("noisy", "low", "The measurements are noisy", "; ".join(parts) + ".",
                  "Close other programs, avoid a shared or throttled machine, and give the run more time "
                  "(--time-budget, --rounds).", "Narrower CIs and fewer inconclusive verdicts.", None, 1.0)


def accuracy_per_tensor(cpu: CpuProfile, f: Facts) -> Advice | None:
    offenders = [r for r in f.torch_int8() if r.get("granularity") == "per-tensor" and r.get("accuracy")
                 and not f.accurate(r)]
    if not offenders:
        return None
    r = max(offenders, key=lambda x: x["speedup"]["point"])
    twin = f.routes.get(r["id"] + "-perchannel")
    evidence = (f"{r['id']} (per-tensor weight scales) has mean cosine {f.cosine(r['id']):.4f} to fp32, below "
                f"{f.min_cosine}.")
    if twin and twin.get("accuracy"):
        evidence += f" Its per-channel twin has {f.cosine(twin['id']):.4f}"
        evidence += f" at {fmt_speedup(twin)}." if twin.get("speedup") else "."
        effect = f"Mean cosine {f.cosine(r['id']):.4f} → {f.cosine(twin['id']):.4f} (measured here)."
    else:
        effect = "Not measured in this run: add the -perchannel route to --routes."
    return Advice("accuracy-per-tensor", "medium", "Per-tensor int8 costs accuracy", evidence,
                  "Quantize weights per output channel: qconfig_spec={nn.Linear: per_channel_dynamic_qconfig}.",
                  effect, f.recipe(r["id"] + "-perchannel"), 1.0)


def bf16_better(cpu: CpuProfile, f: Facts) -> Advice | None:
    bf16 = f.ok("torch-bf16")
    if not bf16 or not bf16.get("speedup") or bf16["speedup"]["verdict"] != "faster" or not f.accurate(bf16):
        return None
    int8 = [r for r in f.measured() if r["dtype"] in ("qint8", "int8") and f.accurate(r)]
    best = _best(int8)
    if best and best["speedup"]["point"] >= bf16["speedup"]["point"]:
        return None
    gain = bf16["speedup"]["point"] / best["speedup"]["point"] if best else bf16["speedup"]["point"]
    return Advice("bf16-better", severity_for(gain), "bf16 beats int8 here",
                  f"{fmt_route(f, bf16)} at mean cosine {f.cosine('torch-bf16'):.4f}; " +
                  (f"the best accurate int8 route, {best['id']}, ran at {fmt_speedup(best)}." if best else
                   f"no int8 route reached cosine {f.min_cosine}."),
                  "Run the model in bfloat16 (this CPU has bf16 hardware) instead of int8.",
                  f"{gain:.2f}× over the best accurate int8 route (measured here).", f.recipe("torch-bf16"),
                  gain)


def better_backend(cpu: CpuProfile, f: Facts) -> Advice | None:
    rec = f.doc.get("recommendation", {}).get("route")
    chosen = f.ok(rec) if rec else None
    if not chosen or chosen.get("backend") == "torch" or not chosen.get("speedup"):
        return None
    # Against what a torch user would run instead: the fastest torch int8 route, or fp32 if that is faster.
    torch_best = _best(f.torch_int8())
    gain = chosen["speedup"]["point"] / max(torch_best["speedup"]["point"] if torch_best else 1.0, 1.0)
    if gain < 1.05:
        return None
    evidence = f"{fmt_route(f, chosen)} at mean cosine {f.cosine(chosen['id']):.4f}"
    evidence += (f"; the best torch int8 route, {torch_best['id']}, ran at {fmt_speedup(torch_best)} at cosine "
                 f"{f.cosine(torch_best['id']):.4f}." if torch_best else ".")
    return Advice("better-backend", severity_for(gain), f"{chosen['backend']} is the faster int8 runtime here",
                  evidence, f"Serve the model with {chosen['backend']} ({chosen['id']}).",
                  f"{gain:.2f}× over the fastest torch route (measured here).", f.recipe(chosen["id"]),
                  gain)


def fp32_fast_path(cpu: CpuProfile, f: Facts) -> Advice | None:
    int8 = [r for r in f.measured() if r["dtype"] in ("qint8", "int8")]
    if not int8 or any(r["speedup"]["verdict"] == "faster" for r in int8):
        return None
    best = _best(int8)
    why = (" Apple silicon's fp32 matmuls run on the Accelerate framework's matrix units." if cpu.is_apple else
           " fp32 GEMMs already run on tuned MKL/oneDNN kernels.")
    return Advice("fp32-fast-path", "info", "fp32 is already the fast path here",
                  f"No int8 route was conclusively faster than fp32; the best was {fmt_route(f, best)}." + why,
                  "Keep fp32 on this machine (or try the routes not measured in this run).",
                  "No speedup is available from int8 here, per these measurements.", None, 1.0)


RULES: tuple[Callable[[CpuProfile, Facts], Advice | None], ...] = (
    engine_mismatch, no_int8_dot, no_avx2, unquantized_share, small_workload, threads, noisy,
    accuracy_per_tensor, bf16_better, better_backend, fp32_fast_path,
)


def diagnose(cpu: CpuProfile, doc: dict) -> list[Advice]:
    """All advice that the evidence supports, ranked by expected gain, then severity."""
    facts = Facts(doc)
    found = [a for rule in RULES if (a := rule(cpu, facts)) is not None]
    return sorted(found, key=lambda a: (-a.gain, SEVERITY_ORDER[a.severity], a.code))
