"""The `qtui` command. Nothing heavy is imported at module level: `qtui --help` and `qtui detect` stay instant."""

from __future__ import annotations

import argparse
import json
import sys

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 2, 130


class UserError(Exception):
    """A mistake the user can fix: printed as one line on stderr, exit 2, no traceback."""


class QuietParser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr (plus where to look), exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _add_detect(sub) -> None:
    p = sub.add_parser(
        "detect",
        help="show this CPU's int8/bf16 features and the quantized engine to use",
        description="Detect the CPU's int8/bf16 capabilities (AVX2, AVX-512, VNNI, AMX, NEON, dotprod, i8mm, "
        "SVE, bf16) and recommend torch's quantized engine, with reasons. Instant: torch is not imported.",
    )
    p.add_argument("--cpuinfo", metavar="FILE",
                   help="judge another machine from its saved /proc/cpuinfo (or macOS `sysctl hw.optional` output)")
    p.add_argument("--json", action="store_true", help="print qtui.detect/1 JSON instead of a table")
    p.set_defaults(handler=cmd_detect)


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
                        "included as the baseline")
    p.add_argument("--batch-size", type=positive_int, default=32, metavar="N", help="encode batch size (default 32)")
    p.add_argument("--threads", type=positive_int, metavar="N",
                   help="threads for every route (default: physical cores)")
    p.add_argument("--rounds", type=positive_int, default=30, metavar="N",
                   help="maximum interleaved rounds (default 30; stops earlier once every 95%% CI is within ±5%%)")
    p.add_argument("--time-budget", type=positive_float, default=60.0, metavar="SECONDS",
                   help="time for the measured rounds after preparation (default 60)")
    p.add_argument("--min-cosine", type=cosine_threshold, default=0.99, metavar="C",
                   help="least mean cosine to fp32 for a route to be recommended (default 0.99)")


def build_parser() -> argparse.ArgumentParser:
    parser = QuietParser(
        prog="qtui",
        description="Why is int8 slow on this CPU? qtui detects the CPU's int8 features, benchmarks fp32 "
        "against every int8 route and explains the difference with numbers measured here. "
        "Without a subcommand it opens the terminal dashboard.",
        epilog="Exit codes: 0 ok, 2 bad input, 130 interrupted.",
    )
    from tui import __version__

    parser.add_argument("--version", action="version", version=f"qtui {__version__}")
    parser.add_argument("--theme", metavar="NAME",
                        help="dashboard colour theme: qtui-dark, qtui-light, qtui-contrast, or any Textual theme "
                             "(t cycles; the choice is remembered)")
    add_run_options(parser)  # the dashboard's run settings take the same flags as `qtui bench`
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=QuietParser)
    _add_detect(sub)
    _add_bench(sub)
    _add_compare(sub)
    _add_routes(sub)
    _add_explain(sub)
    return parser


def _add_explain(sub) -> None:
    p = sub.add_parser("explain", help="the advice for a saved report (made here or on a server)",
                       description="Diagnose a saved qtui.report/1 JSON: why int8 was slow or fast there, each "
                       "cause with the number it rests on, the fix, its expected effect and a recipe. The CPU "
                       "facts come from the report, so a report made on a server is explained for that server.")
    p.add_argument("report", metavar="REPORT.json")
    p.add_argument("--markdown", metavar="PATH", help="also write the Markdown report with the advice")
    p.add_argument("--json", action="store_true", help="print the advice as JSON")
    p.set_defaults(handler=cmd_explain)


def _add_bench(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark fp32 against int8 routes, side by side, with paired statistics",
        description="Benchmark torch fp32 against int8 routes (torch engines per-tensor and per-channel, bf16, "
        "ONNX Runtime, OpenVINO) on the same texts. Each route runs in its own process; rounds interleave "
        "the routes in shuffled order; speedups come with 95%% bootstrap CIs. Progress goes to stderr, the "
        "summary table to stdout.",
    )
    add_run_options(p)
    p.add_argument("--json", metavar="PATH", help="write the qtui.report/1 JSON there ('-' for stdout: then "
                                                  "stdout carries only JSON)")
    p.add_argument("--markdown", metavar="PATH", help="write a Markdown report there")
    p.add_argument("--sweep", nargs="?", const="auto", metavar="ROUTE",
                   help="after the rounds, time fp32 vs ROUTE over batch size {1,8,32} × tokens {8,32,128} to "
                        "show where int8 wins and loses (default ROUTE: the recommended engine's qint8 route)")
    p.add_argument("--simulate-isa", metavar="ISA",
                   help="predict a weaker x86 server: cap oneDNN/ATen kernels at ISA (sse4_2, avx, avx2, avx2_vnni, "
                        "avx512, avx512_vnni, avx512_bf16, amx); the report is marked as simulated")
    p.set_defaults(handler=cmd_bench)


def _add_compare(sub) -> None:
    p = sub.add_parser("compare", help="show two saved reports side by side (two machines, or before/after)",
                       description="Compare two qtui.report/1 JSON files route by route.")
    p.add_argument("a", metavar="A.json")
    p.add_argument("b", metavar="B.json")
    p.set_defaults(handler=cmd_compare)


def _add_routes(sub) -> None:
    p = sub.add_parser("routes", help="list every route qtui knows and whether it can run here",
                       description="List the route ids for --routes, with what each does.")
    p.set_defaults(handler=cmd_routes)


def cmd_detect(args: argparse.Namespace) -> int:
    from tui.core.cpu import CpuInfoError
    from tui.core.detect import format_detection, run_detect

    try:
        detection = run_detect(args.cpuinfo)
    except CpuInfoError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps(detection.to_json(), indent=2))
    else:
        import shutil

        print(format_detection(detection, width=min(shutil.get_terminal_size().columns, 110)))
    return EXIT_OK


def build_plan(args: argparse.Namespace):
    """Validate everything a run needs before any work starts; every mistake becomes a UserError."""
    from tui.core.bench import Plan
    from tui.core.cpu import detect
    from tui.core.models import ModelError, resolve_model
    from tui.core.routes import RouteError, parse_routes
    from tui.core.workload import WorkloadError, make_workload

    try:
        routes = parse_routes(args.routes)
        model = resolve_model(args.model, allow_download=args.allow_download)
        workload = make_workload(args.num_texts, texts_file=args.texts)
    except (RouteError, ModelError, WorkloadError) as exc:
        raise UserError(str(exc)) from None
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
    return Plan(model=model, workload=workload, routes=tuple(routes), cpu=cpu, batch_size=args.batch_size,
                threads=threads, max_rounds=args.rounds, time_budget_s=args.time_budget,
                min_cosine=args.min_cosine, worker_env=worker_env, sweep_route=sweep_route)


def cmd_bench(args: argparse.Namespace) -> int:
    import signal
    import threading

    from tui.core import bench
    from tui.core.report import ReportError, build_document, check_writable, format_summary, to_markdown, write_atomic
    from tui.progress import StderrProgress

    try:
        for path in (args.json, args.markdown):
            if path:
                check_writable(path)
    except ReportError as exc:
        raise UserError(str(exc)) from None
    plan = build_plan(args)
    for warning in plan.workload.warnings:
        print(f"qtui: warning: {warning}", file=sys.stderr)

    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())  # Ctrl-C: stop cleanly, kill workers
    try:
        result = bench.run(plan, StderrProgress(), cancel.is_set)
    finally:
        signal.signal(signal.SIGINT, previous)
    if cancel.is_set():
        print("qtui: interrupted; workers stopped, nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    doc = build_document(result)
    if args.json == "-":
        print(json.dumps(doc, indent=2))
    else:
        print(format_summary(doc))
    if args.json and args.json != "-":
        write_atomic(args.json, json.dumps(doc, indent=2) + "\n")
        print(f"qtui: wrote {args.json}", file=sys.stderr)
    if args.markdown:
        write_atomic(args.markdown, to_markdown(doc))
        print(f"qtui: wrote {args.markdown}", file=sys.stderr)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from tui.core.report import ReportError, compare, load_report

    try:
        a, b = load_report(args.a), load_report(args.b)
    except ReportError as exc:
        raise UserError(str(exc)) from None
    print(compare(a, b))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from tui.core.cpu import CpuInfoError, CpuProfile
    from tui.core.report import (
        ReportError,
        attach_diagnosis,
        check_writable,
        format_advice,
        format_roofline,
        load_report,
        to_markdown,
        write_atomic,
    )

    try:
        if args.markdown:
            check_writable(args.markdown)
        doc = load_report(args.report)
        cpu = CpuProfile.from_json(doc["env"]["cpu"], source="report")
    except (ReportError, CpuInfoError) as exc:
        raise UserError(str(exc)) from None
    attach_diagnosis(doc, cpu)
    if args.json:
        print(json.dumps(doc["advice"], indent=2))
    else:
        print(format_advice(doc["advice"], recipes=True, finding=doc["finding"]))
        if doc.get("roofline"):
            print("\n" + format_roofline(doc["roofline"], doc["routes"], cpu))
    if args.markdown:
        write_atomic(args.markdown, to_markdown(doc))
        print(f"qtui: wrote {args.markdown}", file=sys.stderr)
    return EXIT_OK


def cmd_routes(args: argparse.Namespace) -> int:
    from tui.core.cpu import detect
    from tui.core.routes import DEFAULT_ROUTES, ROUTES, static_unavailability

    cpu = detect()
    for spec in ROUTES.values():
        why = static_unavailability(spec, cpu)
        mark = "default" if spec.id in DEFAULT_ROUTES else ""
        print(f"{spec.id:<30} {mark:<8} {spec.summary}" + (f"\n{'':<40}unavailable here: {why}" if why else ""))
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    from tui.core.routes import RouteError, parse_routes

    try:
        parse_routes(args.routes)
    except RouteError as exc:
        raise UserError(str(exc)) from None
    if args.theme is not None:
        from tui.themes import load_themes

        known = [t.name for t in load_themes()]
        if args.theme not in known:
            raise UserError(f"--theme {args.theme}: unknown; choose one of {', '.join(known)}")
    from tui.app import run_app

    return run_app(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", cmd_dashboard)
    try:
        return handler(args)
    except UserError as exc:
        print(f"qtui: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("qtui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `qtui detect | head`: the reader left, nothing to report
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
