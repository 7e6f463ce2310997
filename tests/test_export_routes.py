"""Acceptance of `qtui export`: for each route, the exported folder's encode.py runs in a Python where `import tui`
fails, and its vectors match qtui's own route output (cosine ≥ 0.9999) and fp32 to within 0.001 of the cosine the
benchmark measured.

One `qtui bench` measures the four routes first (with a length-capped one and the static route), into a cache and
report history of the test's own; each export then finds that report in the history (no --report) and takes the
model file from that cache. The isolated Python: `-S` skips site-packages' .pth files (the editable install of qtui
is one), PYTHONPATH gives back only the venv's site-packages, and the script runs from the exported folder, outside
the repository.

static-m2v's cache entry is copied in before the bench from the session's shared cache, where model2vec's real
distillation is built once (it costs 20–80 s on 2 cores; tests/core/test_frontier_run.py uses the same entry).
"""

import json
import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from tui.core.cpu import detect
from tui.core.routes import ROUTES as SPECS
from tui.core.routes.onnx import wants_reduce_range

pytestmark = pytest.mark.slow
CAPPED = "torch-qint8-x86@len16"  # the cheapest route to cap: no artefact to build
ROUTES = ("torch-qint8-x86", "torch-qint8-x86-perchannel", "ort-qint8", "openvino-int8", CAPPED)
BENCHED = (*ROUTES, "static-m2v")
NUM_TEXTS, BATCH, THREADS = 32, 32, 2
LONG_TEXT = ("The quarterly maintenance window for the payment service moved to Saturday night, because the database "
             "migration needs more time than the team had planned for it.")  # well over 16 tokens
# Runs encode.py as `python encode.py < texts` would, after proving this interpreter cannot import qtui.
ISOLATED_MAIN = (
    "import runpy, sys\n"
    "try:\n    import tui\nexcept ModuleNotFoundError:\n    pass\n"
    "else:\n    sys.exit(f'tui is importable here: {tui.__file__}')\n"
    "sys.argv = [sys.argv[1]]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n")


def seed_static_distillation(cache: Path, shared: Path) -> None:
    """static-m2v's artefact: model2vec's real distillation, built once per test session in the shared cache
    (tests/core/test_frontier_run.py reads it too; the cache's lock lets one of them build it) and copied into this
    test's own cache, whose report history must hold this file's report alone."""
    import shutil

    import tui.core.routes.static as static
    from tui.core.models import resolve_model
    from tui.core.routes import PrepareContext

    model = resolve_model(None)
    scratch = cache.parent / "seed-scratch"
    scratch.mkdir()
    ctx = PrepareContext(model_dir=model.path, model_fingerprint=model.fingerprint, threads=THREADS, calibration=[],
                         cache_root=shared, scratch=scratch, model_name=model.name)
    entry = static.model_folder(ctx).parent
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copytree(entry, cache / entry.name)


@pytest.fixture(scope="module")
def measured(tmp_path_factory, shared_cache_root):
    """(environment with the test's cache, the bench report) after one short `qtui bench` of the routes."""
    where = tmp_path_factory.mktemp("export")
    env = dict(os.environ, QTUI_CACHE_DIR=str(where / "cache"))
    seed_static_distillation(where / "cache", shared_cache_root)
    result = subprocess.run([sys.executable, "-m", "tui", "bench", "--routes", ",".join(BENCHED), "--num-texts",
                             str(NUM_TEXTS), "--batch-size", str(BATCH), "--threads", str(THREADS), "--rounds", "3",
                             "--time-budget", "5", "--quick", "--json", str(where / "r.json")],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return where, env, json.loads((where / "r.json").read_text())


def isolated_encode(folder: Path, texts: list[str]) -> np.ndarray:
    site = sysconfig.get_paths()["purelib"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "QTUI"))}
    env["PYTHONPATH"] = site
    result = subprocess.run([sys.executable, "-S", "-c", ISOLATED_MAIN, str(folder / "encode.py")],
                            input="\n".join(texts) + "\n", capture_output=True, text=True, cwd=folder, env=env,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-500:] + result.stderr[-2000:]
    assert "warning" not in result.stderr  # this CPU is the one the export was built for
    return np.array([[float(x) for x in line.split()] for line in result.stdout.splitlines()], dtype=np.float32)


def qtui_route_output(route_id: str, cache: Path, texts: list[str]) -> np.ndarray:
    """The route as the benchmark's worker builds and runs it (same cache, so the same model file)."""
    from tui.core.models import resolve_model
    from tui.core.routes import PrepareContext, prepare
    from tui.core.workload import make_workload

    model = resolve_model(None)
    ctx = PrepareContext(model_dir=model.path, model_fingerprint=model.fingerprint, threads=THREADS,
                         calibration=list(make_workload(NUM_TEXTS).calibration), cache_root=cache,
                         scratch=cache.parent)
    return prepare(SPECS[route_id], ctx).encode(texts, BATCH)


def export_once(where: Path, env: dict, route_id: str) -> Path:
    """`qtui export ROUTE --out ROUTE` in the module's folder (the first test to need it writes it)."""
    folder = where / route_id
    if not folder.exists():
        result = subprocess.run([sys.executable, "-m", "tui", "export", route_id, "--out", str(folder)],
                                capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        (where / f"{route_id}.stderr").write_text(result.stderr)  # its progress lines, for the tests to read
    return folder


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def fp32_and_texts():
    from tui.core.models import load_sentence_transformer, resolve_model
    from tui.core.workload import make_workload

    texts = list(make_workload(NUM_TEXTS).texts)  # the texts the bench measured the cosine on
    model = load_sentence_transformer(resolve_model(None).path)
    return texts, model.encode(texts, batch_size=BATCH, show_progress_bar=False)


@pytest.mark.parametrize("route_id", ROUTES)
def test_exported_route_runs_without_qtui_and_matches_what_was_measured(measured, fp32_and_texts, route_id):
    where, env, report = measured
    texts, fp32 = fp32_and_texts
    route = next(r for r in report["routes"] if r["id"] == route_id)
    if route["status"] != "ok":  # e.g. x86 engines on an ARM host: the export must refuse it, saying why
        result = subprocess.run([sys.executable, "-m", "tui", "export", route_id, "--out", str(where / route_id)],
                                capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
        assert result.returncode == 2 and "unavailable here" in result.stderr
        return
    folder = export_once(where, env, route_id)
    manifest = json.loads((folder / "qtui-export.json").read_text())
    assert manifest["measured"]["speedup_vs_torch_fp32"] == route["speedup"]["point"]  # from the saved report
    assert manifest["runtime"]["threads"] == THREADS  # as measured

    vectors = isolated_encode(folder, texts)
    assert vectors.shape == fp32.shape
    ours = qtui_route_output(route_id, Path(env["QTUI_CACHE_DIR"]), texts)
    assert row_cosines(vectors, ours).min() >= 0.9999
    measured_cosine = manifest["measured"]["cosine_mean"]
    assert measured_cosine == route["accuracy"]["cosine_mean"]
    assert abs(float(row_cosines(vectors, fp32).mean()) - measured_cosine) <= 0.001


def test_a_capped_export_records_its_cap_and_encode_py_cuts_there(measured):
    where, env, report = measured
    capped_route = next(r for r in report["routes"] if r["id"] == CAPPED)
    if capped_route["status"] != "ok":  # an x86 engine: unavailable on other CPUs, and the report says why
        assert capped_route["status"] == "unavailable" and "x86" in capped_route["why"]
        return
    folder = export_once(where, env, CAPPED)
    manifest = json.loads((folder / "qtui-export.json").read_text())
    assert manifest["route"]["max_seq_length"] == manifest["runtime"]["max_seq_length"] == 16
    assert manifest["route"]["base"] == "torch-qint8-x86" and manifest["tokenizer"]["max_length"] == 256
    vectors = isolated_encode(folder, [LONG_TEXT])
    cache = Path(env["QTUI_CACHE_DIR"])
    capped, uncapped = (qtui_route_output(rid, cache, [LONG_TEXT]) for rid in (CAPPED, "torch-qint8-x86"))
    assert row_cosines(vectors, capped).min() >= 0.9999
    assert row_cosines(vectors, uncapped).max() < 0.99  # read only in part: not the uncapped route's vector


def test_the_static_route_exports_model2vecs_folder_that_runs_without_qtui(measured, fp32_and_texts):
    from importlib.metadata import version

    from tui.core.accuracy_gate import OTHER_SPACE
    from tui.core.cache import _sha256

    where, env, report = measured
    route = next(r for r in report["routes"] if r["id"] == "static-m2v")
    assert route["status"] == "ok", route["why"]
    folder = export_once(where, env, "static-m2v")
    assert "model2vec folder from the artefact cache" in (where / "static-m2v.stderr").read_text()
    manifest = json.loads((folder / "qtui-export.json").read_text())
    assert manifest["measured"]["speedup_vs_torch_fp32"] == route["speedup"]["point"]
    assert manifest["measured"]["cosine_mean"] is None and manifest["artefact"]["cache"] == {"static-m2v_cache": "hit"}
    files = manifest["artefact"]["files"]
    assert {"model/model.safetensors", "model/tokenizer.json", "model/config.json"} <= {f["file"] for f in files}
    assert all(_sha256(folder / f["file"]) == f["sha256"] for f in files)
    assert not (folder / "tokenizer.json").exists() and manifest["tokenizer"] is None  # model2vec's own, in model/
    assert f"model2vec=={version('model2vec')}" in (folder / "requirements.txt").read_text().splitlines()
    readme = (folder / "README.md").read_text()
    assert "space of their own" in readme and OTHER_SPACE in readme

    texts, _ = fp32_and_texts
    vectors = isolated_encode(folder, texts)
    ours = qtui_route_output("static-m2v", Path(env["QTUI_CACHE_DIR"]), texts)
    assert vectors.shape == ours.shape == (len(texts), 256)
    assert row_cosines(vectors, ours).min() >= 0.9999


def with_processes_chosen(doc: dict, route_id: str, split: tuple[int, int], variant: str | None) -> dict:
    """The measured report plus a --pattern processes section (round times chosen, not measured) in which
    `route_id` as `split` with `variant` has the most throughput, so that is what its recommendation names."""
    from tui.core import processes

    gid = processes.variant_id(route_id, variant) if variant else route_id
    points = []
    for each in ((1, THREADS), split) if split != (1, THREADS) else ((1, THREADS),):
        groups = {"torch-fp32": 2.0, route_id: 0.5} | ({gid: 0.3} if each == split else {})
        points.append(processes.point(each, {g: {"status": "ok", "threads_used": each[1], "facts": {},
                                                 "seconds": [s * w for w in (0.98, 1.0, 1.02, 0.99)]}
                                             for g, s in groups.items()}, NUM_TEXTS, "torch-fp32", route_id))
    section = processes.document(baseline="torch-fp32", route=route_id, route_why="chosen by the test",
                                 variant_route=route_id if variant else None, threads=THREADS,
                                 splits=tuple((p["processes"], p["threads"]) for p in points),
                                 rounds=4, points=points)
    return {**doc, "processes": section}


ISOLATED_SETTINGS = (  # prints what the folder's encoder was compiled with, where qtui cannot be imported
    "import json, sys\n"
    "import openvino as ov\n"
    "sys.path.insert(0, '.')\n"
    "from encode import load\n"
    "run = load().run\n"
    "print(json.dumps({'pinning': run.compiled.get_property('ENABLE_CPU_PINNING'),\n"
    "                  'default_pinning': ov.Core().get_property('CPU', 'ENABLE_CPU_PINNING'),\n"
    "                  'hint': str(run.compiled.get_property('PERFORMANCE_HINT')),\n"
    "                  'in_flight': hasattr(run, 'many')}))\n")


@pytest.mark.parametrize("split, variant", [((2, 1), "unpinned"), ((1, THREADS), "throughput")])
def test_a_folder_set_up_for_processes_runs_the_split_and_setting_chosen(measured, fp32_and_texts, tmp_path,
                                                                         split, variant):
    where, env, report = measured
    if next(r for r in report["routes"] if r["id"] == "openvino-int8")["status"] != "ok":
        pytest.fail("openvino-int8 did not run here: the processes export has nothing to set up")
    chosen = tmp_path / "processes.json"
    chosen.write_text(json.dumps(with_processes_chosen(report, "openvino-int8", split, variant)))
    folder = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "tui", "export", "openvino-int8", "--out", str(folder),
                             "--pattern", "processes", "--report", str(chosen)],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((folder / "qtui-export.json").read_text())
    runtime = manifest["runtime"]
    assert (runtime["processes"], runtime["threads"]) == split and manifest["pattern"]["variant"] == variant
    assert f"{split[0]} process" in result.stderr.splitlines()[-1]
    assert "## How to call it" in (folder / "README.md").read_text()

    texts, _ = fp32_and_texts
    vectors = isolated_encode(folder, texts)  # python encode.py: encode_in_processes over the split's processes
    ours = qtui_route_output("openvino-int8", Path(env["QTUI_CACHE_DIR"]), texts)
    assert row_cosines(vectors, ours).min() >= 0.9999
    site_only = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "QTUI"))}
    ran = subprocess.run([sys.executable, "-S", "-c", ISOLATED_SETTINGS], capture_output=True, text=True,
                         cwd=folder, env={**site_only, "PYTHONPATH": sysconfig.get_paths()["purelib"]}, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    compiled = json.loads(ran.stdout)
    assert compiled["pinning"] is (False if variant == "unpinned" else compiled["default_pinning"])
    assert (compiled["hint"] == "THROUGHPUT") is (variant == "throughput")
    assert compiled["in_flight"] is (variant == "throughput")


def test_processes_need_a_report_that_chose_a_split_for_the_route(measured, tmp_path):
    where, env, report = measured
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(report))
    for extra, said in ((["--report", str(plain)], "it did not choose a split for ort-qint8 with --pattern "
                                                   "processes; run `qtui bench --pattern processes --routes "
                                                   "torch-fp32,ort-qint8`"),
                        (["--threads", "1"], "--threads: with --pattern processes")):
        result = subprocess.run([sys.executable, "-m", "tui", "export", "ort-qint8", "--out", str(tmp_path / "o"),
                                 "--pattern", "processes", *extra], capture_output=True, text=True, cwd=ROOT,
                                env=env, timeout=120)
        assert result.returncode == 2 and said in result.stderr and len(result.stderr.splitlines()) == 1
        assert not (tmp_path / "o").exists()


def test_the_short_recipe_the_terminal_prints_runs_as_printed(measured):
    """`qtui explain` and `qtui bench` print `$ qtui export ROUTE --out ROUTE` and the Python that loads the folder:
    the command run as given from an empty directory, then those lines where qtui cannot be imported."""
    from tui.core.recipes import recipe_for

    where, env, report = measured
    short = recipe_for("ort-qint8", report["workload"]["model"], THREADS).short
    (command,) = [line.removeprefix("$ ") for line in short.splitlines() if line.startswith("$ ")]
    words = shlex.split(command, comments=True)
    assert words[0] == "qtui"
    folder = where / "short-recipe"
    folder.mkdir()
    result = subprocess.run([sys.executable, "-m", "tui", *words[1:]], capture_output=True, text=True, cwd=folder,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    script = folder / "service.py"
    script.write_text("\n".join(line for line in short.splitlines() if not line.startswith("$ "))
                      + "\nprint(vectors.shape)\n")
    site_only = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "QTUI"))}
    ran = subprocess.run([sys.executable, "-S", "-c", ISOLATED_MAIN, str(script)], capture_output=True, text=True,
                         cwd=folder, env={**site_only, "PYTHONPATH": sysconfig.get_paths()["purelib"]}, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.strip() == "(1, 384)"


def test_the_isolated_python_really_cannot_import_qtui(tmp_path):
    """The check the acceptance runs in: -S with only site-packages on the path; without -S, qtui imports."""
    env = {"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": os.environ.get("PATH", "")}
    isolated = subprocess.run([sys.executable, "-S", "-c", "import tui"], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=60)
    assert isolated.returncode != 0 and "No module named 'tui'" in isolated.stderr
    normal = subprocess.run([sys.executable, "-c", "import tui"], cwd=tmp_path, env=env, timeout=60)
    assert normal.returncode == 0  # the same interpreter finds it through the editable install's .pth
    script = tmp_path / "encode.py"
    script.write_text("print('ran')\n")
    wrapped = subprocess.run([sys.executable, "-S", "-c", ISOLATED_MAIN, str(script)], capture_output=True,
                             text=True, cwd=tmp_path, env=env, timeout=60)
    assert wrapped.returncode == 0 and wrapped.stdout == "ran\n", wrapped.stderr
    unwrapped = subprocess.run([sys.executable, "-c", ISOLATED_MAIN, str(script)], capture_output=True, text=True,
                               cwd=tmp_path, env=env, timeout=60)
    assert unwrapped.returncode != 0 and "tui is importable here" in unwrapped.stderr  # the guard does guard


def test_for_a_server_without_vnni_builds_reduce_range_and_says_it_was_not_measured(measured):
    where, env, _ = measured
    haswell = ROOT / "tests" / "fixtures" / "cpuinfo" / "intel-haswell-e5-2680v3.txt"
    folder = where / "for-haswell"
    result = subprocess.run([sys.executable, "-m", "tui", "export", "ort-qint8", "--out", str(folder), "--for",
                             str(haswell)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((folder / "qtui-export.json").read_text())
    assert manifest["artefact"]["reduce_range"] is True and manifest["artefact"]["quantization"]["reduce_range"]
    assert manifest["cpu"]["needs"] == [] and manifest["cpu"]["built_for"]["model"].startswith("Intel")
    assert manifest["runtime"]["threads"] == manifest["cpu"]["built_for"]["physical_cores"]
    here = json.loads(subprocess.run([sys.executable, "-m", "tui", "export", "ort-qint8", "--out",
                                      str(where / "here"), "--no-measure"], capture_output=True, text=True,
                                     cwd=ROOT, env=env, timeout=600).returncode == 0 and
                      (where / "here" / "qtui-export.json").read_text())
    if wants_reduce_range(SPECS["ort-qint8"], detect()):
        # This host lacks VNNI too: its run built (and measured) the same 7-bit file the Haswell gets.
        assert here["artefact"]["reduce_range"] is True and here["artefact"]["sha256"] == manifest["artefact"]["sha256"]
        assert isinstance(manifest["measured"], dict) and manifest["measured"]["speedup_vs_torch_fp32"] > 0
    else:
        # A different file from the one measured here (full-range weights), and said to be unmeasured.
        assert manifest["measured"] == "not measured" and "reduce_range" in manifest["measured_note"]
        assert here["artefact"]["reduce_range"] is False
        assert here["artefact"]["sha256"] != manifest["artefact"]["sha256"]
    assert "Built for Intel" in (folder / "README.md").read_text()


def test_without_a_saved_report_a_short_measurement_supplies_the_numbers(tmp_path):
    env = dict(os.environ, QTUI_CACHE_DIR=str(tmp_path / "cache"))  # no history: nothing measured yet
    folder = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "tui", "export", "torch-qint8-x86", "--out", str(folder),
                             "--num-texts", "16", "--threads", str(THREADS), "--time-budget", "3"],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "measuring it against torch fp32 (up to 15 rounds or 3 s" in result.stderr and "round 1:" in result.stderr
    manifest = json.loads((folder / "qtui-export.json").read_text())
    saved = json.loads(Path(manifest["measured"]["report"]).read_text())  # kept in the history, like a bench
    route = next(r for r in saved["routes"] if r["id"] == "torch-qint8-x86")
    assert manifest["measured"]["speedup_vs_torch_fp32"] == route["speedup"]["point"]
    assert manifest["measured"]["ci95"] == route["speedup"]["ci95"]
    assert Path(manifest["measured"]["report"]).parent == tmp_path / "cache" / "reports"
