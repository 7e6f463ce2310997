"""Peer routes: what a user would run instead of qtui — fastembed, and sentence-transformers' own documented
backend recipes — measured in the same paired run, on the run's own model.

Their packages conflict with qtui's (fastembed declares huggingface-hub < 2; sentence-transformers' onnx and
openvino extras need transformers < 4.58), so they live in an environment of their own, `.venv-peers` (`make
peers`, pinned in peers-requirements.txt). Their worker runs under that interpreter (`tui.core.peer_process`) and
speaks the same worker protocol; what it runs there is `tui.core.routes.peer_runners` (`peer_fastembed`,
`peer_st`, `peer_common`). This module only says which
peers exist and whether their environment is there: it runs in the coordinator.
"""

from __future__ import annotations

import os
from pathlib import Path

from tui.core.cpu import CpuProfile
from tui.core.routes.base import PrepareContext, RouteSpec, Runtime

PEERS_PYTHON_ENV = "QTUI_PEERS_PYTHON"  # another interpreter for the peers (tests: a stand-in)
BUILD_HINT = "make peers (builds .venv-peers beside qtui's checkout, about 1.7 GB)"

SPECS = (
    RouteSpec("fastembed", "peer", "fp32", peer=True,
              summary="fastembed's TextEmbedding on an fp32 ONNX export of the model, with its defaults (batch 256, "
                      "its ONNX Runtime session options), the run's threads",
              builds="sentence-transformers' ONNX export of the model, in fastembed's folder layout"),
    RouteSpec("fastembed-parallel", "peer", "fp32", peer=True,
              summary="fastembed with parallel=0: a pool of one process per core, each given whole batches",
              builds="sentence-transformers' ONNX export of the model, in fastembed's folder layout"),
    RouteSpec("st-onnx-qint8", "peer", "qint8", peer=True,
              summary="sentence-transformers' recipe: backend='onnx', export_dynamic_quantized_onnx_model with the "
                      "config their docs name for this CPU",
              builds="sentence-transformers' ONNX export, then its dynamic int8 quantization"),
    RouteSpec("st-openvino-qint8", "peer", "int8", peer=True,
              summary="sentence-transformers' recipe: backend='openvino', export_static_quantized_openvino_model "
                      "(OVQuantizationConfig defaults), calibrated on qtui's calibration texts",
              builds="sentence-transformers' OpenVINO export, then NNCF static int8 calibration"),
)


def source_root() -> Path:
    """The folder holding the `tui` package: the peers' interpreter imports qtui's worker code from there."""
    import tui

    return Path(tui.__file__).resolve().parent.parent


def peers_python() -> Path:
    """The peers' interpreter: $QTUI_PEERS_PYTHON, else .venv-peers beside the checkout."""
    given = os.environ.get(PEERS_PYTHON_ENV)
    return Path(given) if given else source_root() / ".venv-peers" / "bin" / "python"


def missing_environment(spec: RouteSpec, cpu: CpuProfile) -> str | None:
    python = peers_python()
    if os.access(python, os.X_OK):
        return None
    if os.environ.get(PEERS_PYTHON_ENV):
        return f"{PEERS_PYTHON_ENV}={python} is not an executable Python"
    return f"{spec.id} runs in the peers' own environment, which is not built: {BUILD_HINT}"


def workload_problem(spec: RouteSpec, n_texts: int) -> str | None:
    """Why the run's workload cannot show this peer as itself: fastembed's pool starts only for a list as long as
    its batch size; shorter, fastembed-parallel would be the fastembed route measured twice."""
    if spec.id != "fastembed-parallel":
        return None
    from tui.core.routes.peer_fastembed import parallel_unavailable

    return parallel_unavailable(n_texts)


def prepare(spec: RouteSpec, ctx: PrepareContext):
    """In the peer worker (the peers' interpreter): build the peer from the run's model."""
    from tui.core.routes.peer_runners import prepare_peer

    return prepare_peer(spec, ctx)


RUNTIME = Runtime("peer", SPECS, (), BUILD_HINT, prepare, missing_environment)
