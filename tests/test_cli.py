import json

import pytest

from tests.conftest import FIXTURES, run_python, run_qtui

CPUINFO = FIXTURES / "cpuinfo"


def test_help_explains_the_commands():
    result = run_qtui("--help")
    assert result.returncode == 0
    assert "detect" in result.stdout and "Exit codes" in result.stdout


def test_detect_json_follows_the_contract():
    result = run_qtui("detect", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "qtui.detect/1"
    assert doc["source"] == "this-machine"
    assert set(doc["cpu"]) >= {"arch", "vendor", "model", "logical_cpus", "physical_cores", "features"}
    assert set(doc["recommendation"]) == {"engine", "expected_int8", "reasons"}
    assert doc["recommendation"]["expected_int8"] in ("faster", "uncertain", "slower")
    ranks = [e["rank"] for e in doc["engines"]]
    assert ranks == sorted(ranks) and {e["name"] for e in doc["engines"]} == {"x86", "fbgemm", "onednn", "qnnpack"}


def test_detect_here_recommends_an_x86_family_engine_and_names_avx2():
    # This machine is x86_64 with AVX2 (checked against torch in test_cpu); qnnpack must not be chosen.
    doc = json.loads(run_qtui("detect", "--json").stdout)
    assert doc["cpu"]["arch"] == "x86_64"
    assert "avx2" in doc["cpu"]["features"]
    assert doc["recommendation"]["engine"] in ("x86", "fbgemm", "onednn")


def test_detect_table_for_people():
    result = run_qtui("detect")
    assert result.returncode == 0
    assert "AVX2 ✓" in result.stdout and "qnnpack" in result.stdout


@pytest.mark.parametrize("name, engine, arch", [
    ("arm-graviton3-neoverse-v1.txt", "qnnpack", "aarch64"),
    ("intel-sapphirerapids-8488c.txt", "x86", "x86_64"),
    ("macos-m2-sysctl.txt", "qnnpack", "arm64"),
])
def test_detect_another_machine_from_its_cpuinfo(name, engine, arch):
    result = run_qtui("detect", "--cpuinfo", str(CPUINFO / name), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["source"] == "cpuinfo-file"
    assert doc["cpu"]["arch"] == arch
    assert doc["recommendation"]["engine"] == engine


@pytest.mark.parametrize("kind", ["missing", "empty", "binary", "directory"])
def test_bad_cpuinfo_is_one_line_and_exit_2(tmp_path, kind):
    path = tmp_path / "cpuinfo"
    if kind == "empty":
        path.write_text("")
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 8)
    elif kind == "directory":
        path.mkdir()
    result = run_qtui("detect", "--cpuinfo", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_subcommand_is_one_line_and_exit_2():
    result = run_qtui("frobnicate")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "frobnicate" in result.stderr


def test_python_dash_m_tui_works():
    assert run_qtui("--version").stdout.startswith("qtui ")


def test_detect_does_not_import_torch():
    code = ("import sys, io, contextlib\nfrom tui.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    rc = main(['detect', '--json'])\n"
            "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'textual') if m in sys.modules]\n"
            "print(rc, heavy)")
    result = run_python(code)
    assert result.stdout.strip() == "0 []", result.stderr


@pytest.mark.parametrize("args, phrase", [
    (["--routes", "torch-int4"], "unknown route torch-int4"),
    (["--batch-size", "0"], "must be 1 or more"),
    (["--threads", "-2"], "must be 1 or more"),
    (["--rounds", "many"], "not a whole number"),
    (["--time-budget", "0"], "positive number"),
    (["--time-budget", "nan"], "positive number"),
    (["--min-cosine", "2"], "at most 1"),
    (["--json", "/nonexistent-dir/r.json"], "does not exist"),
    (["--markdown", "/"], "is a directory"),
    (["--model", "/nonexistent/model"], "no such directory"),
    (["--texts", "/nonexistent.txt"], "no such file"),
    (["--simulate-isa", "avx9000"], "unknown"),
    (["--sweep", "torch-int4"], "--sweep: unknown route"),
    (["--threads-sweep", "0"], "thread counts must be 1 or more"),
    (["--threads-sweep", "1,,2"], "'' is not a whole number"),
    (["--threads-sweep", "1,two"], "'two' is not a whole number"),
    (["--threads-sweep", "100000"], "more than 4×"),
])
def test_bench_bad_input_is_one_line_exit_2_before_any_work(args, phrase):
    result = run_qtui("bench", *args, timeout=30)
    assert result.returncode == 2, result.stderr
    assert phrase in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("content, phrase", [("{", "not valid JSON"), ('{"schema": "x"}', "not a qtui.report/1")])
def test_compare_bad_reports(tmp_path, content, phrase):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run_qtui("compare", str(bad), str(bad))
    assert result.returncode == 2 and phrase in result.stderr and "Traceback" not in result.stderr


def test_routes_lists_every_route():
    result = run_qtui("routes")
    assert result.returncode == 0
    assert "torch-qint8-qnnpack-perchannel" in result.stdout and "openvino-int8" in result.stdout


@pytest.mark.parametrize("args, phrase", [
    (["--theme", "neon"], "--theme neon: unknown"),
    (["--routes", "torch-int4"], "unknown route torch-int4"),
    (["--batch-size", "0"], "must be 1 or more"),
    (["--threads-sweep", "-3"], "thread counts must be 1 or more"),
])
def test_dashboard_bad_options_fail_before_the_screen_opens(args, phrase):
    result = run_qtui(*args, timeout=30)
    assert result.returncode == 2 and phrase in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_threads_sweep_lists_are_sorted_without_repeats_and_auto_waits_for_the_cpu():
    from tui.options import default_options, thread_counts

    assert thread_counts("4, 1,2,2") == (1, 2, 4) and thread_counts("auto") == "auto"
    assert default_options().threads_sweep is None  # off unless asked for
