import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

# Pin what varies between machines and terminals.
os.environ.setdefault("TZ", "UTC")
os.environ["HF_HUB_OFFLINE"] = "1"
# Two xdist workers share 2 cores, each running torch on 2 threads: OpenMP threads that spin while waiting burn
# the other worker's CPU. Passive waiting (inherited by every qtui process the tests start) halves the cost of two
# concurrent real-model tests (measured: two STS-B runs side by side 106 s, passive 52 s; one alone 34 s).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter (for import-isolation checks)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def run_qtui(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run the real `qtui` CLI as a user would."""
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, **kwargs)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def shared_cache_root(tmp_path_factory) -> Path:
    """One artefact cache for the whole test session, both xdist workers included (their base temp dirs share a
    parent): an artefact several files need (model2vec's distillation) is built once, the cache's
    lock serialising the builders. For tests that read artefacts, not for tests of building them; `qtui bench` saves
    its reports there too (reports/), so a test that reads the report history uses a cache of its own."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-artefacts"
    root.mkdir(exist_ok=True)
    return root


# The files that take longest (module fixtures with real benches, real-model rescues), longest first, from
# make test's --durations on 2 cores. xdist (--dist loadfile) hands files out in collection order: collected
# last, as their names sort, they ran alone at the end while the other worker idled. Scheduled first, the
# short files fill in around them.
LONGEST_FIRST = (
    "tests/core/test_task_pass.py", "tests/test_export_routes.py", "tests/test_peers_real.py",
    "tests/test_cli_kernels.py", "tests/core/test_bench.py", "tests/core/test_rescue_runtimes.py",
    "tests/core/test_routes_compiled.py", "tests/test_cli_bench.py", "tests/e2e/test_fleet.py",
    "tests/core/test_frontier_run.py", "tests/core/test_layers.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(item.fspath).relative_to(ROOT).as_posix(), len(rank)))
