"""qtui-export.json (what was exported, measured where, what it needs), README.md and requirements.txt."""

from __future__ import annotations

import time

from tui.core.export.measured import NOT_MEASURED, describe

SCHEMA = "qtui.export/1"
# The Python packages encode.py imports, per runtime (distribution names for pip).
RUNTIME_PACKAGES = {"onnxruntime": ("onnxruntime",), "openvino": ("openvino",), "torch": ("torch", "transformers")}
COMMON_PACKAGES = ("tokenizers", "numpy")


def _versions(names) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def build(checked, artefact: dict, tokenizer: dict) -> dict:
    from tui import __version__
    from tui.core.export.pattern import BULK, runtime_settings
    from tui.core.export.target import needs, tuned_for
    from tui.core.routes import runtime_versions

    spec = checked.spec
    measured = checked.measured
    pattern = (measured.pattern if measured is not None else None) or dict(BULK)
    runtime = {"name": spec.backend, "threads": checked.threads, "batch_size": checked.request.batch_size,
               **runtime_settings(pattern, spec.backend)}
    if spec.backend == "openvino":
        from tui.core.export.measured import mix_facts
        from tui.core.routes.openvino import inference_precision

        runtime["inference_precision"] = inference_precision(spec, str(mix_facts(checked).get("kept_dtype")))
    return {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "qtui_version": __version__,
        "route": {"id": spec.id, "backend": spec.backend, "dtype": spec.dtype, "engine": spec.engine,
                  "granularity": spec.granularity, "summary": spec.summary},
        "model": {"name": checked.model.name, "path": str(checked.model.path),
                  "fingerprint": checked.model.fingerprint},
        "artefact": artefact,
        "pipeline": checked.pipeline.to_json(),
        "tokenizer": tokenizer,
        "pattern": pattern,
        "runtime": runtime,
        "requires": _versions(RUNTIME_PACKAGES[spec.backend] + COMMON_PACKAGES),
        "exported_with": runtime_versions(),
        "cpu": {"built_for": checked.cpu.to_json(), "built_for_source": checked.cpu_source,
                "arch": checked.cpu.arch, "needs": needs(spec, checked.cpu, checked.reduce_range),
                "tuned_for": tuned_for(spec, checked.cpu)},
        "calibration_texts": len(checked.calibration) if _calibrated(spec) else None,
        "measured": measured.to_json() if measured is not None else NOT_MEASURED,
        "measured_note": checked.measured_note or None,
    }


def _calibrated(spec) -> bool:
    from tui.core.export.artefacts import CALIBRATED_ROUTES

    return spec.id in CALIBRATED_ROUTES


def requirements(doc: dict) -> str:
    return "".join(f"{name}=={v}\n" for name, v in doc["requires"].items() if v != "not installed")


def readme(doc: dict) -> str:
    route, measured, cpu = doc["route"], doc["measured"], doc["cpu"]
    runtime = doc["runtime"]
    built_for = cpu["built_for"]
    split = (doc.get("pattern") or {}).get("name") == "processes"
    as_measured = isinstance(measured, dict) and (split or measured.get("threads") == runtime["threads"])
    cpu_name = f"{built_for.get('model') or built_for['arch']} ({', '.join(built_for['features']) or 'no SIMD listed'})"
    lines = [
        f"# {route['id']} — {doc['model']['name']}",
        "",
        f"Exported by qtui {doc['qtui_version']} on {doc['created']}: {route['summary']}.",
        "",
        "## Load it",
        "",
        "```sh",
        "pip install -r requirements.txt",
        "python encode.py < texts.txt        # one vector per line of input",
        "```",
        "",
        "```python",
        "import sys; sys.path.insert(0, 'path/to/this/folder')",
        "from encode import load",
        "model = load()                       # or load('path/to/this/folder', threads=4)",
        "vectors = model.encode(['an example sentence'])",
        "```",
        "",
        f"`encode.py` uses only {', '.join(doc['requires'])}. It runs {runtime['threads']} "
        f"thread{'' if runtime['threads'] == 1 else 's'} "
        f"({('per process, as the split measured' if split else 'as measured') if as_measured else 'as set at export'})"
        f", pools ({doc['pipeline']['pooling']}) and "
        f"{'normalises' if doc['pipeline']['normalize'] else 'does not normalise'} as the model's "
        f"sentence-transformers config says ({', '.join(doc['pipeline']['read_from'])}).",
        "",
    ]
    if route["backend"] == "torch":
        base = doc["artefact"]["base_model"]
        lines += [f"No weights here: `encode.py` loads the base model from `{base['path']}` (set "
                  f"QTUI_EXPORT_MODEL_DIR to another copy of it) and quantizes it at load with "
                  f"`quantize_dynamic` (engine {doc['artefact']['engine']}, {doc['artefact']['granularity']} "
                  f"weights). Pickled quantized modules break across torch versions; settings do not.", ""]
    lines += run_as_measured(doc)
    lines += ["## Measured", ""]
    if isinstance(measured, dict):
        mcpu = measured["measured_on"]
        lines += [f"{describe(measured)}.", "",
                  f"On {mcpu.get('model') or mcpu.get('arch')} ({', '.join(mcpu.get('features', []))}), "
                  f"{measured['workload'].get('texts')} texts, batch {measured['batch_size']}; "
                  f"from {measured['report']}.", ""]
    else:
        lines += [f"{NOT_MEASURED}: {doc['measured_note'] or 'no report'}.", ""]
    lines += ["## CPU", "", f"Built for {cpu_name} ({cpu['built_for_source']})."]
    for label, rules in (("needs", cpu["needs"]), ("tuned for", cpu["tuned_for"])):
        lines += [f"- {label} one of {', '.join(rule['any_of'])}: {rule['why']}." for rule in rules]
    lines += ["", "`encode.py` warns on stderr when the CPU it runs on lacks these.", ""]
    return "\n".join(lines)


def run_as_measured(doc: dict) -> list[str]:
    """README lines for a folder set up for --pattern online or processes: how a service should call it."""
    from tui.core.export.pattern import words
    from tui.core.processes import split_words

    pattern, runtime = doc.get("pattern") or {}, doc["runtime"]
    if pattern.get("name") not in ("online", "processes"):
        return []
    lines = ["## How to call it", "", f"Set up for {words(pattern)}.", ""]
    if pattern["name"] == "online":
        quantiles = ", ".join(f"{q} {pattern[q]['ms']:.1f} ms" for q in ("p50", "p95", "p99"))
        tail = "" if pattern.get("tail_resolved") else " (p99 not resolved: too few calls)"
        return lines + [f"Over {pattern['calls']:,} single-text calls: {quantiles}{tail}. Call `model.encode([text])` "
                        f"per query; the threads are the ones the latency was measured with.", ""]
    count, threads = runtime["processes"], runtime["threads"]
    lines.append(f"Run {split_words(count, threads)} each: `encode.py` loads with {threads} thread"
                 f"{'' if threads == 1 else 's'} per process, and `encode_in_processes(texts)` (also what `python "
                 f"encode.py < texts.txt` uses) spreads the texts over {count} processes. A server runs {count} "
                 f"workers instead (e.g. `gunicorn --workers {count}`), each calling `load()`.")
    if runtime.get("cpu_pinning") is False:
        lines.append("\nCPU pinning is off: OpenVINO pins each process's threads to the same cores otherwise, and "
                     "the processes then share them.")
    if runtime.get("performance_hint") == "THROUGHPUT":
        lines.append("\nOpenVINO runs with the THROUGHPUT hint: `encode` keeps the plugin's optimal number of infer "
                     "requests in flight, a batch each.")
    return lines + [""]
