"""The route registry: every way to run the model, one module per runtime.

Layers, bottom up: `base` (spec, reasons, runner protocol, context, cache) ← one module per runtime
(`torch`, `torchao`, `onnx`, `openvino`, `static`, `peers`: its specs and how to prepare them) ← this registry,
which lists the runtimes. Adding a route is one entry in a runtime module's SPECS (and its case in that module's
prepare); adding a runtime is one module and one line in RUNTIMES.

Two halves. `ROUTES` and `static_unavailability()` are cheap and run in the coordinator (no torch import):
they rule out routes whose package is missing or whose hardware is absent. `prepare()` runs inside a
route's own worker process, imports the runtime, builds the route from the fp32 model and returns a runner;
a route that turns out to be impossible there raises `RouteUnavailable` with a reason a user can act on.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace

from tui.core.cpu import CpuProfile
from tui.core.routes.base import (
    PrepareContext,
    RouteError,
    RouteSpec,
    RouteUnavailable,
    Runner,
    Runtime,
    silence_torch_ao_deprecation,
)
from tui.core.routes.onnx import RUNTIME as ONNXRUNTIME
from tui.core.routes.openvino import RUNTIME as OPENVINO
from tui.core.routes.peers import RUNTIME as PEERS
from tui.core.routes.static import RUNTIME as MODEL2VEC
from tui.core.routes.torch import RUNTIME as TORCH
from tui.core.routes.torchao import RUNTIME as TORCHAO

__all__ = ["BASELINE", "CAP", "DEFAULT_ROUTES", "MIN_CAP", "ROUTES", "RUNTIMES", "PrepareContext", "Registry",
           "RouteError", "RouteSpec", "RouteUnavailable", "Runner", "build_note", "cap_beyond_model", "cap_length",
           "cap_problem", "capped", "capture_kernels", "parse_routes", "prepare", "runtime_versions",
           "silence_torch_ao_deprecation", "static_unavailability"]

CAP = re.compile(r"^(?P<base>[^@]+)@len(?P<tokens>\d+)$")
MIN_CAP = 8  # tokens: below this a sentence is mostly its special tokens


def capped(spec: RouteSpec, tokens: int) -> RouteSpec:
    """`spec` with its inputs cut at `tokens` tokens: the same artefacts, a shorter sequence (cheaper attention and
    GEMMs), less of each text read."""
    return replace(spec, id=f"{spec.id}@len{tokens}", max_seq_length=tokens, base=spec.id, mix=None,
                   summary=f"{spec.id} with inputs cut at {tokens} tokens")


def cap_problem(spec: RouteSpec, tokens: int) -> str | None:
    """Why `spec` cannot take a length cap of `tokens`, else None (the model's own maximum is checked with the
    model: options.build_plan)."""
    if spec.peer:
        return f"{spec.id} is measured as its project ships it; cap one of qtui's routes instead"
    if spec.own_space:
        return f"{spec.id} reads every token with one table lookup: there is no sequence cost to cap"
    if spec.rescue:
        return f"{spec.id} is built by the rescue for the uncapped inputs; cap the route it rescues instead"
    if tokens < MIN_CAP:
        return f"a length cap of {tokens} tokens leaves too little of a text (the least is {MIN_CAP})"
    return None


def cap_beyond_model(spec: RouteSpec, model_name: str, most: int) -> str | None:
    """Why a cap at or above what the model reads (`most`, its max_seq_length) is a mistake, else None."""
    if spec.max_seq_length is None or spec.max_seq_length < most:
        return None
    return (f"{spec.id}: {model_name} reads at most {most} tokens, so a cap of {spec.max_seq_length} cuts nothing; "
            f"give a cap below {most}")


class Registry(dict):
    """Route specs by id. Lists the routes themselves; `<route>@len<N>` is derived from its route on each lookup
    (never stored, so listing and `all` show each route once)."""

    def __missing__(self, rid: str) -> RouteSpec:
        match = CAP.match(rid) if isinstance(rid, str) else None
        base = dict.get(self, match["base"]) if match else None
        if base is None or cap_problem(base, int(match["tokens"])):
            raise KeyError(rid)
        return capped(base, int(match["tokens"]))

    def get(self, rid, default=None):
        try:
            return self[rid]
        except KeyError:
            return default

    def __contains__(self, rid) -> bool:
        return self.get(rid) is not None


RUNTIMES: dict[str, Runtime] = {r.backend: r for r in (TORCH, ONNXRUNTIME, OPENVINO, TORCHAO, MODEL2VEC, PEERS)}
ROUTES: dict[str, RouteSpec] = Registry({spec.id: spec for runtime in RUNTIMES.values() for spec in runtime.specs})
BASELINE = "torch-fp32"
DEFAULT_ROUTES = ("torch-fp32", "torch-qint8-qnnpack", "torch-qint8-x86", "torch-qint8-x86-perchannel",
                  "ort-qint8", "openvino-int8")


def parse_routes(value: str | None) -> list[str]:
    """`default`, `all`, or a comma list of route ids; the baseline is always included, first."""
    if value is None or value == "default":
        ids = list(DEFAULT_ROUTES)
    elif value == "all":
        # The rescue adds its routes when needed; the peers are other projects' code, asked for by name.
        ids = [rid for rid, spec in ROUTES.items() if not spec.rescue and not spec.peer]
    else:
        ids = [v.strip() for v in value.split(",") if v.strip()]
        for rid in ids:
            match = CAP.match(rid)
            if match and dict.get(ROUTES, match["base"]) is not None:
                why = cap_problem(ROUTES[match["base"]], int(match["tokens"]))
                if why:
                    raise RouteError(f"--routes: {rid}: {why}")
        unknown = [i for i in ids if i not in ROUTES]
        if unknown:
            raise RouteError(f"--routes: unknown route {', '.join(unknown)}; known: default, all, "
                             f"{', '.join(ROUTES)}; any of them with @len<N> cuts its inputs at N tokens")
        if not ids:
            raise RouteError("--routes: empty; give route ids separated by commas, or 'default' or 'all'")
    return [BASELINE] + [i for i in dict.fromkeys(ids) if i != BASELINE]


def build_note(route_id: str) -> str:
    """What preparing this route builds, for a progress line ("" for one that prepares in seconds)."""
    spec = ROUTES.get(route_id)
    return f"{spec.builds} (cached for the next run)" if spec is not None and spec.builds else ""


def _not_installed(missing: list[str], hint: str) -> str | None:
    return f"{', '.join(missing)} not installed: {hint}" if missing else None


def static_unavailability(spec: RouteSpec, cpu: CpuProfile) -> str | None:
    """A reason this route cannot run here that is knowable without importing torch, else None. A package only
    this route needs is asked for last: a CPU that cannot run it at all should not send the user to pip."""
    runtime = RUNTIMES[spec.backend]
    return (_not_installed(runtime.missing_modules(), runtime.install_hint) or runtime.unavailable_on(spec, cpu)
            or _not_installed(spec.missing_modules(), spec.requires_hint))


def prepare(spec: RouteSpec, ctx: PrepareContext) -> Runner:
    """Build the route in this (worker) process. Raises RouteUnavailable when it cannot run here."""
    runtime = RUNTIMES.get(spec.backend)
    if runtime is None:
        raise RouteUnavailable(f"unknown backend {spec.backend}")
    why = (_not_installed(runtime.missing_modules(), runtime.install_hint)
           or _not_installed(spec.missing_modules(), spec.requires_hint))
    if why:
        raise RouteUnavailable(why)
    if spec.base is not None:  # a length cap: its route's artefacts (cache hits), then the shorter inputs
        runner = runtime.prepare(ROUTES[spec.base], ctx)
        cap_length(runner, spec.max_seq_length)
        return runner
    return runtime.prepare(spec, ctx)


def cap_length(runner: Runner, tokens: int) -> None:
    """Cut the runner's inputs at `tokens` tokens, where its tokenizer truncates: SentenceTransformer's
    max_seq_length for torch routes, the Tokenize step of the ONNX Runtime and OpenVINO encoders."""
    model = getattr(runner, "model", None)
    if model is not None and hasattr(model, "max_seq_length"):
        model.max_seq_length = tokens
    elif hasattr(runner, "tokenize"):
        runner.tokenize.max_length = tokens
    else:
        raise RouteUnavailable(f"this runtime's inputs cannot be capped at {tokens} tokens")
    runner.facts["max_seq_length"] = tokens


def capture_kernels(spec: RouteSpec, runner: Runner, texts: list[str], batch_size: int, host_features,
                    simulated: bool) -> dict:
    """The kernels one batch of this route ran (in its worker, after the timed rounds): the `kernels` field."""
    from tui.core.kernels import capture_with

    runtime = RUNTIMES.get(spec.backend)
    return capture_with(runtime.kernels if runtime else None, spec.backend, runner, texts, batch_size, host_features,
                        simulated)


def runtime_versions() -> dict[str, str]:
    """Versions of the runtimes that are installed (read from metadata; nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("torch", "sentence-transformers", "transformers", "onnxruntime", "onnx", "openvino", "nncf",
                 "torchao", "numpy", "scipy", "textual"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    found["python"] = sys.version.split()[0]
    return found
