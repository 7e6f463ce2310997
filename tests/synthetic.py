"""Builders of synthetic qtui.report/1 documents for rule and rendering tests (numbers chosen, not measured)."""

from tui.core.report import SCHEMA, recommend_route

ENGINES = ("qnnpack", "x86", "fbgemm", "onednn")


def route(rid, point=None, verdict=None, cosine=None, status="ok", ci=None, profile=None, base_tp=100.0, kept=None):
    """A route entry; backend/dtype/engine/granularity are derived from the id like qtui's registry does.
    `kept`: (point, lo, hi) of the share of fp32's task score it keeps, for reports with a task."""
    backend = {"ort": "onnxruntime", "openvino": "openvino", "torchao": "torchao"}.get(rid.split("-")[0], "torch")
    engine = next((e for e in ENGINES if f"-{e}" in rid), None)
    granularity = "per-channel" if rid.endswith("perchannel") or backend != "torch" else (
        "per-tensor" if engine else None)
    base, _, cap = rid.partition("@len")  # a length-capped route keeps its route's kind
    static = rid.startswith("static-")
    backend = "model2vec" if static else backend
    dtype = "static" if static else "fp32" if base.endswith("fp32") else "bf16" if base.endswith("bf16") else (
        "qint8" if "qint8" in base else "int8")
    if verdict is None and point is not None:
        lo, hi = ci or (point * 0.97, point * 1.03)  # as qtui decides: only a CI that excludes 1.0 has a direction
        verdict = "faster" if lo > 1 else "slower" if hi < 1 else "inconclusive"
    return {"id": rid, "backend": backend, "dtype": dtype, "engine": engine, "granularity": granularity,
            "status": status, "why": None if status == "ok" else "because",
            "own_space": static, "max_seq_length": int(cap) if cap else None,
            "throughput": {"median": base_tp * (point or 1), "samples": [base_tp]} if status == "ok" else None,
            "speedup": {"point": point, "ci95": ci or [point * 0.97, point * 1.03], "verdict": verdict}
            if point else None,
            "accuracy": {"cosine_mean": cosine, "cosine_min": cosine, "topk_overlap": 1.0, "spearman": 1.0}
            if cosine else None,
            "size_mb": 10.0, "peak_rss_mb": 500.0, "prepare_s": 1.0, "profile": profile,
            "task": {"score": 0.8 * kept[0], "ci95": [0.78 * kept[0], 0.82 * kept[0]], "metrics": {},
                     "kept": {"point": kept[0], "ci95": [kept[1], kept[2]]}} if kept else None}


STSB_TASK = {"name": "stsb", "kind": "pairs", "metric": "spearman", "n": 1379, "source": "STS-B test split",
             "split": "test"}


def fp32_profile(linear_ms=70.0, total_ms=100.0):
    other = total_ms - linear_ms
    return {"ms": {"dense Linear": linear_ms, "attention": other * 0.4, "GELU": other * 0.3, "LayerNorm": other * 0.2,
                   "other": other * 0.1}, "total_ms": total_ms, "batch_size": 32}


def int8_profile(linear_ms=25.0, quantize_ms=3.0, rest_ms=20.0):
    """A torch int8 route's profiled batch: quantized Linear, activation quantization, the fp32 rest."""
    return {"ms": {"quantized Linear": linear_ms, "quantize/dequantize": quantize_ms, "attention": rest_ms * 0.6,
                   "GELU": rest_ms * 0.25, "LayerNorm": rest_ms * 0.1, "other": rest_ms * 0.05},
            "total_ms": linear_ms + quantize_ms + rest_ms, "batch_size": 32}


def doc(routes, *, model="cpu A", threads=2, batch_size=32, mean_tokens=20.0, noise=None, sweep=None,
        min_cosine=0.99, cpu=None, threads_sweep=None, task=None, max_task_loss=None):
    """A report; `cpu` (a CpuProfile) is recorded in env.cpu as qtui bench records it."""
    d = {"schema": SCHEMA, "created": "2026-11-24T00:00:00+00:00", "wall_s": 10, "rounds": 10,
         "stop_reason": "converged",
         "env": {"cpu": cpu.to_json() if cpu else {"model": model, "arch": "x86_64", "features": ["avx2"],
                                                   "logical_cpus": 2},
                 "threads": threads, "torch": "2.13.0", "python": "3.11.7", "packages": {}},
         "workload": {"model": "m", "texts": 128, "batch_size": batch_size, "mean_tokens": mean_tokens},
         "baseline": "torch-fp32", "min_cosine": min_cosine, "routes": routes,
         "baseline_noise": noise, "advice": []}
    if task:
        d["task"], d["max_task_loss"] = task, max_task_loss
    if sweep:
        d["sweep"] = sweep
    if threads_sweep:
        d["threads_sweep"] = threads_sweep
    d["recommendation"] = recommend_route(routes, min_cosine, task=task, max_task_loss=max_task_loss)
    return d


BASE = route("torch-fp32")


def threads_sweep(curves, *, baseline="torch-fp32", route=None, rounds=5, spread=0.02, failed=None, texts=128):
    """A report's threads_sweep from chosen throughputs: curves = {route id: {threads: sent/s}}. Each count gets
    `rounds` samples spread ±`spread` around the chosen value (a fixed pattern, not random), through the same
    statistics qtui uses. `failed` = {(route id, threads): why} marks a count's route as failed."""
    from tui.core import thread_sweep

    pattern = [(i - (rounds - 1) / 2) / max(1, (rounds - 1) / 2) for i in range(rounds)]  # -1 … 1
    counts = sorted({t for curve in curves.values() for t in curve} | {t for _, t in (failed or {})})
    points = []
    for t in counts:
        measured = {}
        for shift, rid in enumerate([baseline] + ([route] if route else [])):
            if (rid, t) in (failed or {}):
                measured[rid] = {"status": "failed", "why": failed[(rid, t)]}
            elif t in curves.get(rid, {}):
                tp = curves[rid][t]
                rotated = pattern[shift:] + pattern[:shift]  # paired rounds disagree a little, as real ones do
                measured[rid] = {"status": "ok", "threads_used": t,
                                 "seconds": [texts / (tp * (1 + spread * x)) for x in rotated]}
        points.append(thread_sweep.point(t, measured, texts, baseline, route))
    return thread_sweep.document(baseline=baseline, route=route, route_why="chosen by the test", counts=tuple(counts),
                                 rounds=rounds, points=points)
