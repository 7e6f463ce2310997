"""What a run is asked to do (`Plan`) and what it found (`RouteResult` per route, `BenchResult`): plain data that the
coordinator, the passes and the report share, importable without the worker processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tui.core.cpu import CpuProfile
from tui.core.models import ModelRef
from tui.core.routes import RouteSpec
from tui.core.workload import Workload


@dataclass(frozen=True)
class Plan:
    model: ModelRef
    workload: Workload
    routes: tuple[str, ...]  # baseline first
    cpu: CpuProfile
    batch_size: int = 32
    threads: int = 2
    max_rounds: int = 30
    min_rounds: int = 5
    time_budget_s: float = 60.0  # for the measured rounds, after every route is prepared
    max_half_width: float = 0.05
    min_cosine: float = 0.99
    seed: int = 0
    worker_env: tuple[tuple[str, str], ...] = ()  # extra environment for workers (ISA simulation)
    cache_root: Path | None = None  # None: the platformdirs cache
    profile: bool = True  # profile one batch per torch route after the rounds (for the diagnosis)
    invariance: bool = True  # after the rounds: does a text's vector depend on its batch? (fp32 and int8 routes)
    layers: bool = True  # when int8 misses min_cosine: each Linear's input range and int8 sensitivity
    ceilings: bool = True  # measure (or read from the cache) the GEMM ceilings per dtype, for the roofline
    sweep_route: str | None = None  # crossover sweep of this route vs fp32 over batch size × tokens
    kernels: bool = True  # after the rounds, capture the kernels one batch of each route ran (core.kernels)
    sweep_cells: tuple[tuple[int, int], ...] = tuple((b, t) for b in (1, 8, 32) for t in (8, 32, 128))
    threads_sweep: tuple[int, ...] = ()  # --threads-sweep: fp32 and the int8 route at each of these thread counts
    threads_sweep_rounds: int = 5  # paired, alternated rounds per thread count
    task: object | None = None  # tasks.Task: after the rounds, every route's task score (--task)
    max_task_loss: float = 1.0  # with a task: the recommendation's budget, % of fp32's task score
    pattern: str = "bulk"  # how the model will be called: "bulk" (the rounds), "online" (+ single calls),
    # "processes" (+ the run's threads split over processes) or "all"
    latency_calls: int = 1000  # --pattern online: single-text calls per route, within time_budget_s
    process_splits: tuple[tuple[int, int], ...] = ()  # --pattern processes: (processes, threads) pairs to measure
    processes_rounds: int = 6  # paired, alternated rounds per split (even: each side starts half of them)


# --------------------------------------------------------------------------------------------- results


@dataclass
class RouteResult:
    spec: RouteSpec
    status: str = "pending"  # "ok" | "unavailable" | "failed" | "pending"
    why: str | None = None
    seconds: dict[int, float] = field(default_factory=dict)  # round index → wall seconds
    prepare_s: float | None = None
    size_mb: float | None = None
    peak_rss_mb: float | None = None
    threads: int | None = None
    accuracy: object | None = None
    speedup: object | None = None
    vs_best_fp32: object | None = None  # stats.Speedup over the fastest fp32 route (paired the same way)
    facts: dict = field(default_factory=dict)
    profile: dict | None = None  # profile.OpProfile.to_json() of one batch (torch routes)
    batch_invariance: dict | None = None  # invariance.BatchInvariance.to_json() (fp32 and int8 routes)
    kernels: dict | None = None  # the kernels one batch ran (core.kernels), captured after the rounds
    task: dict | None = None  # task_scores.RouteTaskScore.to_json() plus the pass's cache facts (--task)
    task_why: str | None = None  # why the route has no task score

    def throughput(self, texts: int) -> list[float]:
        return [texts / s for _, s in sorted(self.seconds.items())]


@dataclass
class BenchResult:
    plan: Plan
    routes: dict[str, RouteResult]
    created: str
    rounds: int = 0
    wall_s: float = 0.0
    stop_reason: str = ""
    noise_floor: object | None = None  # accuracy.Accuracy, fp32 vs fp32 in another batch order
    baseline_noise: object | None = None  # stats.Noise of the baseline's round times
    token_counts: list[int] = field(default_factory=list)  # per measured text, after truncation
    sweep: dict | None = None  # {"route", "cells": [{"batch_size", "seq_len", "speedup", ...}]}
    ceilings: dict | None = None  # core.ceilings.measure_ceilings() of this CPU, plus "cache": "hit" | "miss"
    best_fp32: str | None = None  # the fastest fp32 route measured: the fair fp32 to beat
    layers: dict | None = None  # {"scheme", "texts", "layers": [LayerEvidence.to_json()], "cache"}
    threads_sweep: dict | None = None  # the report's threads_sweep field (thread_sweep.document), if asked for
    task: object | None = None  # the tasks.Task the routes were scored on (the plan's, or its held-out half)
    task_pass_s: float | None = None  # the task pass's wall seconds (encoding or cache reads, then the bootstrap)
    # {"after_s", "rounds"} when the quick routes were measured first and the long builds joined later
    first_answer: dict | None = None
    processes: dict | None = None  # --pattern processes: the report's processes field (processes.document)
    latency: dict | None = None  # --pattern online: per-call milliseconds per route and round (passes/latency.py)

