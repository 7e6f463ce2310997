"""The real peers in their real environment: `make peers` builds .venv-peers (pinned, beside the checkout; a
second build is a no-op), then one `qtui bench` measures every peer against torch fp32 and one of qtui's routes in
the same paired run, and a short one on long texts checks fastembed's truncation. qtui's own environment is checked
untouched by the build."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_qtui

pytestmark = pytest.mark.slow

PEERS = ["fastembed", "fastembed-parallel", "st-onnx-qint8", "st-openvino-qint8"]


def qtui_packages() -> str:
    return subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout


def long_texts(n: int) -> str:
    """Texts of 300+ words, beyond the model's 256 tokens: where fastembed's truncation must match
    sentence-transformers'."""
    words = "the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches".split()
    return "".join(" ".join(words[(i + k * 7) % len(words)] for k in range(300 + 10 * i)) + f" (text {i})\n"
                   for i in range(n))


def bench(cache, where, *args) -> tuple[dict, object]:
    """A real `qtui bench` on the session's shared artefact cache (the peers' exports are built once)."""
    out = where / f"report-{len(list(where.glob('report-*')))}.json"
    result = run_qtui("bench", *args, "--quick", "--no-kernels", "--json", str(out), timeout=1200,
                      env=dict(os.environ, QTUI_CACHE_DIR=str(cache)))
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(out.read_text()), result


@pytest.fixture(scope="module")
def peers_env():
    before = qtui_packages()
    built = subprocess.run(["make", "-C", str(ROOT), "peers"], capture_output=True, text=True, timeout=1200)
    assert built.returncode == 0, built.stdout[-1500:] + built.stderr[-1500:]
    assert qtui_packages() == before  # the peers never touch qtui's environment


@pytest.fixture(scope="module")
def peers_report(peers_env, tmp_path_factory, shared_cache_root):
    """Every peer beside torch fp32 and ort-qint8; 256 texts, fastembed's batch, so its pool starts; two rounds, the
    fewest with a CI (fastembed-parallel's pool starts in every round)."""
    routes = ",".join(["torch-fp32", "ort-qint8", *PEERS])
    return bench(shared_cache_root, tmp_path_factory.mktemp("peers"), "--routes", routes, "--num-texts", "256",
                 "--rounds", "2")


def test_every_peer_is_measured_in_the_same_paired_run_with_its_versions(peers_report):
    doc, _ = peers_report
    routes = {r["id"]: r for r in doc["routes"]}
    for rid in PEERS:
        r = routes[rid]
        assert r["peer"] is True, rid
        assert r["status"] == "ok", (rid, r["why"])
        assert r["speedup"] and r["rounds"] >= 2, rid
        assert r["peer_versions"], rid
    assert routes["fastembed"]["peer_versions"]["fastembed"] == "0.9.1"
    assert routes["fastembed-parallel"]["facts"]["parallel_applied"] is True  # its pool ran: 256 texts
    assert routes["st-onnx-qint8"]["peer_versions"]["sentence-transformers"] == "5.7.0"
    assert not routes["ort-qint8"]["peer"] and routes["ort-qint8"]["peer_versions"] is None
    assert doc["recommendation"]["route"] not in PEERS
    peers = doc["peers"]
    assert [p["id"] for p in peers["routes"]] == PEERS and all(p["pick_vs"] for p in peers["routes"])


def test_fastembed_computes_what_torch_fp32_computes(peers_report, shared_cache_root, tmp_path):
    """The same model: a mismatch would be a bug in the export or in fastembed's settings (e.g. its truncation,
    which only texts beyond the model's 256 tokens show). The export is the first run's, from the cache."""
    doc, _ = peers_report
    assert next(r for r in doc["routes"] if r["id"] == "fastembed")["accuracy"]["cosine_min"] >= 0.9999
    (tmp_path / "long.txt").write_text(long_texts(12))
    long_doc, _ = bench(shared_cache_root, tmp_path, "--routes", "torch-fp32,fastembed", "--texts",
                        str(tmp_path / "long.txt"),
                        "--num-texts", "8", "--batch-size", "4", "--rounds", "2")
    assert long_doc["workload"]["max_tokens"] == 256  # cut at the model's maximum
    assert next(r for r in long_doc["routes"] if r["id"] == "fastembed")["accuracy"]["cosine_min"] >= 0.9999


def test_the_summary_and_the_finding_state_the_pick_against_the_peers(peers_report):
    doc, result = peers_report
    assert "Against the peers:" in doc["finding"]["headline"]
    assert "(peer)" in result.stdout and "Against the peers:" in result.stdout
