"""What a run tells its listener, as it happens: plain frozen dataclasses (the dashboard imports these
without importing the coordinator, so its first frame does not pay for bench.py's imports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui.core.results import BenchResult

@dataclass(frozen=True)
class RunStarted:
    route_ids: tuple[str, ...]
    texts: int
    batch_size: int
    threads: int
    max_rounds: int
    time_budget_s: float
    task: str | None = None  # the task every route is scored on after the rounds (--task), by name


@dataclass(frozen=True)
class RoutePhase:
    route_id: str
    # "starting" | "loading" | "preparing" | "measuring" | "profiling" | "rebatching" | "inspecting" | "sweeping"
    # | "scoring" | "waiting" (a long build that prepares after the first answer)
    phase: str


@dataclass(frozen=True)
class RouteReady:
    route_id: str
    prepare_s: float
    size_mb: float | None
    accuracy: object | None  # accuracy.Accuracy against the baseline


@dataclass(frozen=True)
class RouteFailed:
    route_id: str
    status: str  # "unavailable" | "failed"
    why: str


@dataclass(frozen=True)
class RoundDone:
    round: int  # 1-based
    max_rounds: int  # the last round there can be (later when routes joined after the first answer)
    elapsed_s: float
    time_budget_s: float
    seconds: dict  # route id → wall seconds this round
    speedups: dict  # route id → stats.Speedup so far (not for the baseline)


@dataclass(frozen=True)
class FirstAnswer:
    """The seed question is answered (fp32 against qnnpack and the engine this CPU wants): the other routes prepare
    now, long builds included, then join the rounds."""
    rounds: int
    after_s: float  # since the run started
    speedups: dict  # route id → stats.Speedup over the rounds so far
    preparing: dict  # route id → what it builds (RouteSpec.builds, "" for a quick one), for the routes that join


@dataclass(frozen=True)
class SweepCell:
    route_id: str
    batch_size: int
    seq_len: int
    speedup: float
    done: int
    total: int


@dataclass(frozen=True)
class RouteAdded:
    """A route the run builds on its own after preparing the others (the rescue's mixed routes)."""
    route_id: str
    why: str


@dataclass(frozen=True)
class ThreadsStep:
    """Progress of `--threads-sweep`: a thread count's worker pair is preparing, measuring, or done."""

    threads: int
    done: int  # thread counts finished so far
    total: int
    stage: str  # "preparing" | "measuring" | "done"
    point: dict | None = None  # when done: the count's entry of the report's threads_sweep.points


@dataclass(frozen=True)
class ProcessesStep:
    """Progress of `--pattern processes`: a split's workers are preparing, measuring, or done."""

    processes: int
    threads: int
    done: int  # splits finished so far
    total: int
    stage: str  # "preparing" | "measuring" | "done" | "skipped"


@dataclass(frozen=True)
class LatencyStep:
    """Progress of `--pattern online`: single-text calls answered per route so far (the route with fewest)."""

    calls: int
    target: int
    rounds: int


@dataclass(frozen=True)
class RunDone:
    result: BenchResult
    cancelled: bool


Event = (RunStarted | RoutePhase | RouteReady | RouteFailed | RoundDone | FirstAnswer | SweepCell | ThreadsStep
         | LatencyStep | ProcessesStep | RouteAdded | RunDone)
