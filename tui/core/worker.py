"""A route's worker process and the coordinator's handle on it (`Worker`).

Protocol (coordinator → worker): "prepare", then any verb of `VERBS` ("run", "profile", "kernels", …), then
"stop". Worker → coordinator: ("loaded",), ("ready", info), ("unavailable", why), ("failed", why), then one answer
per verb (("time", seconds, peak_rss_mb) for "run", ("span", start, end) for "span", (verb, found) for the
others). Only one worker computes at a time (the processes of one split of --pattern processes, which run at
once by design); the others block in recv(), so they do not compete for cores.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui.core.routes import BASELINE, RouteSpec

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
               "onnxruntime": ("onnxruntime", "transformers"), "openvino": ("openvino", "transformers"),
               "model2vec": ("model2vec",)}
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


def _threads_if_preloaded(threads: int) -> None:
    """A worker forked with torch loaded read OMP_NUM_THREADS before we set it: tell torch directly."""
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def start_method(spec: RouteSpec, worker_env: dict) -> str:
    """Torch routes' workers fork from a server that imported torch and sentence-transformers once
    (`worker_preload`). The others spawn a fresh interpreter: they need neither on a warm cache, and their
    peak RSS must not count a torch they never use. A simulated ISA (worker_env) must be in the environment
    before torch loads, so those runs spawn every worker. A peer runs under the peers' own interpreter."""
    if spec.peer:
        return "peer"
    return "forkserver" if spec.backend in ("torch", "torchao") and not worker_env else "spawn"


def _context(method: str):
    ctx = mp.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(["tui.core.worker_preload"])  # before the server's first start only
    return ctx


_STARTING: set[threading.Thread] = set()  # the start threads still in Process.start()


def _kill_fork_server() -> None:
    import contextlib
    from multiprocessing import forkserver

    server = forkserver._forkserver  # multiprocessing keeps one per process; there is no public handle
    pid = getattr(server, "_forkserver_pid", None)
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # it ignores the stop signals, like the workers
    with contextlib.suppress(OSError):
        server._stop()  # reaps it and forgets its address


def stop_fork_server() -> None:
    """After a cancelled run. Cancelled while the server still imports torch, it would go on importing for
    seconds after qtui exits (holding the resource tracker with it) before it noticed: kill it. A start thread
    that was just entering Process.start() may start a new server meanwhile: wait for those threads (killing the
    server unblocks them) and kill again. The next run starts another server (multiprocessing does that)."""
    for _ in range(3):
        _kill_fork_server()
        for thread in list(_STARTING):
            thread.join(timeout=0.5)
        if not _STARTING:
            break
    _kill_fork_server()


def _worker_main(conn, spec: RouteSpec, setup: dict) -> None:
    """Runs in the worker process (spawned, or forked from the preloaded server)."""
    # The coordinator owns stopping and kills us: Ctrl-C, and the SIGTERM/SIGHUP that `timeout`, systemd or a
    # dropped SSH session send to the whole process group, must not make a worker die first and be reported failed.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    log = os.open(setup["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)  # nothing a runtime prints may reach the user's terminal
    os.dup2(log, 2)
    _thread_lock_for_tqdm()
    os.environ.clear()  # a forked worker has the fork server's environment: take the coordinator's of now
    os.environ.update(setup["environ"])
    for key in THREAD_ENV:
        os.environ[key] = str(setup["threads"])
    os.environ.update(dict(setup["env"]))
    _threads_if_preloaded(setup["threads"])
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
            model_name=setup["model_name"], threads=setup["threads"], calibration=setup["calibration"],
            cache_root=Path(setup["cache_root"]) if setup["cache_root"] else None, scratch=Path(setup["scratch"]),
            layer_order=tuple(setup["layer_order"]), min_cosine=setup["min_cosine"],
            task=setup["rescue_task"], min_task_kept=setup["min_task_kept"],
        )
        texts, batch_size = setup["texts"], setup["batch_size"]
        start = time.perf_counter()
        try:
            runner = prepare(spec, ctx)
            if setup.get("variant"):  # --pattern processes: OpenVINO's THROUGHPUT hint, or pinning off
                runner.use_variant(setup["variant"])
        except RouteUnavailable as exc:
            conn.send(("unavailable", str(exc)))
            return
        prepare_s = time.perf_counter() - start
        _maybe_crash(spec.id, "prepared")
        # The warm-up pass (kernels are built on first call) also yields the embeddings for accuracy.
        embeddings = runner.encode(texts, batch_size)
        info = {"prepare_s": prepare_s, "size_mb": runner.size_mb, "threads": runner.threads,
                "facts": dict(runner.facts), "embeddings": embeddings}
        if spec.max_seq_length:  # how many of the measured texts the cap cuts short
            info["facts"]["texts_cut"] = sum(n > spec.max_seq_length for n in _token_counts(ctx.model_dir, texts))
        if setup["noise_floor"]:
            # Another batch order changes padding and summation order: fp32's own numerical noise.
            reordered = runner.encode(texts[::-1], batch_size)[::-1]
            info["embeddings_reordered"] = reordered
            info["token_counts"] = _token_counts(ctx.model_dir, texts)
        conn.send(("ready", info))
        prepared = Prepared(spec, runner, setup, embeddings)
        while True:
            verb, *args = conn.recv()
            if verb not in VERBS:  # "stop"
                return
            _maybe_crash(spec.id, verb)
            conn.send(VERBS[verb](prepared, *args))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return
    except BaseException as exc:  # any crash in a runtime: report it, the run goes on without this route
        traceback.print_exc()
        try:
            conn.send(("failed", f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]))
        except (OSError, BrokenPipeError):
            pass


@dataclass(frozen=True)
class Prepared:
    """What a worker keeps between verbs once its route is prepared."""

    spec: RouteSpec
    runner: object
    setup: dict
    embeddings: object  # of the measured texts, from the warm-up pass

    @property
    def texts(self) -> list[str]:
        return self.setup["texts"]

    @property
    def batch_size(self) -> int:
        return self.setup["batch_size"]


def _run(w: Prepared) -> tuple:
    """One timed encode of the measured texts: a round."""
    _maybe_crash(w.spec.id, f"run-threads-{w.setup['threads']}")  # a thread sweep's worker only
    start = time.perf_counter()
    w.runner.encode(w.texts, w.batch_size)
    return "time", time.perf_counter() - start, _peak_rss_mb()


def _span(w: Prepared) -> tuple:
    """One encode of the measured texts, its start and end on the clock every process shares (CLOCK_MONOTONIC):
    a round of a split of --pattern processes, whose processes run at once."""
    start = time.monotonic()
    w.runner.encode(w.texts, w.batch_size)
    return "span", start, time.monotonic()


def _calls(w: Prepared, texts: list[str]) -> list[float]:
    """One call per text, batch 1, as a search box calls the model: each call's milliseconds."""
    times = []
    for text in texts:
        start = time.perf_counter()
        w.runner.encode([text], 1)
        times.append(1000 * (time.perf_counter() - start))
    return times


def _layers(w: Prepared) -> list[dict]:
    from tui.core.layers import layer_evidence

    return [e.to_json() for e in layer_evidence(w.runner.model, w.setup["calibration"], w.batch_size)]


def _invariance(w: Prepared) -> dict:
    from tui.core.invariance import measure

    return measure(w.runner, w.texts, w.embeddings, w.batch_size).to_json()


def _kernels(w: Prepared, host_features: list[str], simulated: bool) -> dict:
    from tui.core.routes import capture_kernels

    return capture_kernels(w.spec, w.runner, w.texts, w.batch_size, host_features, simulated)


def _ceilings(w: Prepared, engine: str, want_bf16: bool) -> dict:
    from tui.core.ceilings import measure_ceilings

    return measure_ceilings(w.setup["threads"], engine, want_bf16)


def _task_items(w: Prepared, task) -> list:
    from tui.core.task_scores import item_scores

    return item_scores(lambda batch: w.runner.encode(batch, w.batch_size), task)


# The worker's commands after "prepare": verb → its answer. A new pass that needs the worker adds one line here.
VERBS: dict[str, Callable[..., tuple]] = {
    "run": _run,
    "span": _span,
    "calls": lambda w, texts: ("calls", _calls(w, texts)),
    "profile": lambda w: ("profile", _profile(w.runner, w.texts, w.batch_size)),
    "layers": lambda w: ("layers", _layers(w)),
    "invariance": lambda w: ("invariance", _invariance(w)),
    "kernels": lambda w, *args: ("kernels", _kernels(w, *args)),
    "ceilings": lambda w, *args: ("ceilings", _ceilings(w, *args)),
    "task": lambda w, task: ("task", _task_items(w, task)),
    "sweep": lambda w, *args: ("sweep", *_time_cell(w.runner, Path(w.setup["model_dir"]), *args)),
}


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
    """The coordinator's handle on one route's process.

    Started from a thread: the first fork from the preloaded server waits for its imports (seconds), and the
    coordinator must keep polling cancel meanwhile. Until the start returns, the worker counts as alive."""

    def __init__(self, spec: RouteSpec, setup: dict) -> None:
        self.spec = spec
        self.log_path = setup["log_path"]
        method = start_method(spec, setup["env"])
        ctx = _context("spawn" if method == "peer" else method)
        if method == "forkserver":
            # Started here, not in the thread: a run cancelled from now on finds the server and can stop it.
            from multiprocessing import forkserver

            forkserver.ensure_running()
        self.conn, self._child = ctx.Pipe()
        if method == "peer":
            from tui.core.peer_process import PeerProcess

            self.process = PeerProcess(self._child, spec, setup)
        else:
            self.process = ctx.Process(target=_worker_main, args=(self._child, spec, setup), daemon=True,
                                       name=f"qtui-{spec.id}")
        self._start_error: str | None = None
        self._abandoned = False
        self._lock = threading.Lock()
        self._starting = threading.Thread(target=self._start, name=f"start-{spec.id}", daemon=True)
        _STARTING.add(self._starting)
        self._starting.start()

    def _start(self) -> None:
        try:
            self._launch()
        finally:
            _STARTING.discard(self._starting)

    def _launch(self) -> None:
        with self._lock:
            if self._abandoned:  # killed before the thread got here
                self._child.close()
                return
        try:
            self.process.start()
        except Exception as exc:  # e.g. the fork server could not start
            self._start_error = f"could not start the worker: {exc.__class__.__name__}: {exc}"
        finally:
            self._child.close()
        with self._lock:
            if self._abandoned and self._start_error is None:
                self.process.kill()  # killed while it was starting

    def _started(self) -> bool:
        return not self._starting.is_alive()

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
            if self._started() and not self.process.is_alive() and not self.conn.poll(0):
                raise WorkerDied(self.death_reason())
            if deadline is not None and time.monotonic() > deadline:
                raise WorkerDied(f"no answer within {timeout:.0f} s")

    def death_reason(self) -> str:
        if self._start_error:
            return self._start_error
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
        if self._started() and self.process.is_alive():
            try:
                self.conn.send(("stop",))
            except (OSError, BrokenPipeError):
                pass
            self.process.join(timeout=0.5)
        self.kill()

    def kill(self) -> None:
        with self._lock:
            if not self._started():
                self._abandoned = True  # the start kills it as soon as it exists
                self.conn.close()
                return
        if self._start_error is None:
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


def setup_for(plan, spec: RouteSpec, run_dir: Path) -> dict:
    """What a route's worker is started with (`plan` is a results.Plan); callers override single entries."""
    return {
        "log_path": str(run_dir / f"{spec.id}.log"),
        "environ": dict(os.environ),
        "threads": plan.threads,
        "env": plan.worker_env,
        "model_dir": str(plan.model.path),
        "model_fingerprint": plan.model.fingerprint,
        "model_name": plan.model.name,
        "calibration": list(plan.workload.calibration),
        "cache_root": str(plan.cache_root) if plan.cache_root else None,
        "scratch": str(run_dir),
        "texts": list(plan.workload.texts),
        "batch_size": plan.batch_size,
        "noise_floor": spec.id == BASELINE,
        "min_cosine": plan.min_cosine,
        "layer_order": [],  # filled in for the rescue's routes, from the layer evidence
        # With a task, a mix is tuned on its tuning split, never on the pairs or queries the run reports.
        "rescue_task": plan.task.tuning_split() if plan.task is not None and spec.rescue else None,
        "min_task_kept": 1 - plan.max_task_loss / 100,
        "variant": None,  # --pattern processes: an OpenVINO route as "throughput" or "unpinned" (processes.VARIANTS)
    }
