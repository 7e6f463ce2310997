"""Do shapes fixed per batch help ONNX Runtime and OpenVINO? Dynamic shapes (what qtui's routes run) against
two fixed-shape variants of the same artefact, alternated round by round on the same texts and batches:

- exact:   one static-shape compilation per (batch, length) the run meets — what fixing shapes gains by itself;
- bucketN: lengths padded up to a multiple of N, one compilation per bucket — what a service would deploy,
           paying for the extra padded tokens.

OpenVINO gets static shapes by `model.reshape`; ONNX Runtime by a session per shape with the free dimensions
`batch` and `sequence` overridden (`add_free_dimension_override_by_name`). Compilation is preparation and is
not timed. Speed-ups are the median of per-round ratios (dynamic time / variant time), so >1 means the fixed
shapes are faster. Writes JSON (default benchmarks/results/fixed_shapes.json).
Usage: python benchmarks/fixed_shapes.py [--rounds 9] [--threads 2] [--buckets 8,16] [--out PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, write_result  # noqa: E402

ROUTES = ("ort-qint8", "openvino-int8", "openvino-fp32")


def padded(feeds: dict, step: int) -> dict:
    import numpy as np

    if step <= 1:
        return feeds
    length = next(iter(feeds.values())).shape[1]
    target = -(-length // step) * step  # zeros are padding: attention_mask 0 keeps them out of the pooling
    return {name: np.pad(v, ((0, 0), (0, target - length))) for name, v in feeds.items()}


class StaticOpenVino:
    """The route's IR recompiled for each shape met."""

    def __init__(self, encoder) -> None:
        import openvino as ov

        from tui.core.openvino_route import compile_config

        self.core, self.model = ov.Core(), ov.Core().read_model(str(encoder.artefact))
        self.config = compile_config(encoder.threads, encoder.inference_precision)
        self.compiled: dict[tuple, tuple] = {}

    def prepare(self, feeds: dict) -> None:
        import openvino as ov

        shape = next(iter(feeds.values())).shape
        if shape not in self.compiled:
            model = self.model.clone()
            model.reshape({port.get_any_name(): ov.PartialShape(list(shape)) for port in model.inputs})
            compiled = self.core.compile_model(model, "CPU", self.config)
            self.compiled[shape] = (compiled, compiled.create_infer_request())

    def __call__(self, feeds: dict):
        compiled, request = self.compiled[next(iter(feeds.values())).shape]
        return request.infer(feeds)[compiled.output(0)]


class StaticOrt:
    """A session per shape met, with the graph's free dimensions fixed to it."""

    def __init__(self, encoder) -> None:
        self.path, self.threads, self.sessions = encoder.artefact, encoder.threads, {}
        self.dynamic = self.session()  # the shape-free reference, with the same session options

    def session(self, shape: tuple | None = None):
        import onnxruntime as ort

        from tui.core.onnx_route import session_options

        options = session_options(self.threads)
        if shape:
            options.add_free_dimension_override_by_name("batch", shape[0])
            options.add_free_dimension_override_by_name("sequence", shape[1])
        # Idle sessions' threads would spin-wait while another session runs, starving it on few cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(self.path), sess_options=options, providers=["CPUExecutionProvider"])

    def prepare(self, feeds: dict) -> None:
        shape = next(iter(feeds.values())).shape
        if shape not in self.sessions:
            self.sessions[shape] = self.session(shape)

    def run_dynamic(self, feeds: dict):
        return self.dynamic.run(None, feeds)[0]

    def __call__(self, feeds: dict):
        return self.sessions[next(iter(feeds.values())).shape].run(None, feeds)[0]


def batches(encoder, texts: list[str], batch_size: int) -> list[dict]:
    from tui.core.onnx_route import batches_by_length

    return [encoder.tokenize([texts[i] for i in idx], encoder.input_names)
            for idx in batches_by_length(texts, batch_size)]


def timed(run, feeds_list: list[dict]) -> float:
    start = time.perf_counter()
    for feeds in feeds_list:
        run(feeds)
    return time.perf_counter() - start


def prepare_route(route_id: str, model, workload, threads: int, scratch: Path):
    from tui.core.routes import ROUTES, prepare
    from tui.core.routes.base import PrepareContext

    ctx = PrepareContext(model_dir=model.path, model_fingerprint=model.fingerprint, threads=threads,
                         calibration=list(workload.calibration), cache_root=None, scratch=scratch)
    return prepare(ROUTES[route_id], ctx)


def measure_route(encoder, texts: list[str], batch_size: int, buckets: list[int], rounds: int) -> dict:
    import numpy as np

    static = StaticOpenVino(encoder) if encoder.artefact.suffix == ".xml" else StaticOrt(encoder)
    # ORT's reference is a session with the static ones' options (no spinning), so only the shapes differ.
    run_dynamic = getattr(static, "run_dynamic", encoder._run)
    dynamic_feeds = batches(encoder, texts, batch_size)
    variants = {"exact": dynamic_feeds, **{f"bucket{b}": [padded(f, b) for f in dynamic_feeds] for b in buckets}}
    start = time.perf_counter()
    for feeds_list in variants.values():
        for feeds in feeds_list:
            static.prepare(feeds)
    compile_s = time.perf_counter() - start
    reference = np.concatenate([run_dynamic(f) for f in dynamic_feeds])
    agree = {name: float(np.abs(np.concatenate([static(f) for f in fl]) - reference).max())
             for name, fl in variants.items()}
    times: dict[str, list[float]] = {"dynamic": [], **{name: [] for name in variants}}
    timed(run_dynamic, dynamic_feeds)  # warm the dynamic path as the variants were warmed by compiling
    for _ in range(rounds):
        times["dynamic"].append(timed(run_dynamic, dynamic_feeds))
        for name, feeds_list in variants.items():
            times[name].append(timed(static, feeds_list))
    compilations = len(static.compiled if hasattr(static, "compiled") else static.sessions)
    out = {"compilations": compilations, "compile_s_each": round(compile_s / compilations, 3),
           "dynamic_ms": round(statistics.median(times["dynamic"]) * 1e3, 1)}
    for name in variants:
        ratios = [d / v for d, v in zip(times["dynamic"], times[name], strict=True)]
        out[name] = {"median_ms": round(statistics.median(times[name]) * 1e3, 1),
                     "speedup_vs_dynamic": round(statistics.median(ratios), 3),
                     "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
                     "max_abs_diff_vs_dynamic": agree[name]}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--buckets", default="8,16", help="pad lengths to a multiple of each (default 8,16)")
    parser.add_argument("--out", default=str(RESULTS / "fixed_shapes.json"))
    args = parser.parse_args()
    buckets = [int(b) for b in args.buckets.split(",") if b.strip()]

    from tui.core.models import resolve_model
    from tui.core.workload import make_workload

    model, workload = resolve_model(None), make_workload(256)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for route_id in ROUTES:
            print(f"{route_id}: preparing and compiling fixed shapes…", file=sys.stderr)
            encoder = prepare_route(route_id, model, workload, args.threads, Path(scratch))
            results[route_id] = measure_route(encoder, list(workload.texts), args.batch_size, buckets, args.rounds)
    doc = {"benchmark": "fixed_shapes", "threads": args.threads, "batch_size": args.batch_size,
           "texts": len(workload.texts), "rounds": args.rounds, "routes": results}
    out = write_result(args.out, doc)
    for route_id, r in results.items():
        cells = "  ".join(f"{name} {v['speedup_vs_dynamic']:.2f}× (max |Δ| {v['max_abs_diff_vs_dynamic']:.1e})"
                          for name, v in r.items() if isinstance(v, dict))
        print(f"{route_id:<15} dynamic {r['dynamic_ms']:7.1f} ms   {cells}   "
              f"({r['compile_s_each']:.2f} s per compile)")
    print(f"→ {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
