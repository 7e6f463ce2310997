"""Progress of a headless `qtui bench`, printed to stderr (stdout is kept for the summary or JSON)."""

from __future__ import annotations

import sys
from typing import TextIO

from tui.core.events import (
    FirstAnswer,
    LatencyStep,
    ProcessesStep,
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
from tui.core.routes import BASELINE, build_note


class StderrProgress:
    """An `emit` callback: one short line per event that matters to a person waiting."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream: TextIO | None = stream

    def __call__(self, event) -> None:
        line = self.describe(event)
        if line and self.stream is not None:
            try:
                print(line, file=self.stream, flush=True)
            except (OSError, ValueError):  # the terminal went away (SIGHUP): the run still stops cleanly
                self.stream = None

    @staticmethod
    def describe(event) -> str | None:
        if isinstance(event, RunStarted):
            return (f"qtui bench: {len(event.route_ids)} routes, {event.texts} texts, batch {event.batch_size}, "
                    f"{event.threads} threads; up to {event.max_rounds} rounds or {event.time_budget_s:.0f} s")
        if isinstance(event, RoutePhase) and event.phase == "preparing":
            note = build_note(event.route_id)
            return f"  {event.route_id:<30} preparing" + (f": {note}…" if note else "…")
        if isinstance(event, FirstAnswer):
            return first_answer_text(event)
        if isinstance(event, RoutePhase) and event.phase == "rebatching" and event.route_id == BASELINE:
            return "batch invariance: re-encoding texts alone and with other neighbours (fp32 and int8 routes)…"
        if isinstance(event, RoutePhase) and event.phase == "inspecting":
            return ("layers: int8 missed the cosine threshold; quantizing each Linear layer alone on calibration "
                    "texts to find the ones that break it (cached for the next run)…")
        if isinstance(event, RoutePhase) and event.phase == "scoring":
            return f"  {event.route_id:<30} scoring the task (untimed, cached for the next run)…"
        if isinstance(event, RoutePhase) and event.phase == "calibrating":
            return "calibrating: measuring this CPU's GEMM ceilings per dtype (cached for the next run)…"
        if isinstance(event, RouteAdded):
            return f"rescue: {event.why}; building {event.route_id} (the fewest layers kept fp32 to reach it)…"
        if isinstance(event, RouteReady):
            size = f", {event.size_mb:.1f} MB" if event.size_mb else ""
            cos = f", cosine {event.accuracy.cosine_mean:.4f}" if event.accuracy is not None else ""
            return f"  {event.route_id:<30} ready in {event.prepare_s:.1f} s{size}{cos}"
        if isinstance(event, RouteFailed):
            return f"  {event.route_id:<30} {event.status}: {event.why}"
        if isinstance(event, RoundDone):
            parts = [f"{rid} {s.point:.2f}×±{s.half_width:.0%}" if s.half_width != float("inf")
                     else f"{rid} {s.point:.2f}×" for rid, s in event.speedups.items()]
            return f"round {event.round:>2}/{event.max_rounds} {event.elapsed_s:5.1f} s  " + "  ".join(parts)
        if isinstance(event, SweepCell):
            return (f"sweep {event.done}/{event.total}: batch {event.batch_size:>2} × {event.seq_len:>3} tokens  "
                    f"{event.route_id} {event.speedup:.2f}×")
        if isinstance(event, ThreadsStep):
            return _threads_step(event)
        if isinstance(event, ProcessesStep):
            from tui.core.processes import progress_text as processes_text

            # The split being prepared and each split done; "measuring" follows preparing within seconds.
            return None if event.stage == "measuring" else processes_text(
                event.processes, event.threads, event.done + (event.stage == "preparing"), event.total, event.stage)
        if isinstance(event, LatencyStep):
            from tui.core.latency import progress_text

            # A line per 5 rounds (250 calls) and the last: one per round would scroll the rest away.
            return progress_text(event.calls, event.target, event.rounds) if event.rounds % 5 == 0 \
                or event.calls >= event.target else None
        if isinstance(event, RunDone):
            return f"done in {event.result.wall_s:.1f} s: {event.result.stop_reason}"
        return None


def first_answer_text(event: FirstAnswer) -> str:
    """"first answer after 9.8 s (5 rounds): torch-qint8-qnnpack 0.41× [0.40–0.42] slower, …", then what joins."""
    from tui.core.report import speedup_text

    found = ", ".join(f"{rid} {speedup_text(s.point, s.ci95)} {s.verdict}" for rid, s in event.speedups.items())
    line = f"first answer after {event.after_s:.1f} s ({event.rounds} rounds): {found or 'fp32 alone'}"
    if event.preparing:
        line += "\n  preparing now, then joining the rounds: " + ", ".join(event.preparing)
    return line


def _threads_step(event: ThreadsStep) -> str | None:
    """"thread sweep 1/2: 2 threads — preparing…", then the count's sent/s per route and the speedup."""
    from tui.core.thread_sweep import threads_text

    if event.stage == "preparing":
        return f"thread sweep {event.done + 1}/{event.total}: {threads_text(event.threads)} — preparing…"
    if event.stage != "done" or not event.point:
        return None
    parts = [f"{r['id']} {r['throughput']['median']:.0f} sent/s" if r.get("throughput") else f"{r['id']} {r['status']}"
             for r in event.point["routes"]]
    if event.point.get("speedup"):
        parts.append(f"{event.point['speedup']['point']:.2f}×")
    return f"thread sweep {event.done}/{event.total}: {threads_text(event.threads)}  " + "  ".join(parts)
