"""Kernels that ran, per route: what the runtime itself reports (oneDNN/MKL verbose, ONNX Runtime's profile,
OpenVINO's runtime model) marked observed, and what follows from the CPU features a library dispatches on
(FBGEMM, MLAS) marked inferred, with what it was inferred from.

Captured in each route's worker in a pass of its own after the timed rounds (verbose logging and profiling
slow the kernels down). Each runtime's module in the route registry names its capture (`Runtime.kernels`, one
module here per runtime); `capture_with` runs it and never raises: what cannot be captured is
"not available: why".
"""

from __future__ import annotations

import time
import traceback

from tui.core.kernels.facts import Capture
from tui.core.kernels.summary import summary_lines


def to_report(capture: Capture) -> dict:
    """A capture as the report's `kernels` field: its JSON form with the summary lines."""
    doc = capture.to_json()
    doc["summary"] = summary_lines(doc)
    return doc


def not_available(why: str) -> dict:
    """The kernels field of a route nothing could be captured for."""
    return to_report(Capture(available=False, why=why))


def capture_with(hook, backend: str, runner, texts: list[str], batch_size: int, host_features,
                 simulated: bool) -> dict:
    """The `kernels` field of one route, captured in its worker by its runtime's hook."""
    if hook is None:
        return not_available(f"qtui has no kernel capture for the {backend} runtime")
    start = time.perf_counter()
    try:
        doc = to_report(hook(runner, texts, batch_size, frozenset(host_features), simulated))
    except Exception as exc:  # a capture must never cost the route its results
        traceback.print_exc()
        first = str(exc).splitlines()[0][:160] if str(exc) else ""
        doc = not_available(f"the capture failed ({exc.__class__.__name__}: {first})")
    doc["capture_s"] = round(time.perf_counter() - start, 3)  # what the capture added to the run
    return doc
