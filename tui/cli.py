"""The `qtui` command. Nothing heavy is imported at module level: `qtui --help` and `qtui detect` stay instant."""

from __future__ import annotations

import argparse
import json
import sys

from tui.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, UserError
from tui.options import QuietParser, add_run_options, build_plan
from tui.stop_signals import Stopped, StopRequest, exit_code, on_stop_signals, raise_stopped, say, stopped_line


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


def build_parser() -> argparse.ArgumentParser:
    parser = QuietParser(
        prog="qtui",
        description="Why is int8 slow on this CPU? qtui detects the CPU's int8 features, benchmarks fp32 "
        "against every int8 route and explains the difference with numbers measured here. "
        "Without a subcommand it opens the terminal dashboard.",
        epilog="Exit codes: 0 ok, 2 bad input, 3 some `qtui fleet` hosts failed, 129 hung up (SIGHUP), "
               "130 interrupted (Ctrl-C), 143 terminated "
               "(SIGTERM).",
    )
    from tui import __version__

    parser.add_argument("--version", action="version", version=f"qtui {__version__}")
    parser.add_argument("--theme", metavar="NAME_OR_FILE",
                        help="dashboard colour theme: qtui-dark, qtui-light, qtui-contrast, one of yours in the "
                             "config dir's themes/ (~/.config/qtui/themes/ on Linux), or a theme file PATH.toml "
                             "(t cycles; the choice is remembered)")
    add_run_options(parser)  # the dashboard's run settings take the same flags as `qtui bench`
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=QuietParser)
    _add_detect(sub)
    _add_bench(sub)
    _add_compare(sub)
    _add_routes(sub)
    _add_explain(sub)
    _add_export(sub)
    _add_fleet(sub)
    _add_cache(sub)
    return parser


def _add_cache(sub) -> None:
    from tui.cache_cli import add_cache_parser, cmd_cache

    add_cache_parser(sub).set_defaults(handler=cmd_cache)


def _add_fleet(sub) -> None:
    from tui.fleet_cli import add_fleet_parser

    add_fleet_parser(sub).set_defaults(handler=cmd_fleet)


def _add_export(sub) -> None:
    from tui.options import export_pattern, positive_float, positive_int

    p = sub.add_parser(
        "export", help="write a route as a folder a service loads without qtui (model, tokenizer, encode.py)",
        description="Export ROUTE as a deployable folder: the int8 ONNX model (ORT routes), the OpenVINO IR "
        "(OpenVINO routes), the quantization settings (torch dynamic int8, applied at load) or model2vec's own folder "
        "(static-m2v, loaded by model2vec; its vectors are in a space of their own), the tokenizer, "
        "encode.py (load()/encode(texts); `python encode.py < texts.txt` prints one vector per line; needs only "
        "the runtime, tokenizers and numpy), qtui-export.json (route, model, versions, the CPU it was measured "
        "on, the measured speed-up, CI and cosine, the CPU features it needs) and README.md. The model file is "
        "the one the benchmark ran, from the artefact cache. The folder is built beside DIR and renamed into "
        "place: DIR is complete or absent.",
        epilog="Measured numbers come from --report, else the latest `qtui bench` saved on this machine that "
               "measured ROUTE on the model, else a short measurement (--no-measure: \"not measured\"). "
               "Exit codes: 0 written, 2 bad input (nothing written, DIR untouched).")
    p.add_argument("route", metavar="ROUTE", help="a route id from `qtui routes` (e.g. ort-qint8, openvino-int8, "
                                                  "torch-qint8-x86, static-m2v), or ROUTE@lenN: that route with its "
                                                  "inputs cut at N tokens (the cap is recorded in qtui-export.json "
                                                  "and applied by encode.py)")
    p.add_argument("--out", metavar="DIR", required=True, help="folder to create (absent or empty; see --force)")
    p.add_argument("--force", action="store_true", help="replace DIR if it exists and is not empty")
    p.add_argument("--model", metavar="PATH_OR_NAME", help="as for `qtui bench` (default: the packaged "
                                                           "all-MiniLM-L6-v2)")
    p.add_argument("--allow-download", action="store_true", help="let --model download a hub model (network)")
    p.add_argument("--calibration", metavar="FILE",
                   help="texts to calibrate static int8 on (openvino-int8, ort-qdq-int8); must not overlap the "
                        "measured texts (default: the same calibration set `qtui bench` uses)")
    p.add_argument("--threads", type=positive_int, metavar="N",
                   help="threads encode.py pins (default: as measured, or the --for CPU's physical cores)")
    p.add_argument("--for", dest="target", metavar="CPUINFO_OR_DETECT_JSON",
                   help="build for another server: its saved /proc/cpuinfo or `qtui detect --json` output (threads, "
                        "reduce_range for ORT int8 on x86 without VNNI, and the features encode.py checks)")
    p.add_argument("--report", metavar="REPORT.json", help="take the measured numbers from this qtui report")
    p.add_argument("--no-measure", dest="measure", action="store_false",
                   help="without a saved measurement, write \"not measured\" instead of measuring")
    p.add_argument("--time-budget", type=positive_float, default=20.0, metavar="SECONDS",
                   help="rounds of that short measurement, after preparation (default 20)")
    p.add_argument("--texts", metavar="FILE", help="the measured texts, as given to `qtui bench --texts` (default: "
                                                   "those of the report; the calibration set is the rest)")
    p.add_argument("--num-texts", type=positive_int, metavar="N",
                   help="as given to `qtui bench` (default: as the report measured, else 128)")
    p.add_argument("--batch-size", type=positive_int, default=32, metavar="N",
                   help="encode.py's default batch size (32)")
    p.add_argument("--pattern", type=export_pattern, default="bulk", metavar="bulk|online|processes",
                   help="the call pattern to set the folder up for, from a report that measured ROUTE in it (`qtui "
                        "bench --pattern …`): 'bulk' (batches in one process, the default), 'online' (the latency "
                        "measured goes into qtui-export.json and README.md), 'processes' (the split chosen for ROUTE: "
                        "encode.py runs its threads per process, encode_in_processes() its processes, and OpenVINO "
                        "its THROUGHPUT requests or CPU pinning off)")
    p.set_defaults(handler=cmd_export)


def _add_explain(sub) -> None:
    p = sub.add_parser("explain", help="the advice for a saved report (made here or on a server)",
                       description="Diagnose a saved qtui.report/1 JSON: why int8 was slow or fast there, each "
                       "cause with the number it rests on, the fix, its expected effect and the shortest code "
                       "that reproduces the route it points at (the `qtui export` command and the lines that load "
                       "the folder, or a few lines of torch). The CPU facts come from the report, so a report made "
                       "on a server is explained for that server.")
    p.add_argument("report", metavar="REPORT.json")
    p.add_argument("--recipes", action="store_true",
                   help="print every recipe in full (an exported route's whole encode.py), as the Markdown report "
                        "and the dashboard's Enter show them")
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
                   help="predict a weaker x86 server: cap oneDNN (torch's and OpenVINO's), ATen and FBGEMM kernels "
                        "at ISA (sse4_2, avx, avx2, avx2_vnni, avx512, avx512_vnni, avx512_bf16, amx); the report is "
                        "marked as simulated and each route's kernels say whether the cap reached them (ONNX "
                        "Runtime's MLAS cannot be capped)")
    p.set_defaults(handler=cmd_bench)


def _add_compare(sub) -> None:
    p = sub.add_parser(
        "compare", help="show saved reports side by side (machines, or before/after): the first is the reference",
        description="Compare qtui.report/1 JSON files route by route, as pyperf compare_to and asv do: the first "
        "report is the reference; each cell is the route's median sentences/s with its 95%% CI and, against the "
        "reference, \"1.80× faster\" or \"1.25× slower\" only where the two CIs separate, else \"not "
        "significant\"; ★ marks the fastest report per route; a closing row gives the geometric mean of the "
        "ratios. A route a report lacks or could not run is shown as missing and listed, never as zero.",
        epilog="Columns are named after the files (a fleet's <host>.json), or A, B, C… when names repeat. "
               "Exit codes: 0 ok, 2 bad input (an unreadable or non-qtui report).")
    p.add_argument("reports", nargs="+", metavar="REPORT.json", help="two or more reports; the first is the reference")
    p.add_argument("--json", action="store_true", help="print qtui.compare/1 JSON for scripts instead of the table")
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


def cmd_bench(args: argparse.Namespace) -> int:
    from tui.core import bench
    from tui.core.report import ReportError, build_document, check_writable, format_summary, to_markdown, write_atomic
    from tui.progress import StderrProgress

    try:
        for path in (args.json, args.markdown):
            if path:
                check_writable(path)
    except ReportError as exc:
        raise UserError(str(exc)) from None
    from tui.cache_cli import cap_or_error, prune_after_run

    cap_or_error()  # a bad QTUI_CACHE_MAX_SIZE stops here, before any work, not after the run
    plan = build_plan(args)
    for warning in plan.workload.warnings:
        print(f"qtui: warning: {warning}", file=sys.stderr)

    # During the run a stop signal is a cancel request: bench.run kills the workers and removes its run
    # directory. Before and after it, main's handlers apply (nothing to clean up; reports are written atomically).
    stop = StopRequest()
    with on_stop_signals(stop):
        result = bench.run(plan, StderrProgress(), stop.is_set)
    if stop.signum is not None:
        say(stopped_line(stop.signum, "workers stopped, nothing written"))
        return exit_code(stop.signum)
    doc = build_document(result)
    from tui.core.report_history import remember

    saved = remember(doc)  # for `qtui export`, which quotes the latest measurement of a route
    if args.json == "-":
        print(json.dumps(doc, indent=2))
    else:  # the summary names a report file its commands can read: --json's, else the one just saved
        print(format_summary(doc, args.json or (str(saved) if saved else "REPORT.json")))
    if args.json and args.json != "-":
        write_atomic(args.json, json.dumps(doc, indent=2) + "\n")
        print(f"qtui: wrote {args.json}", file=sys.stderr)
    if args.markdown:
        write_atomic(args.markdown, to_markdown(doc))
        print(f"qtui: wrote {args.markdown}", file=sys.stderr)
    pruned = prune_after_run(plan.cache_root)
    if pruned:
        print(f"qtui: {pruned}", file=sys.stderr)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    from tui.core.compare import compare_reports, format_comparison, labels_for
    from tui.core.report import ReportError, load_report

    if len(args.reports) < 2:
        raise UserError("compare needs at least two reports (the first is the reference)")
    try:
        docs = [load_report(path) for path in args.reports]
    except ReportError as exc:
        raise UserError(str(exc)) from None
    comparison = compare_reports(docs, labels_for(args.reports))
    print(json.dumps(comparison.to_json(), indent=2) if args.json else format_comparison(comparison))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    from tui.core.cpu import CpuInfoError
    from tui.core.report import (
        ReportError,
        attach_diagnosis,
        check_writable,
        format_advice,
        format_roofline,
        format_task,
        format_threads_sweep,
        load_report,
        report_cpu,
        to_markdown,
        write_atomic,
    )

    try:
        if args.markdown:
            check_writable(args.markdown)
        doc = load_report(args.report)
        cpu = report_cpu(doc)
    except (ReportError, CpuInfoError) as exc:
        raise UserError(str(exc)) from None
    attach_diagnosis(doc, cpu)
    if args.json:
        print(json.dumps(doc["advice"], indent=2))
    else:
        print(format_advice(doc["advice"], recipes=args.recipes, finding=doc["finding"], report=args.report))
        if doc.get("roofline"):
            print("\n" + format_roofline(doc["roofline"], doc["routes"], cpu))
        if doc.get("threads_sweep"):
            print("\n" + format_threads_sweep(doc["threads_sweep"]))
        if doc.get("task"):
            print("\n" + format_task(doc))
    if args.markdown:
        write_atomic(args.markdown, to_markdown(doc))
        print(f"qtui: wrote {args.markdown}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from tui.core.export import ExportError, ExportRequest, check, ensure_measured, write
    from tui.core.export.measured import describe

    request = ExportRequest(route=args.route, out=args.out, model=args.model, allow_download=args.allow_download,
                            calibration=args.calibration, threads=args.threads, force=args.force, target=args.target,
                            report=args.report, texts=args.texts, num_texts=args.num_texts,
                            batch_size=args.batch_size, measure=args.measure, measure_budget_s=args.time_budget,
                            pattern=args.pattern)
    def progress(line: str) -> None:
        print(f"qtui export: {line}", file=sys.stderr, flush=True)

    stop = StopRequest()
    try:
        checked = check(request)
        for warning in checked.warnings:
            print(f"qtui: warning: {warning}", file=sys.stderr)
        with on_stop_signals(stop):  # a measurement's workers are stopped by its coordinator, as in bench
            ensure_measured(checked, progress, stop.is_set)
        if stop.signum is not None:
            say(stopped_line(stop.signum, "workers stopped, nothing written"))
            return exit_code(stop.signum)
        stopping = StopRequest()

        def stop_now(signum: int) -> None:  # raise mid-build; write removes its temp dir on the way out
            stopping(signum)
            raise_stopped(signum)

        with on_stop_signals(stop_now):
            try:
                out = write(checked, progress)
            except Exception:
                if stopping.signum is None:
                    raise
                raise Stopped(stopping.signum) from None  # a library wrapped our Stopped in its own error
    except ExportError as exc:
        raise UserError(str(exc)) from None
    measured = checked.measured.to_json() if checked.measured else None
    from tui.core.processes import split_words

    processes = ((measured or {}).get("pattern") or {}).get("processes") or 1
    runs = split_words(processes, checked.threads) if processes > 1 else f"{checked.threads} threads"
    print(f"qtui: wrote {out} ({checked.spec.id}, {runs}; measured: {describe(measured)})", file=sys.stderr)
    return EXIT_OK


def cmd_fleet(args: argparse.Namespace) -> int:
    from tui.fleet_cli import build_fleet_plan, run_headless

    plan = build_fleet_plan(args)
    if not sys.stdout.isatty():
        return run_headless(plan)
    from tui.app import run_app

    args.fleet_plan = plan
    return run_app(args)


def cmd_routes(args: argparse.Namespace) -> int:
    from tui.core.cpu import detect
    from tui.core.routes import DEFAULT_ROUTES, MIN_CAP, ROUTES, static_unavailability

    cpu = detect()
    for spec in ROUTES.values():
        why = static_unavailability(spec, cpu)
        mark = "default" if spec.id in DEFAULT_ROUTES else ""
        print(f"{spec.id:<30} {mark:<8} {spec.summary}" + (f"\n{'':<40}unavailable here: {why}" if why else ""))
    print(f"\nROUTE@lenN (e.g. openvino-int8@len64): ROUTE with its inputs cut at N tokens (at least {MIN_CAP}, "
          "below the model's maximum): the same artefacts, shorter sequences; the task score says what it costs.")
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    from tui.cache_cli import cap_or_error
    from tui.core.routes import RouteError, parse_routes

    cap_or_error()  # pruned to it after each run: a bad QTUI_CACHE_MAX_SIZE stops here, in one line
    try:
        parse_routes(args.routes)
    except RouteError as exc:
        raise UserError(str(exc)) from None
    from pathlib import Path

    from tui.themes import ThemeError, is_theme_file, load_themes, parse_theme

    args.theme_file = args.theme if args.theme is not None and is_theme_file(args.theme) else None
    try:
        themes = load_themes(args.theme_file)  # the user's theme files too: a bad one stops here, in one line
    except ThemeError as exc:
        raise UserError(str(exc)) from None
    known = [t.name for t in themes]
    if args.theme_file is not None:
        args.theme = parse_theme(Path(args.theme_file)).name  # valid: load_themes has read it
    elif args.theme is not None and args.theme not in known:
        raise UserError(f"--theme {args.theme}: unknown; choose one of {', '.join(known)}, or pass a theme file "
                        "PATH.toml")
    from tui.app import run_app

    return run_app(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", cmd_dashboard)
    try:
        with on_stop_signals(raise_stopped):  # SIGTERM/SIGHUP stop like Ctrl-C: one line, not a silent death
            return handler(args)
    except UserError as exc:
        print(f"qtui: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Stopped as exc:
        say(stopped_line(exc.signum))
        return exit_code(exc.signum)
    except KeyboardInterrupt:  # SIGINT where the handler above was not installed (not the main thread)
        say("qtui: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `qtui detect | head`: the reader left, nothing to report
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
