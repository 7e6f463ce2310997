"""`qtui export` on bad input: one line on stderr, exit 2, no traceback, DIR untouched and nothing left beside it.
These fail in the checks, before any model file is built, so they are quick."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT, run_qtui
from tests.test_cli_missing_pieces import ONNX_HINT, without
from tests.test_cli_unwritable import run_subject_to_permissions


def snapshot(folder: Path) -> dict:
    """Every entry under the parent of DIR (so a temp dir left beside it shows too), with size and mtime."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def assert_refused(result: subprocess.CompletedProcess, *needles: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("the user's file\n")
    return tmp_path


def export(workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    env = env or dict(os.environ, QTUI_CACHE_DIR=str(workdir / "cache"))
    return run_qtui("export", *args, env=env, timeout=120)


def test_unknown_route(workdir):
    before = snapshot(workdir)
    line = assert_refused(export(workdir, "ort-int4", "--out", str(workdir / "new")), "unknown route", "ort-qint8")
    assert "openvino-int8" in line  # the exportable routes are listed
    assert snapshot(workdir) == before


def test_a_route_with_nothing_to_ship(workdir):
    before = snapshot(workdir)
    assert_refused(export(workdir, "torch-fp32", "--out", str(workdir / "new")), "torch-fp32 cannot be exported")
    assert snapshot(workdir) == before


def test_a_peer_is_run_as_its_recipe_shows_not_exported(workdir):
    before = snapshot(workdir)
    assert_refused(export(workdir, "st-openvino-qint8", "--out", str(workdir / "new")),
                   "st-openvino-qint8 is a peer", "--recipes", "openvino-int8")
    assert snapshot(workdir) == before


def test_non_empty_dir_is_refused_without_force(workdir):
    before = snapshot(workdir)
    assert_refused(export(workdir, "ort-qint8", "--out", str(workdir / "out")), "not empty", "--force")
    assert snapshot(workdir) == before


def test_out_is_a_file(workdir):
    before = snapshot(workdir)
    assert_refused(export(workdir, "ort-qint8", "--out", str(workdir / "out" / "keep.txt")), "is a file")
    assert snapshot(workdir) == before


def test_out_under_a_missing_directory(workdir):
    before = snapshot(workdir)
    assert_refused(export(workdir, "ort-qint8", "--out", str(workdir / "nope" / "new")), "does not exist")
    assert snapshot(workdir) == before


def test_route_unavailable_here_says_why(workdir, tmp_path_factory):
    before = snapshot(workdir)
    env = without(("onnxruntime",), tmp_path_factory.mktemp("no-onnxruntime"))  # really absent for that qtui
    env["QTUI_CACHE_DIR"] = str(workdir / "cache")
    line = assert_refused(export(workdir, "ort-qint8", "--out", str(workdir / "new"), env=env),
                          "ort-qint8 is unavailable here")
    assert ONNX_HINT in line
    assert snapshot(workdir) == before


def test_route_unavailable_on_the_target_cpu(workdir):
    before = snapshot(workdir)
    arm = FIXTURES / "cpuinfo" / "arm-graviton3-neoverse-v1.txt"
    assert_refused(export(workdir, "torch-qint8-x86", "--out", str(workdir / "new"), "--for", str(arm)),
                   "unavailable on the --for CPU", "x86 CPUs")
    assert snapshot(workdir) == before


def test_bad_for_file(workdir):
    before = snapshot(workdir)
    assert_refused(export(workdir, "ort-qint8", "--out", str(workdir / "new"), "--for", str(workdir / "missing")),
                   "--for", "no such file")
    assert snapshot(workdir) == before


def test_calibration_overlapping_the_measured_texts(workdir):
    from tui.core.workload import make_workload

    measured = make_workload(16).texts
    calibration = workdir / "calibration.txt"
    calibration.write_text("\n".join([measured[0], measured[1].upper(), "A sentence nobody measured."]) + "\n")
    before = snapshot(workdir)
    assert_refused(export(workdir, "openvino-int8", "--out", str(workdir / "new"), "--num-texts", "16",
                          "--calibration", str(calibration)), "2 of its 3 texts are also measured texts")
    assert snapshot(workdir) == before


@pytest.mark.parametrize("content, message", [(None, "--calibration {path}: no such file"),
                                              ("\n  \n", "--calibration {path}: is empty")])
def test_calibration_file_missing_or_empty(workdir, content, message):
    path = workdir / "calibration.txt"
    if content is not None:
        path.write_text(content)
    before = snapshot(workdir)
    line = assert_refused(export(workdir, "openvino-int8", "--out", str(workdir / "new"), "--calibration", str(path)),
                          message.format(path=path))
    assert "--texts" not in line
    assert snapshot(workdir) == before


def test_calibration_for_a_dynamic_route(workdir):
    calibration = workdir / "calibration.txt"
    calibration.write_text("Some text.\n")
    before = snapshot(workdir)
    assert_refused(export(workdir, "ort-qint8", "--out", str(workdir / "new"), "--calibration", str(calibration)),
                   "uses no calibration texts")
    assert snapshot(workdir) == before


def test_report_without_the_route(workdir):
    report = json.loads((FIXTURES / "reports" / "zen5-avx512-vnni-bf16-all-routes.json").read_text())
    report["routes"] = [r for r in report["routes"] if r["id"] != "ort-qint8"]
    (workdir / "r.json").write_text(json.dumps(report))
    before = snapshot(workdir)
    assert_refused(export(workdir, "ort-qint8", "--out", str(workdir / "new"), "--report", str(workdir / "r.json")),
                   "has no measured ort-qint8")
    assert snapshot(workdir) == before


def test_unwritable_dir(tmp_path):
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    result, _ = run_subject_to_permissions("export", "ort-qint8", "--out", str(readonly / "new"))
    assert_refused(result, "not writable")
    assert list(readonly.iterdir()) == []


def test_help_explains_the_folder():
    result = run_qtui("export", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for needle in ("encode.py", "qtui-export.json", "--for", "--force", "complete or absent", "not measured"):
        assert needle in text


def test_interrupted_export_leaves_nothing(tmp_path):
    """A stop signal while the model file is being built: no DIR, no temp dir beside it."""
    import signal
    import time

    env = dict(os.environ, QTUI_CACHE_DIR=str(tmp_path / "cache"))  # empty cache: a real build to interrupt
    out = tmp_path / "site" / "new"
    out.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "tui", "export", "ort-qint8", "--out", str(out), "--no-measure"],
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    line = proc.stderr.readline()  # the progress line: checks passed, building
    assert "ONNX model" in line, line
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 143, rest
    assert "Traceback" not in rest, rest
    assert list(out.parent.iterdir()) == [], rest


@pytest.mark.parametrize("args, needles", [
    (("static-m2v@len16",), ("static-m2v@len16: static-m2v reads every token with one table lookup",)),
    (("torch-fp32@len16",), ("torch-fp32@len16 caps torch-fp32, which cannot be exported", "@len<N>")),
    (("ort-qint8@len4",), ("ort-qint8@len4: a length cap of 4 tokens leaves too little",)),
    (("ort-qint8@len256",), ("reads at most 256 tokens, so a cap of 256 cuts nothing",)),
    (("ort-qint8-mixed@len16",), ("cap the route it rescues instead",)),
    (("static-m2v", "--pattern", "processes"), ("--pattern processes: static-m2v is not measured over processes",)),
])
def test_a_static_or_capped_route_export_that_cannot_be(workdir, args, needles):
    before = snapshot(workdir)
    assert_refused(export(workdir, *args, "--out", str(workdir / "new")), *needles)
    assert snapshot(workdir) == before


def test_calibration_for_a_static_route(workdir):
    calibration = workdir / "calibration.txt"
    calibration.write_text("Some text.\n")
    before = snapshot(workdir)
    assert_refused(export(workdir, "static-m2v", "--out", str(workdir / "new"), "--calibration", str(calibration)),
                   "static-m2v is a static model distilled from the model and uses no calibration texts")
    assert snapshot(workdir) == before
