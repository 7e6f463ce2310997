"""The benchmark coordinator: one worker process per route, interleaved paired rounds, typed events.

Why processes: runtimes' thread pools spin after each call, and in one process torch, ONNX Runtime and
OpenVINO steal cores from each other (measured here: ORT int8 2.0× of torch fp32 in-process, 2.9× alone).
A worker per route also keeps the UI's GIL free, makes cancel instant (kill), and survives a crashing kernel.

Protocol (coordinator → worker): "prepare", "run", "stop". Worker → coordinator: ("loaded",),
("ready", info), ("unavailable", why), ("failed", why), ("time", seconds, peak_rss_mb).
Only one worker computes at a time; the others block in recv(), so they do not compete for cores.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import shutil
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tui.core.cpu import CpuProfile
from tui.core.events import (
    Event,
    RoundDone,
    RouteAdded,
    RouteFailed,
    RoutePhase,
    RouteReady,
    RunDone,
    RunStarted,
    SweepCell,
    ThreadsStep,
)
from tui.core.models import ModelRef
from tui.core.routes import BASELINE, ROUTES, RouteSpec, static_unavailability
from tui.core.workload import Workload

# ------------------------------------------------------------------------------------------------ plan


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


# ---------------------------------------------------------------------------------------------- worker

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
              "NUMEXPR_NUM_THREADS")


def _peak_rss_mb() -> float:
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3  # bytes on macOS, KiB on Linux


def _import_runtime(backend: str) -> None:
    import importlib

    modules = {"torch": ("torch", "sentence_transformers"), "torchao": ("torch", "sentence_transformers"),
               "onnxruntime": ("onnxruntime", "transformers"), "openvino": ("openvino", "transformers")}
    for name in modules.get(backend, ()):
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # prepare() reports the missing package as a reason


def _maybe_crash(route_id: str, phase: str) -> None:
    """Fault injection for the tests: QTUI_TEST_CRASH=<route id>:<phase> kills this worker with SIGKILL there."""
    if os.environ.get("QTUI_TEST_CRASH") == f"{route_id}:{phase}":
        os.kill(os.getpid(), signal.SIGKILL)


def _thread_lock_for_tqdm() -> None:
    """sentence-transformers' batch loop builds a tqdm even with the bar off, and tqdm's default lock is a
    multiprocessing RLock: a named semaphore registered with the coordinator's resource tracker. A worker
    killed on cancel, quit or Ctrl-C never unregisters it, and the tracker then prints "leaked semaphore
    objects" on the user's terminal after qtui exits. A worker is one process: a thread lock is enough."""
    import threading

    try:
        from tqdm import tqdm
    except ImportError:
        return
    tqdm.set_lock(threading.RLock())


def _worker_main(conn, spec: RouteSpec, setup: dict) -> None:
    """Runs in the spawned worker process."""
    # The coordinator owns stopping and kills us: Ctrl-C, and the SIGTERM/SIGHUP that `timeout`, systemd or a
    # dropped SSH session send to the whole process group, must not make a worker die first and be reported failed.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    log = os.open(setup["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)  # nothing a runtime prints may reach the user's terminal
    os.dup2(log, 2)
    _thread_lock_for_tqdm()
    for key in THREAD_ENV:
        os.environ[key] = str(setup["threads"])
    os.environ.update(dict(setup["env"]))
    try:
        from tui.core.models import quiet_transformers
        from tui.core.routes import PrepareContext, RouteUnavailable, prepare, silence_torch_ao_deprecation

        quiet_transformers()
        silence_torch_ao_deprecation()
        _import_runtime(spec.backend)  # while other workers prepare; imports are not part of prepare_s
        _maybe_crash(spec.id, "loaded")
        conn.send(("loaded",))
        if conn.recv() != ("prepare",):
            return
        ctx = PrepareContext(
            model_dir=Path(setup["model_dir"]), model_fingerprint=setup["model_fingerprint"],
            threads=setup["threads"], calibration=setup["calibration"],
            cache_root=Path(setup["cache_root"]) if setup["cache_root"] else None, scratch=Path(setup["scratch"]),
            layer_order=tuple(setup["layer_order"]), min_cosine=setup["min_cosine"],
        )
        texts, batch_size = setup["texts"], setup["batch_size"]
        start = time.perf_counter()
        try:
            runner = prepare(spec, ctx)
        except RouteUnavailable as exc:
            conn.send(("unavailable", str(exc)))
            return
        prepare_s = time.perf_counter() - start
        _maybe_crash(spec.id, "prepared")
        # The warm-up pass (kernels are built on first call) also yields the embeddings for accuracy.
        embeddings = runner.encode(texts, batch_size)
        info = {"prepare_s": prepare_s, "size_mb": runner.size_mb, "threads": runner.threads,
                "facts": dict(runner.facts), "embeddings": embeddings}
        if setup["noise_floor"]:
            # Another batch order changes padding and summation order: fp32's own numerical noise.
            reordered = runner.encode(texts[::-1], batch_size)[::-1]
            info["embeddings_reordered"] = reordered
            info["token_counts"] = _token_counts(ctx.model_dir, texts)
        conn.send(("ready", info))
        while True:
            command = conn.recv()
            if command == ("profile",):
                conn.send(("profile", _profile(runner, texts, batch_size)))
                continue
            if command == ("layers",):
                from tui.core.layers import layer_evidence

                found = layer_evidence(runner.model, setup["calibration"], batch_size)
                conn.send(("layers", [e.to_json() for e in found]))
                continue
            if command == ("invariance",):
                from tui.core.invariance import measure

                conn.send(("invariance", measure(runner, texts, embeddings, batch_size).to_json()))
                continue
            if command[0] == "kernels":
                from tui.core.routes import capture_kernels

                _maybe_crash(spec.id, "kernels")
                conn.send(("kernels", capture_kernels(spec, runner, texts, batch_size, *command[1:])))
                continue
            if command[0] == "ceilings":
                from tui.core.ceilings import measure_ceilings

                conn.send(("ceilings", measure_ceilings(setup["threads"], *command[1:])))
                continue
            if command[0] == "sweep":
                conn.send(("sweep", *_time_cell(runner, ctx.model_dir, *command[1:])))
                continue
            if command != ("run",):
                return
            _maybe_crash(spec.id, "run")
            _maybe_crash(spec.id, f"run-threads-{setup['threads']}")  # a thread sweep's worker only
            start = time.perf_counter()
            runner.encode(texts, batch_size)
            conn.send(("time", time.perf_counter() - start, _peak_rss_mb()))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return
    except BaseException as exc:  # any crash in a runtime: report it, the run goes on without this route
        traceback.print_exc()
        try:
            conn.send(("failed", f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]))
        except (OSError, BrokenPipeError):
            pass


def sweep_text(model_dir: Path, tokens: int) -> tuple[str, int]:
    """A text of about `tokens` tokens (special tokens included) and its exact token count."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    words = max(1, tokens - 2)
    text = " ".join(["the"] * words)
    return text, len(tokenizer(text)["input_ids"])


def _time_cell(runner, model_dir: Path, batch_size: int, tokens: int, min_seconds: float) -> tuple[float, int]:
    """Seconds per encode of `batch_size` texts of `tokens` tokens, repeated to at least `min_seconds`."""
    text, actual = sweep_text(model_dir, tokens)
    batch = [text] * batch_size
    runner.encode(batch, batch_size)  # warm-up: new shapes build new kernels
    calls, start = 0, time.perf_counter()
    while True:
        runner.encode(batch, batch_size)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / calls, actual


def _profile(runner, texts: list[str], batch_size: int) -> dict | None:
    """Op-category profile of one batch, for torch routes (others have no torch.profiler view)."""
    if not hasattr(runner, "model"):
        return None
    from tui.core.profile import profile_runner

    return profile_runner(runner, texts, batch_size).to_json()


def _token_counts(model_dir: Path, texts: list[str]) -> list[int]:
    from transformers import AutoTokenizer

    from tui.core.models import max_seq_length

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    ids = tokenizer(texts, truncation=True, max_length=max_seq_length(model_dir))["input_ids"]
    return [len(x) for x in ids]


class WorkerDied(Exception):
    pass


class Cancelled(Exception):
    pass


class Worker:
    """The coordinator's handle on one route's process."""

    def __init__(self, mpctx, spec: RouteSpec, setup: dict) -> None:
        self.spec = spec
        self.log_path = setup["log_path"]
        self.conn, child = mpctx.Pipe()
        self.process = mpctx.Process(target=_worker_main, args=(child, spec, setup), daemon=True,
                                     name=f"qtui-{spec.id}")
        self.process.start()
        child.close()

    def send(self, *message) -> None:
        try:
            self.conn.send(message)
        except (OSError, BrokenPipeError):
            raise WorkerDied(self.death_reason()) from None

    def receive(self, cancel: Callable[[], bool], timeout: float | None = None) -> tuple:
        """Wait for the next message, checking for cancel every 0.1 s (so cancel takes effect within 1 s)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if cancel():
                raise Cancelled()
            if self.conn.poll(0.1):
                try:
                    return self.conn.recv()
                except (EOFError, OSError):
                    raise WorkerDied(self.death_reason()) from None
            if not self.process.is_alive() and not self.conn.poll(0):
                raise WorkerDied(self.death_reason())
            if deadline is not None and time.monotonic() > deadline:
                raise WorkerDied(f"no answer within {timeout:.0f} s")

    def death_reason(self) -> str:
        self.process.join(timeout=1)
        code = self.process.exitcode
        if code is None:
            what = "stopped answering"
        elif code < 0:
            try:
                what = f"worker killed by {signal.Signals(-code).name}"
            except ValueError:
                what = f"worker killed by signal {-code}"
        else:
            what = f"worker exited with code {code}"
        last = _last_log_line(self.log_path)
        return f"{what}{f' — {last}' if last else ''}"

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self.conn.send(("stop",))
            except (OSError, BrokenPipeError):
                pass
            self.process.join(timeout=0.5)
        self.kill()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=2)
        self.conn.close()


def _last_log_line(path: str) -> str:
    try:
        lines = [line.strip() for line in Path(path).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


# ----------------------------------------------------------------------------------------- coordinator


def _start_resource_tracker() -> None:
    """multiprocessing's resource tracker inherits sys.stderr's descriptor; under a TUI that has replaced
    sys.stderr there is none, and spawning fails ("bad value(s) in fds_to_keep"). Give it /dev/null then."""
    import sys
    from multiprocessing import resource_tracker

    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        resource_tracker.ensure_running()
        return
    saved = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = saved


def _setup_for(plan: Plan, spec: RouteSpec, run_dir: Path) -> dict:
    return {
        "log_path": str(run_dir / f"{spec.id}.log"),
        "threads": plan.threads,
        "env": plan.worker_env,
        "model_dir": str(plan.model.path),
        "model_fingerprint": plan.model.fingerprint,
        "calibration": list(plan.workload.calibration),
        "cache_root": str(plan.cache_root) if plan.cache_root else None,
        "scratch": str(run_dir),
        "texts": list(plan.workload.texts),
        "batch_size": plan.batch_size,
        "noise_floor": spec.id == BASELINE,
        "min_cosine": plan.min_cosine,
        "layer_order": [],  # filled in for the rescue's routes, from the layer evidence
    }


def run(plan: Plan, emit: Callable[[Event], None], cancel: Callable[[], bool] = lambda: False) -> BenchResult:
    """Measure every route in `plan`; emits events as it goes and returns the result (also in RunDone)."""
    from tui.core import accuracy, stats

    started = time.monotonic()
    result = BenchResult(plan, {rid: RouteResult(ROUTES[rid]) for rid in plan.routes},
                         created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    emit(RunStarted(plan.routes, len(plan.workload.texts), plan.batch_size, plan.threads, plan.max_rounds,
                    plan.time_budget_s))
    workers: dict[str, Worker] = {}
    cancelled = False

    def fail(rid: str, status: str, why: str) -> None:
        r = result.routes[rid]
        r.status, r.why = status, why
        emit(RouteFailed(rid, status, why))
        if rid in workers:
            workers.pop(rid).kill()

    run_dir = Path(tempfile.mkdtemp(prefix="qtui-run-"))
    mpctx = mp.get_context("spawn")
    _start_resource_tracker()
    try:
        for rid in plan.routes:
            why = static_unavailability(ROUTES[rid], plan.cpu)
            if why:
                fail(rid, "unavailable", why)
        for rid in plan.routes:
            if result.routes[rid].status == "pending" and not ROUTES[rid].rescue:  # those need the layers first
                emit(RoutePhase(rid, "starting"))
                workers[rid] = Worker(mpctx, ROUTES[rid], _setup_for(plan, ROUTES[rid], run_dir))

        baseline_embeddings = _prepare_all(plan, workers, result, emit, cancel, fail)
        if result.routes[BASELINE].status != "ok":
            result.stop_reason = f"the fp32 baseline could not run ({result.routes[BASELINE].why})"
        else:
            _rescue(plan, workers, result, emit, cancel, fail, lambda spec, order: Worker(
                mpctx, spec, {**_setup_for(plan, spec, run_dir), "layer_order": order}), baseline_embeddings)
            _measure(plan, workers, result, emit, cancel, fail, stats)
            if plan.profile:
                _profile_all(workers, result, emit, cancel, fail)
            if plan.invariance:
                _invariance_all(workers, result, emit, cancel, fail)
            if plan.kernels:
                _kernels_all(plan, workers, result, emit, cancel, fail)
            if plan.ceilings and BASELINE in workers:
                result.ceilings = _ceilings(plan, workers[BASELINE], emit, cancel)
            if plan.sweep_route and plan.sweep_route in workers and BASELINE in workers:
                result.sweep = _sweep(plan, workers, emit, cancel, stats)
            if plan.threads_sweep:
                result.threads_sweep = _threads_sweep(plan, workers, result, mpctx, run_dir, emit, cancel, stats)
        del baseline_embeddings
    except Cancelled:
        cancelled = True
        result.stop_reason = "cancelled"
    finally:
        for worker in workers.values():
            worker.kill() if cancelled else worker.stop()  # a clean exit lets runtimes release their resources
        shutil.rmtree(run_dir, ignore_errors=True)  # worker logs (failure reasons are read by now), scratch artefacts
        for r in result.routes.values():
            if r.status == "pending":
                r.status, r.why = "failed", "cancelled before it finished"
        result.wall_s = time.monotonic() - started
        _finish_statistics(plan, result, stats, accuracy)
        if plan.threads_sweep and result.threads_sweep is None:
            result.threads_sweep = _threads_sweep_not_run(plan, result, cancelled)
    emit(RunDone(result, cancelled))
    return result


def _prepare_all(plan, workers, result, emit, cancel, fail, baseline=None):
    """Prepare routes one at a time (quantization timings stay honest), baseline first (or given)."""
    from tui.core import accuracy

    for rid in list(workers):
        worker = workers.get(rid)
        if worker is None:
            continue
        try:
            emit(RoutePhase(rid, "loading"))
            worker.receive(cancel)  # ("loaded",)
            emit(RoutePhase(rid, "preparing"))
            worker.send("prepare")
            message = worker.receive(cancel)
        except WorkerDied as exc:
            fail(rid, "failed", str(exc))
            continue
        kind = message[0]
        if kind in ("unavailable", "failed"):
            fail(rid, kind, message[1])
            continue
        info = message[1]
        r = result.routes[rid]
        r.status, r.prepare_s, r.size_mb = "ok", info["prepare_s"], info["size_mb"]
        r.threads, r.facts = info["threads"], info["facts"]
        if rid == BASELINE:
            baseline = info["embeddings"]
            result.noise_floor = accuracy.noise_floor(baseline, info["embeddings_reordered"])
            result.token_counts = info["token_counts"]
        elif baseline is not None:
            try:
                r.accuracy = accuracy.compare(baseline, info["embeddings"])
            except ValueError as exc:  # NaN/inf embeddings: the route is broken, the run goes on
                fail(rid, "failed", f"its embeddings are unusable ({exc})")
                continue
        emit(RouteReady(rid, r.prepare_s, r.size_mb, r.accuracy))
    return baseline


def _measure(plan, workers, result, emit, cancel, fail, stats) -> None:
    rng = random.Random(plan.seed)
    start = time.monotonic()
    for round_index in range(plan.max_rounds):
        order = [rid for rid in result.routes if rid in workers]
        rng.shuffle(order)
        for rid in order:
            emit(RoutePhase(rid, "measuring"))
            try:
                workers[rid].send("run")
                message = workers[rid].receive(cancel)
            except WorkerDied as exc:
                fail(rid, "failed", f"died during round {round_index + 1}: {exc}")
                continue
            if message[0] == "failed":
                fail(rid, "failed", message[1])
                continue
            r = result.routes[rid]
            r.seconds[round_index] = message[1]
            r.peak_rss_mb = message[2]
        if BASELINE not in workers:
            result.stop_reason = "the fp32 baseline failed during the run"
            result.rounds = round_index + 1
            return
        speedups = _speedups(result, stats)
        result.rounds = round_index + 1
        elapsed = time.monotonic() - start
        emit(RoundDone(result.rounds, plan.max_rounds, elapsed, plan.time_budget_s,
                       {rid: r.seconds[round_index] for rid, r in result.routes.items() if round_index in r.seconds},
                       speedups))
        if stats.converged(speedups.values(), rounds=result.rounds, min_rounds=plan.min_rounds,
                           max_half_width=plan.max_half_width):
            result.stop_reason = (f"converged: every 95 % CI within ±{plan.max_half_width:.0%} after "
                                  f"{result.rounds} rounds")
            return
        if elapsed >= plan.time_budget_s:
            result.stop_reason = (f"time budget of {plan.time_budget_s:.0f} s ended after {result.rounds} rounds"
                                  + ("" if all(s.half_width <= plan.max_half_width for s in speedups.values())
                                     else "; some CIs are wider than ±5 %"))
            return
    result.stop_reason = f"reached the maximum of {plan.max_rounds} rounds"


def _ask_each(workers, emit, cancel, fail, *, command: str, phase: str, doing: str,
              wanted: Callable[[str], bool], keep: Callable[[str, object], None]) -> None:
    """An untimed pass after the rounds: `command` to each wanted route's worker in turn; one that dies fails
    its route and the pass goes on."""
    for rid, worker in list(workers.items()):
        if not wanted(rid):
            continue
        emit(RoutePhase(rid, phase))
        try:
            worker.send(command)
            message = worker.receive(cancel)
        except WorkerDied as exc:
            fail(rid, "failed", f"died while {doing}: {exc}")
            continue
        if message[0] == command:
            keep(rid, message[1])


def _profile_all(workers, result, emit, cancel, fail) -> None:
    """After the timed rounds (so profiling never disturbs them): one profiled batch per torch route."""
    _ask_each(workers, emit, cancel, fail, command="profile", phase="profiling", doing="profiling",
              wanted=lambda rid: ROUTES[rid].backend == "torch",
              keep=lambda rid, profile: setattr(result.routes[rid], "profile", profile))


def _invariance_all(workers, result, emit, cancel, fail) -> None:
    """After the timed rounds: fp32 (the floor) and every int8 route encode some texts again, alone and with
    other neighbours, to show whether a text's vector depends on its batch."""
    _ask_each(workers, emit, cancel, fail, command="invariance", phase="rebatching",
              doing="re-encoding for batch invariance",
              wanted=lambda rid: rid == BASELINE or ROUTES[rid].dtype in ("qint8", "int8"),
              keep=lambda rid, found: setattr(result.routes[rid], "batch_invariance", found))


def _int8_missed(result: BenchResult, min_cosine: float) -> bool:
    return any(r.accuracy is not None and r.accuracy.cosine_mean < min_cosine and r.spec.dtype in ("qint8", "int8")
               for r in result.routes.values())


def _mixes_wanted(plan: Plan, result: BenchResult) -> dict[str, str]:
    """Rescue route id → why it is built: asked for, or every measured route with that mix missed the threshold
    (the routes name their mix: a torch engine's per-tensor and per-channel routes share one). Of torch's engines
    only the one recommended for this CPU gets a mix when it was measured (a mix of qnnpack on x86 is never the
    fastest)."""
    from tui.core.engines import recommend

    wanted = {rid: "asked for with --routes" for rid in plan.routes if ROUTES[rid].rescue}
    by_mix: dict[str, list] = {}
    for r in result.routes.values():
        if r.spec.mix and r.accuracy is not None:
            by_mix.setdefault(r.spec.mix, []).append(r)
    engine_mix = f"torch-qint8-{recommend(plan.cpu).engine}-mixed"
    if engine_mix in by_mix:
        by_mix = {mix: routes for mix, routes in by_mix.items()
                  if ROUTES[mix].backend != "torch" or mix == engine_mix}
    for mix, routes in by_mix.items():
        if all(r.accuracy.cosine_mean < plan.min_cosine for r in routes):
            best = max(routes, key=lambda r: r.accuracy.cosine_mean)
            wanted.setdefault(mix, f"{best.spec.id} has cosine {best.accuracy.cosine_mean:.4f} < {plan.min_cosine}")
    return wanted


def _rescue(plan, workers, result, emit, cancel, fail, start_worker, baseline_embeddings) -> None:
    """Preparation, before the rounds: when int8 misses the threshold, the layer evidence, then a mixed route
    per engine that missed — measured in the rounds like any other route."""
    asked = [rid for rid in plan.routes if ROUTES[rid].rescue]
    if not plan.layers:
        for rid in asked:
            if result.routes[rid].status == "pending":
                fail(rid, "unavailable", "--no-rescue: the layer pass and the search were skipped")
        return
    if not asked and not _int8_missed(result, plan.min_cosine):
        return
    result.layers = _layers(plan, workers[BASELINE], emit, cancel)
    wanted = _mixes_wanted(plan, result)
    order = [e["name"] for e in (result.layers or {}).get("layers", [])]
    for rid, why in wanted.items():
        if rid not in result.routes:
            result.routes[rid] = RouteResult(ROUTES[rid])
            emit(RouteAdded(rid, why))
        if result.routes[rid].status != "pending":
            continue
        if not order:
            fail(rid, "unavailable", "the layer evidence could not be measured, so there is nothing to mix from")
            continue
        reason = static_unavailability(ROUTES[rid], plan.cpu)
        if reason:
            fail(rid, "unavailable", reason)
            continue
        emit(RoutePhase(rid, "starting"))
        workers[rid] = start_worker(ROUTES[rid], order)
        _prepare_all(plan, {rid: workers[rid]}, result, emit, cancel, fail, baseline_embeddings)


def _layers(plan: Plan, worker: Worker, emit, cancel) -> dict | None:
    """Which Linear layers break int8: from the cache, else measured by the fp32 worker (preparation, before the
    rounds: the rescue's mixes are built from it)."""
    from tui.core import layers
    from tui.core.routes import runtime_versions
    from tui.core.workload import fingerprint

    texts = plan.workload.calibration
    if not texts:
        return None
    key = layers.layers_cache_key(plan.model.fingerprint, fingerprint(texts), runtime_versions().get("torch", ""))
    summary = {"scheme": layers.SCHEME, "texts": min(len(texts), layers.SENSITIVITY_TEXTS),
               "source": "calibration texts"}
    cached = layers.CACHE.load(plan.cache_root, key)
    if isinstance(cached, list):
        return {**summary, "layers": cached, "cache": "hit"}
    emit(RoutePhase(BASELINE, "inspecting"))
    start = time.monotonic()
    try:
        worker.send("layers")
        message = worker.receive(cancel, timeout=900)
    except WorkerDied:
        return None
    if message[0] != "layers":
        return None
    layers.CACHE.store(plan.cache_root, key, message[1])
    return {**summary, "layers": message[1], "cache": "miss", "seconds": round(time.monotonic() - start, 2)}


def _kernels_all(plan, workers, result, emit, cancel, fail) -> None:
    """After the timed rounds (verbose logs and profiles slow kernels down): the kernels one batch of each route
    ran. The workers get the host's real features: under --simulate-isa the plan's CPU is the simulated one, and
    what FBGEMM and MLAS pick is inferred from what they read from CPUID."""
    from tui.core.cpu import detect
    from tui.core.kernels import not_available

    host = sorted(detect().features)
    for rid, worker in list(workers.items()):
        emit(RoutePhase(rid, "kernels"))
        try:
            worker.send("kernels", host, bool(plan.worker_env))
            message = worker.receive(cancel, timeout=120)
        except WorkerDied as exc:  # the rounds were measured: the route keeps them, only the capture is lost
            result.routes[rid].kernels = not_available(f"the capture stopped its worker ({exc})")
            workers.pop(rid).kill()
            continue
        if message[0] == "kernels":
            result.routes[rid].kernels = message[1]


def _ceilings(plan: Plan, worker: Worker, emit, cancel) -> dict | None:
    """The CPU's GEMM ceilings per dtype: from the cache, else measured by the fp32 worker (torch is loaded
    there already) after the rounds, so calibration never disturbs them."""
    from tui.core import ceilings
    from tui.core.engines import recommend
    from tui.core.routes import runtime_versions

    engine = recommend(plan.cpu).engine
    key = ceilings.ceilings_cache_key(plan.cpu, plan.threads, engine, runtime_versions().get("torch", ""))
    cached = ceilings.load_cached(plan.cache_root, key)
    if cached is not None:
        return {**cached, "cache": "hit"}
    emit(RoutePhase(BASELINE, "calibrating"))
    try:
        worker.send("ceilings", engine, plan.cpu.has_bf16_hardware)
        message = worker.receive(cancel, timeout=120)
    except WorkerDied:
        return None
    if message[0] != "ceilings":
        return None
    ceilings.store(plan.cache_root, key, message[1])
    return {**message[1], "cache": "miss"}


def _sweep(plan, workers, emit, cancel, stats, rounds: int = 3, min_seconds: float = 0.15) -> dict | None:
    """fp32 vs one route over batch size × sequence length: paired, order alternating per round."""
    pair = (workers[BASELINE], workers[plan.sweep_route])
    cells = []
    emit(RoutePhase(plan.sweep_route, "sweeping"))
    for batch_size, tokens in plan.sweep_cells:
        times: dict[int, list[float]] = {0: [], 1: []}
        actual = tokens
        try:
            for r in range(rounds):
                for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                    pair[i].send("sweep", batch_size, tokens, min_seconds)
                    message = pair[i].receive(cancel)
                    if message[0] != "sweep":
                        return None
                    times[i].append(message[1])
                    actual = message[2]
        except WorkerDied:
            return None
        s = stats.speedup(times[0], times[1])
        cells.append({"batch_size": batch_size, "seq_len": actual, "speedup": round(s.point, 4),
                      "ci95": [round(x, 4) for x in s.ci95], "fp32_ms": round(1000 * min(times[0]), 3),
                      "route_ms": round(1000 * min(times[1]), 3)})
        emit(SweepCell(plan.sweep_route, batch_size, actual, s.point, len(cells), len(plan.sweep_cells)))
    return {"route": plan.sweep_route, "rounds": rounds, "cells": cells}


def _threads_sweep(plan, workers, result, mpctx, run_dir, emit, cancel, stats) -> dict:
    """fp32 and the recommended int8 route at each thread count, paired and alternated (see thread_sweep.py).
    Each count gets its own worker pair: ONNX Runtime and OpenVINO fix their thread pools when a session is
    created, and one mechanism for every runtime is simpler than set_num_threads for torch alone. The run's
    own workers serve the run's thread count; preparation goes through the artefact cache, so a pair is warm."""
    from tui.core import thread_sweep

    route, route_why = thread_sweep.pick_route(result.routes, _speedups(result, stats), plan.min_cosine)
    ids = [BASELINE] + ([route] if route else [])
    texts, total, points = len(plan.workload.texts), len(plan.threads_sweep), []
    for done, count in enumerate(plan.threads_sweep):
        emit(ThreadsStep(count, done, total, "preparing"))
        if count == plan.threads:
            pair, own = {rid: workers[rid] for rid in ids if rid in workers}, {}
            measured = {rid: {"status": "ok", "threads_used": result.routes[rid].threads, "seconds": []}
                        if rid in pair else {"status": result.routes[rid].status, "why": result.routes[rid].why}
                        for rid in ids}
        else:
            own = {rid: Worker(mpctx, ROUTES[rid], {**_setup_for(plan, ROUTES[rid], run_dir), "threads": count,
                                                    "log_path": str(run_dir / f"{rid}-threads-{count}.log"),
                                                    "noise_floor": False}) for rid in ids}
            pair = dict(own)
            measured = {}
        try:
            for rid in list(own):
                measured[rid] = _prepare_sweep_worker(own[rid], cancel)
                if measured[rid]["status"] != "ok":
                    pair.pop(rid)
            emit(ThreadsStep(count, done, total, "measuring"))
            _time_pair(pair, measured, plan.threads_sweep_rounds, cancel)
        except BaseException:
            for worker in own.values():
                worker.kill()
            raise
        for worker in own.values():
            worker.stop()
        points.append(thread_sweep.point(count, measured, texts, BASELINE, route))
        emit(ThreadsStep(count, done + 1, total, "done", points[-1]))
    return thread_sweep.document(baseline=BASELINE, route=route, route_why=route_why, counts=plan.threads_sweep,
                                 rounds=plan.threads_sweep_rounds, points=points)


def _prepare_sweep_worker(worker: Worker, cancel) -> dict:
    """Load and prepare one thread sweep worker: {"status": "ok", "threads_used", "seconds": []} or why not."""
    try:
        worker.receive(cancel)  # ("loaded",)
        worker.send("prepare")
        message = worker.receive(cancel)
    except WorkerDied as exc:
        return {"status": "failed", "why": str(exc)}
    if message[0] != "ready":
        return {"status": message[0], "why": message[1]}
    return {"status": "ok", "threads_used": message[1]["threads"], "seconds": []}


def _time_pair(pair: dict, measured: dict, rounds: int, cancel) -> None:
    """Rounds over the pair, the order alternating per round (fp32 first, then the route first, …); a worker that
    fails drops out with its reason and its times are discarded (they would pair with nothing)."""
    ids = list(pair)
    for r in range(rounds):
        for rid in (ids if r % 2 == 0 else ids[::-1]):
            if rid not in pair:
                continue
            try:
                pair[rid].send("run")
                message = pair[rid].receive(cancel)
            except WorkerDied as exc:
                message = ("failed", f"died in round {r + 1}: {exc}")
            if message[0] != "time":
                measured[rid].update(status="failed", why=message[1], seconds=[])
                pair.pop(rid)
                continue
            measured[rid]["seconds"].append(message[1])


def _threads_sweep_not_run(plan, result: BenchResult, cancelled: bool) -> dict:
    from tui.core import thread_sweep

    why = ("the run was cancelled before the thread sweep finished" if cancelled else
           f"the fp32 baseline could not run ({result.routes[BASELINE].why})")
    return thread_sweep.unavailable(plan.threads_sweep, why, BASELINE)


def _speedups(result: BenchResult, stats, reference: str = BASELINE) -> dict:
    """Paired speedups vs the reference route (the baseline by default) over the rounds both ran."""
    base = result.routes[reference].seconds
    out = {}
    for rid, r in result.routes.items():
        if rid == reference or r.status != "ok":
            continue
        rounds = sorted(set(base) & set(r.seconds))
        if rounds:
            out[rid] = stats.speedup([base[i] for i in rounds], [r.seconds[i] for i in rounds])
    return out


def _fastest_fp32(result: BenchResult) -> str | None:
    """The fp32 route with the best speedup over the baseline (the baseline itself counts as 1.0)."""
    fp32 = {rid: (1.0 if rid == BASELINE else r.speedup.point) for rid, r in result.routes.items()
            if r.spec.dtype == "fp32" and r.status == "ok" and r.seconds and (rid == BASELINE or r.speedup)}
    return max(fp32, key=fp32.get) if fp32 else None


def _finish_statistics(plan, result, stats, accuracy) -> None:
    for rid, s in _speedups(result, stats).items():
        result.routes[rid].speedup = s
    result.best_fp32 = _fastest_fp32(result)
    if result.best_fp32:
        for rid, s in _speedups(result, stats, result.best_fp32).items():
            result.routes[rid].vs_best_fp32 = s
    base = result.routes[BASELINE]
    if len(base.seconds) >= 1:
        result.baseline_noise = stats.noise([base.seconds[i] for i in sorted(base.seconds)])
