"""`qtui export`: a measured route written as a folder a service loads without qtui.

Two steps, like a run. `check()` validates everything and touches nothing (a mistake is one ExportError
line); `write()` builds the folder in a temporary sibling directory and renames it into place at the end, so
the target is complete or absent. One module per job: `pipeline` (pooling, normalisation, tokenizer from the
model's own config), `target` (the CPU built for and what the artefact needs), `measured` (numbers from a
report, never made up), `artefacts` (the model file from the benchmark's cache, or model2vec's folder for the static
route), `standalone` (encode.py from its template), `manifest` (qtui-export.json and README.md). A length-capped
route (`<route>@len<N>`) ships its base route's artefact and records the cap, which encode.py's tokenizer applies.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tui.core.cpu import CpuInfoError, CpuProfile
from tui.core.export.artefacts import CALIBRATED_ROUTES
from tui.core.export.measured import Measured, mix_facts
from tui.core.export.pipeline import Pipeline
from tui.core.models import ModelRef
from tui.core.routes import RouteSpec

Say = Callable[[str], None]


class ExportError(ValueError):
    """Bad input for an export; one line for the user. Nothing has been written when it is raised."""


def exportable(spec: RouteSpec) -> bool:
    """ONNX Runtime and OpenVINO routes (a model file), torch's dynamic int8 (settings applied at load), the static
    model2vec route (its own folder), and a length cap (`<route>@len<N>`) of any of them."""
    if spec.base is not None:
        return exportable(artefact_spec(spec))
    return spec.backend in ("onnxruntime", "openvino", "model2vec") or spec.id.startswith("torch-qint8-")


def is_exportable(route_id: str | None) -> bool:
    """`qtui export` takes this route id (a listed route, or a length cap of one)."""
    from tui.core.routes import ROUTES

    spec = ROUTES.get(route_id) if route_id else None
    return spec is not None and exportable(spec)


def artefact_spec(spec: RouteSpec) -> RouteSpec:
    """The route whose artefact the folder carries: the route itself, or the route a length cap cuts (the same
    cache entry: a cap changes the tokenizer's truncation, not the model)."""
    from tui.core.routes import ROUTES

    return ROUTES[spec.base] if spec.base is not None else spec


def exportable_routes() -> list[str]:
    """The routes themselves (a length cap of one is exportable too: `exportable_text`)."""
    from tui.core.routes import ROUTES

    return [rid for rid, spec in ROUTES.items() if exportable(spec)]


def exportable_text() -> str:
    """What the error lines list: the exportable routes and that `@len<N>` caps them."""
    from tui.core.routes import ROUTES

    routes = exportable_routes()
    uncapped = [rid for rid in routes if ROUTES[rid].own_space]
    but = f"all but {', '.join(uncapped)} and the -mixed rescue routes" if uncapped else "all but the -mixed routes"
    return f"exportable: {', '.join(routes)} ({but} also as ROUTE@len<N>, inputs cut at N tokens)"


@dataclass
class ExportRequest:
    route: str
    out: str
    model: str | None = None
    allow_download: bool = False
    calibration: str | None = None  # a text file for static int8 routes
    threads: int | None = None
    force: bool = False
    target: str | None = None  # --for: a saved /proc/cpuinfo or `qtui detect --json`
    report: str | None = None  # where the measured numbers come from; default: the latest saved here
    texts: str | None = None  # the measured texts, as `qtui bench --texts` (default: as the report measured)
    num_texts: int | None = None  # default: as the report measured, else 128 like `qtui bench`
    batch_size: int = 32
    pattern: str = "bulk"  # the call pattern to set the folder up for (export/pattern.py)
    measure: bool = True  # no report for the route: run a short measurement (False: "not measured")
    measure_budget_s: float = 20.0  # that measurement's rounds, after preparation
    report_doc: dict | None = field(default=None, repr=False)  # the dashboard passes its last run's report
    cache_root: Path | None = None


@dataclass
class Checked:
    """Everything validated, nothing written."""

    spec: RouteSpec
    out: Path
    model: ModelRef
    pipeline: Pipeline | None  # None for a static route: model2vec tokenizes and pools by its own config
    cpu: CpuProfile  # built for
    cpu_source: str
    threads: int
    calibration: list[str]
    measured_texts: tuple[str, ...]
    reduce_range: bool
    measured: Measured | None
    measured_note: str
    request: ExportRequest
    warnings: list[str] = field(default_factory=list)

    @property
    def built(self) -> RouteSpec:
        """The route whose artefact the folder carries (a length cap's base route; else the route)."""
        return artefact_spec(self.spec)


def route_spec(route_id: str) -> RouteSpec:
    """The spec of ROUTE, or an ExportError: unknown, a cap the route cannot take, or nothing to ship."""
    from tui.core.routes import CAP, ROUTES, cap_problem

    spec = ROUTES.get(route_id)
    match = CAP.match(route_id)
    if spec is None and match and dict.get(ROUTES, match["base"]) is not None:
        why = cap_problem(ROUTES[match["base"]], int(match["tokens"]))
        raise ExportError(f"{route_id}: {why}")
    if spec is None:
        raise ExportError(f"unknown route {route_id!r}; {exportable_text()}")
    if spec.peer:
        raise ExportError(f"{spec.id} is a peer, another project's code: run it as its recipe shows (`qtui explain "
                          f"REPORT.json --recipes` after a run that measured it); qtui exports its own routes, "
                          f"{exportable_text().removeprefix('exportable: ')}")
    if not exportable(spec):
        what = f"{spec.id} caps {spec.base}, which" if spec.base else spec.id
        raise ExportError(f"{what} cannot be exported (a compiled graph or plain torch: nothing to ship beyond the "
                          f"model); {exportable_text()}")
    return spec


def check_cap(spec: RouteSpec, model: ModelRef, pipeline: Pipeline) -> None:
    """A cap at or above what the model reads would cut nothing (as `qtui bench --routes` says)."""
    from tui.core.routes import cap_beyond_model

    why = cap_beyond_model(spec, model.name, pipeline.max_seq_length)
    if why:
        raise ExportError(why)


def check(request: ExportRequest) -> Checked:
    from tui.core.cpu import detect
    from tui.core.export import measured as measured_mod
    from tui.core.export.pipeline import PipelineError, read_pipeline
    from tui.core.export.target import load_target, wants_reduce_range
    from tui.core.models import ModelError, resolve_model
    from tui.core.routes import static_unavailability
    from tui.core.workload import WorkloadError

    spec = route_spec(request.route)
    check_pattern(request)
    if spec.own_space and request.pattern == "processes":
        raise ExportError(f"--pattern processes: {spec.id} is not measured over processes (the pass splits fp32 and "
                          f"the int8 route); export it for bulk or online and run as many encode.py workers as "
                          f"you like")
    out = check_out_dir(request.out, request.force)
    here = detect()
    cpu, cpu_source = here, "this machine"
    if request.target:
        try:
            cpu = load_target(request.target)
        except CpuInfoError as exc:
            raise ExportError(str(exc)) from None
        cpu_source = f"--for {request.target}"
    # The hardware rules are the target's; the packages are looked up here, where the artefact is built.
    why = static_unavailability(spec, cpu)
    if why:
        where = "here" if not request.target else f"on the --for CPU ({cpu.model or cpu.arch})"
        raise ExportError(f"{spec.id} is unavailable {where}: {why}")
    try:
        model = resolve_model(request.model, allow_download=request.allow_download)
        # A static route's pipeline is model2vec's (its own tokenizer, lookup and mean), not the model's.
        pipeline = None if spec.own_space else read_pipeline(model.path)
        if pipeline is not None:
            check_cap(spec, model, pipeline)
        found, note = find_measured(request, spec, model, measured_mod)
        workload = workload_of(request, found)
    except (ModelError, WorkloadError, PipelineError) as exc:
        raise ExportError(str(exc)) from None
    if found is not None and found.workload.get("fingerprint") not in (None, workload.fingerprint) \
            and artefact_spec(spec).id in CALIBRATED_ROUTES and not request.calibration:
        found, note = None, (f"the measured texts ({found.workload.get('source')}) are not the ones given here, so "
                             f"neither is the calibration set: this artefact was not measured (pass the --texts and "
                             f"--num-texts of the `qtui bench` run)")
    calibration = calibration_texts(request, spec, workload)
    reduce_range = wants_reduce_range(artefact_spec(spec), cpu)  # a cap's run builds its base route's file
    if found is not None and bool(found.facts.get("reduce_range")) != reduce_range:
        # A run on a CPU without VNNI builds 7-bit weights, as export does for one: measured only when they match.
        had, has = (("7-bit", "full-range") if not reduce_range else ("full-range", "7-bit (reduce_range, for "
                    "the --for CPU without VNNI)"))
        found, note = None, f"the measured model had {had} weights; this one has {has} weights and was not measured"
    if found is not None and request.calibration:
        found, note = None, "calibrated on --calibration texts: this artefact was not measured"
    if found is None and request.pattern != "bulk":
        raise ExportError(f"--pattern {request.pattern}: {note}")
    if spec.rescue and not (found and isinstance(found.facts.get("kept_fp32"), list)):
        raise ExportError(f"{spec.id}: which layers stay fp32 is what a run's rescue measured, and no report here "
                          f"has it; run `qtui bench --routes {spec.id}` (or a run where int8 misses --min-cosine) "
                          f"and export again")
    per_process = (found.pattern or {}).get("threads") if found else None  # a measured split's threads
    threads = request.threads or per_process or (cpu.physical_cores or cpu.logical_cpus if request.target else None) \
        or (found.threads if found else None) or here.physical_cores or here.logical_cpus or 1
    return Checked(spec, out, model, pipeline, cpu, cpu_source, threads, calibration, workload.texts, reduce_range,
                   found, note, request, list(workload.warnings))


def check_pattern(request: ExportRequest) -> None:
    """A pattern other than bulk is set up from what this machine measured in it: no --for, and for processes no
    --threads (the split measured fixes the threads of each process)."""
    from tui.core.export.pattern import PATTERNS

    if request.pattern not in PATTERNS:
        raise ExportError(f"--pattern {request.pattern}: choose one of {', '.join(PATTERNS)}")
    if request.pattern != "bulk" and request.target:
        raise ExportError(f"--pattern {request.pattern} sets the folder up as this machine measured it; with --for "
                          f"another CPU nothing was measured: leave one of them out")
    if request.pattern == "processes" and request.threads:
        raise ExportError("--threads: with --pattern processes each process runs the threads of the split measured "
                          "(see `qtui bench --pattern processes`); leave --threads out")


def calibration_texts(request: ExportRequest, spec: RouteSpec, workload) -> list[str]:
    """The benchmark's calibration set, or --calibration's texts (static int8 only; none of them measured)."""
    from tui.core.workload import WorkloadError, load_texts

    if not request.calibration:
        return list(workload.calibration)
    if artefact_spec(spec).id not in CALIBRATED_ROUTES:
        kind = "a static model distilled from the model" if spec.own_space else "dynamic int8"
        raise ExportError(f"--calibration: {spec.id} is {kind} and uses no calibration texts (only "
                          f"{', '.join(CALIBRATED_ROUTES)} do)")
    try:
        texts = load_texts(request.calibration)
    except (OSError, WorkloadError) as exc:
        why = str(exc).replace(f"--texts {request.calibration}: ", "")  # the workload names its own flag
        raise ExportError(f"--calibration {request.calibration}: {why}") from None
    if not texts:
        raise ExportError(f"--calibration {request.calibration}: no texts in it")
    overlap = overlapping(texts, workload.texts)
    if overlap:
        raise ExportError(f"--calibration {request.calibration}: {overlap} of its {len(texts)} texts are also "
                          f"measured texts: calibrating on what is measured flatters the cosine; remove them")
    return texts


def workload_of(request: ExportRequest, found: Measured | None):
    from tui.core.workload import make_workload

    n_texts, texts_file = workload_args(request, found)
    return make_workload(n_texts, texts_file=texts_file)


def workload_args(request: ExportRequest, found: Measured | None) -> tuple[int, str | None]:
    """(number of texts, texts file) of the measured workload: as given, else as the report measured (so the
    calibration set, which is what remains of the corpus or file, is the one the benchmark built with)."""
    measured = found.workload if found is not None else {}
    texts_file = request.texts
    source = measured.get("source") or ""
    if texts_file is None and source and not source.startswith("default corpus") and Path(source).is_file():
        texts_file = source
    return request.num_texts or measured.get("texts") or 128, texts_file


def overlapping(calibration: list[str], measured: tuple[str, ...]) -> int:
    """How many calibration texts are measured texts too (ignoring case and spacing, as the workload does)."""
    key = lambda text: " ".join(text.casefold().split())  # noqa: E731
    measured_keys = {key(t) for t in measured}
    return sum(1 for t in calibration if key(t) in measured_keys)


def check_out_dir(out: str, force: bool) -> Path:
    """The target directory: absent or empty (or --force); its parent existing and writable."""
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        raise ExportError(f"--out {out}: is a file; pass a directory to create")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise ExportError(f"--out {out}: exists and is not empty; choose another directory or pass --force to "
                          f"replace it")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise ExportError(f"--out {out}: directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"--out {out}: {parent} is not writable; choose another directory")
    return path.resolve()


def find_measured(request: ExportRequest, spec: RouteSpec, model: ModelRef, measured_mod) -> tuple:
    """(Measured or None, why none): the report given, the dashboard's last run, or the latest saved here — one
    that measured the route in --pattern's call pattern."""
    from tui.core.export.pattern import bench_command

    pattern = request.pattern
    run = bench_command(pattern, spec.id) if pattern != "bulk" else f"qtui bench --routes {spec.id}"
    in_pattern = "" if pattern == "bulk" else f" with --pattern {pattern}"
    if request.report:
        from tui.core.report import ReportError, load_report

        try:
            doc = load_report(request.report)
        except ReportError as exc:
            raise ExportError(f"--report {exc}") from None
        if measured_mod.from_report(doc, spec.id, request.report) is None:
            raise ExportError(f"--report {request.report}: it has no measured {spec.id} (ok, with a speed-up); "
                              f"run `qtui bench --routes {spec.id}`")
        found = measured_mod.from_report(doc, spec.id, request.report, pattern=pattern)
        if found is None:
            missed = "choose a split for" if pattern == "processes" else "measure"
            raise ExportError(f"--report {request.report}: it did not {missed} {spec.id}{in_pattern}; run `{run}`")
        if found.workload.get("model") != model.name:
            raise ExportError(f"--report {request.report}: it measured {found.workload.get('model')}, not "
                              f"{model.name}; pass the same --model")
        return found, ""
    if request.report_doc is not None:
        found = measured_mod.from_report(request.report_doc, spec.id, "this dashboard run", model.name, pattern)
        if found is not None:
            return found, ""
    found = measured_mod.latest_saved(spec.id, model.name, request.cache_root, pattern)
    if found is not None:
        return found, ""
    return None, (f"no saved report measured {spec.id} on {model.name}{in_pattern}; run `{run}` and export again")


def ensure_measured(checked: Checked, say: Say = lambda line: None,
                    cancel: Callable[[], bool] = lambda: False) -> None:
    """No saved numbers for the route: measure it briefly, unless told not to (or built for another CPU, which
    this one cannot measure)."""
    if checked.measured is None and checked.request.measure and not checked.request.target \
            and not checked.request.calibration:
        from tui.core.export.measured import measure_briefly

        checked.measured, checked.measured_note = measure_briefly(checked, workload_of(checked.request, None),
                                                                  say, cancel)


def write(checked: Checked, say: Say = lambda line: None) -> Path:
    """Build the folder beside its target and rename it into place; on any failure nothing is left behind."""
    from tui.core.export import artefacts, manifest
    from tui.core.export.pipeline import tokenizer_files, tokenizer_settings
    from tui.core.export.standalone import encode_py

    out = checked.out
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        scratch = staging / ".scratch"
        scratch.mkdir()
        ctx = prepare_context(checked, scratch)
        started = time.monotonic()
        artefact = artefacts.build(checked.built, checked.model, ctx, staging, reduce_range=checked.reduce_range,
                                   say=say)
        if "bytes" in artefact:
            cache = ", ".join(f"{k.removesuffix('_cache')} {v}" for k, v in artefact["cache"].items())
            say(f"model {'folder' if 'folder' in artefact else 'file'} ready in {time.monotonic() - started:.1f} s "
                f"({artefact['bytes'] / 1e6:.1f} MB; cache: {cache})")
        shutil.rmtree(scratch)
        tokenizer = None  # a static route: model2vec's folder holds its own tokenizer
        if checked.pipeline is not None:
            for source in tokenizer_files(checked.model.path):
                shutil.copyfile(source, staging / source.name)
            # The model's own truncation; a length cap overrides it in runtime.max_seq_length (encode.py reads both).
            tokenizer = tokenizer_settings(checked.model.path, checked.pipeline.max_seq_length,
                                           checked.pipeline.lower_case)
        doc = manifest.build(checked, artefact, tokenizer)
        (staging / "encode.py").write_text(encode_py(checked.spec.backend), encoding="utf-8")
        (staging / "qtui-export.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        (staging / "README.md").write_text(manifest.readme(doc), encoding="utf-8")
        (staging / "requirements.txt").write_text(manifest.requirements(doc), encoding="utf-8")
        os.chmod(staging, 0o755 & ~_umask())  # mkdtemp made it 0700; the folder is meant to be shipped
        put_in_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def put_in_place(staging: Path, out: Path) -> None:
    """Rename the finished folder onto the target; a replaced (--force) target is moved aside first."""
    if out.exists() and any(out.iterdir()):
        aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, aside / out.name)
        os.replace(staging, out)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(staging, out)  # onto an empty directory, or where none was


def prepare_context(checked: Checked, scratch: Path):
    from tui.core.routes import PrepareContext

    return PrepareContext(model_dir=checked.model.path, model_fingerprint=checked.model.fingerprint,
                          threads=checked.threads, calibration=list(checked.calibration),
                          cache_root=checked.request.cache_root, scratch=scratch, keep_fp32=tuple(kept_fp32(checked)),
                          kept_dtype=str(mix_facts(checked).get("kept_dtype") or "fp32"), model_name=checked.model.name)


def kept_fp32(checked: Checked) -> list[str]:
    return list(mix_facts(checked).get("kept_fp32") or ())
