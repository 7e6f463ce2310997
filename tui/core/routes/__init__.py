"""The route registry: every way to run the model, one module per runtime.

Layers, bottom up: `base` (spec, reasons, runner protocol, context, cache) ← one module per runtime
(`torch`, `torchao`, `onnx`, `openvino`: its specs and how to prepare them) ← this registry, which lists the
runtimes. Adding a route is one entry in a runtime module's SPECS (and its case in that module's prepare);
adding a runtime is one module and one line in RUNTIMES.

Two halves. `ROUTES` and `static_unavailability()` are cheap and run in the coordinator (no torch import):
they rule out routes whose package is missing or whose hardware is absent. `prepare()` runs inside a
route's own worker process, imports the runtime, builds the route from the fp32 model and returns a runner;
a route that turns out to be impossible there raises `RouteUnavailable` with a reason a user can act on.
"""

from __future__ import annotations

import sys

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
from tui.core.routes.torch import RUNTIME as TORCH
from tui.core.routes.torchao import RUNTIME as TORCHAO

__all__ = ["BASELINE", "DEFAULT_ROUTES", "ROUTES", "RUNTIMES", "PrepareContext", "RouteError", "RouteSpec",
           "RouteUnavailable", "Runner", "build_note", "capture_kernels", "parse_routes", "prepare", "runtime_versions",
           "silence_torch_ao_deprecation", "static_unavailability"]

RUNTIMES: dict[str, Runtime] = {r.backend: r for r in (TORCH, ONNXRUNTIME, OPENVINO, TORCHAO)}
ROUTES: dict[str, RouteSpec] = {spec.id: spec for runtime in RUNTIMES.values() for spec in runtime.specs}
BASELINE = "torch-fp32"
DEFAULT_ROUTES = ("torch-fp32", "torch-qint8-qnnpack", "torch-qint8-x86", "torch-qint8-x86-perchannel",
                  "ort-qint8", "openvino-int8")


def parse_routes(value: str | None) -> list[str]:
    """`default`, `all`, or a comma list of route ids; the baseline is always included, first."""
    if value is None or value == "default":
        ids = list(DEFAULT_ROUTES)
    elif value == "all":
        ids = [rid for rid, spec in ROUTES.items() if not spec.rescue]  # the rescue adds those when needed
    else:
        ids = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [i for i in ids if i not in ROUTES]
        if unknown:
            raise RouteError(f"--routes: unknown route {', '.join(unknown)}; known: default, all, "
                             f"{', '.join(ROUTES)}")
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
    return runtime.prepare(spec, ctx)


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
