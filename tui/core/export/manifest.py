"""qtui-export.json (what was exported, measured where, what it needs), README.md and requirements.txt."""

from __future__ import annotations

import time

from tui.core.export.measured import NOT_MEASURED, describe

SCHEMA = "qtui.export/1"
# The Python packages encode.py imports, per runtime (distribution names for pip).
RUNTIME_PACKAGES = {"onnxruntime": ("onnxruntime",), "openvino": ("openvino",), "torch": ("torch", "transformers"),
                    "model2vec": ("model2vec",)}
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

    spec, built = checked.spec, checked.built
    measured = checked.measured
    pattern = (measured.pattern if measured is not None else None) or dict(BULK)
    runtime = {"name": spec.backend, "threads": checked.threads, "batch_size": checked.request.batch_size,
               **runtime_settings(pattern, spec.backend)}
    route = {"id": spec.id, "backend": spec.backend, "dtype": spec.dtype, "engine": spec.engine,
             "granularity": spec.granularity, "summary": spec.summary}
    if spec.max_seq_length is not None:  # a length cap: encode.py's tokenizer truncates there, not at the model's
        route.update(base=spec.base, max_seq_length=spec.max_seq_length)
        runtime["max_seq_length"] = spec.max_seq_length
    if spec.own_space:
        route["own_space"] = True  # its vectors are not comparable with the base model's
    if spec.backend == "openvino":
        from tui.core.export.measured import mix_facts
        from tui.core.routes.openvino import inference_precision

        runtime["inference_precision"] = inference_precision(spec, str(mix_facts(checked).get("kept_dtype")))
    return {
        "schema": SCHEMA,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "qtui_version": __version__,
        "route": route,
        "model": {"name": checked.model.name, "path": str(checked.model.path),
                  "fingerprint": checked.model.fingerprint},
        "artefact": artefact,
        "pipeline": checked.pipeline.to_json() if checked.pipeline is not None else static_pipeline(artefact),
        "tokenizer": tokenizer,
        "pattern": pattern,
        "runtime": runtime,
        "requires": _versions(RUNTIME_PACKAGES[spec.backend] + COMMON_PACKAGES),
        "exported_with": runtime_versions(),
        "cpu": {"built_for": checked.cpu.to_json(), "built_for_source": checked.cpu_source,
                "arch": checked.cpu.arch, "needs": needs(built, checked.cpu, checked.reduce_range),
                "tuned_for": tuned_for(spec, checked.cpu)},
        "calibration_texts": len(checked.calibration) if _calibrated(built) else None,
        "measured": measured.to_json() if measured is not None else NOT_MEASURED,
        "measured_note": checked.measured_note or None,
    }


def static_pipeline(artefact: dict) -> dict:
    """A static route's pipeline: model2vec's, from its folder's config.json (tokenize, look up, mean, normalise)."""
    config = artefact["model2vec"]
    return {"pooling": f"{config.get('pooling') or 'mean'} of static token vectors",
            "normalize": bool(config.get("normalize")), "max_seq_length": config.get("max_length"),
            "read_from": [f"{artefact['folder']}/config.json"]}


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
        *([f"**Its vectors are in a space of their own**, not comparable with {doc['model']['name']}'s: embed the "
           f"corpus and the queries with this folder (see below).", ""] if route.get("own_space") else []),
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
    ]
    how = ("per process, as the split measured" if split else "as measured") if as_measured else "as set at export"
    threads = f"{runtime['threads']} thread{'' if runtime['threads'] == 1 else 's'} ({how})"
    pipeline = doc["pipeline"]
    normalises = "normalises" if pipeline["normalize"] else "does not normalise"
    if route.get("own_space"):
        lines += [f"`encode.py` uses only {', '.join(doc['requires'])}. It loads model2vec's own folder "
                  f"`{doc['artefact']['folder']}/` with `StaticModel.from_pretrained(folder, force_download=False)` "
                  f"and encodes as the route did: each text's tokens looked up and averaged "
                  f"({pipeline['pooling']}), and {normalises} as `{', '.join(pipeline['read_from'])}` says; no "
                  f"transformer runs. Its tokenizer runs {threads}.", ""]
        lines += own_space(doc)
    else:
        lines += [f"`encode.py` uses only {', '.join(doc['requires'])}. It runs {threads}, pools "
                  f"({pipeline['pooling']}) and {normalises} as the model's sentence-transformers config says "
                  f"({', '.join(pipeline['read_from'])}).", ""]
    if route.get("max_seq_length"):
        lines += [f"Inputs are cut at {route['max_seq_length']} tokens: this is {route['base']} with a length cap "
                  f"(`{route['id']}`), the same artefact, its tokenizer truncating at runtime.max_seq_length in "
                  f"qtui-export.json instead of the model's {pipeline['max_seq_length']}. Longer texts are read only "
                  f"in part; the accuracy measured is the capped route's.", ""]
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


def own_space(doc: dict) -> list[str]:
    """README lines for a static route: its vectors are not the base model's, and how much of a task it keeps."""
    from tui.core.accuracy_gate import OTHER_SPACE

    measured, config = doc["measured"], doc["artefact"]["model2vec"]
    task = (measured.get("task") if isinstance(measured, dict) else None) or {}
    if task.get("kept"):
        judged = f"The task judges it instead: it {task['said']}."
    elif task:
        judged = f"On {task['name']}: {task['metric']} {task['score']:.4f} (fp32's was not measured beside it)."
    else:
        judged = (f"No task was measured, so nothing here says how much accuracy it keeps: `qtui bench --routes "
                  f"{doc['route']['id']} --task stsb` (or your own labelled pairs) measures it.")
    return ["## Its own vector space", "",
            f"These vectors are not comparable with {doc['model']['name']}'s: model2vec distilled the model into "
            f"static token vectors ({config.get('hidden_dim')} dimensions after PCA), a space of their own. Do not "
            f"mix them with the base model's in one index: embed the corpus and the queries with this folder. Cosine "
            f"to fp32: {OTHER_SPACE}. {judged}", ""]


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
