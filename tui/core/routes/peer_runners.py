"""Peer routes: what a user would run instead of qtui, built the way their own documentation says, from the run's
own model: fastembed (`peer_fastembed`) and sentence-transformers' documented backend recipes (`peer_st`).

These modules run only inside the peers' interpreter (.venv-peers, `make peers`): their pins conflict with qtui's
(fastembed wants huggingface-hub<2, sentence-transformers' onnx/openvino extras transformers<4.58). They import
only the standard library and tui.core.routes.base at module level; fastembed, sentence-transformers, optimum,
onnxruntime and openvino are imported inside the functions that need them.
"""

from __future__ import annotations

import os
import sys

from tui.core.routes.base import PrepareContext, RouteSpec, RouteUnavailable
from tui.core.routes.peer_common import importable, model_head, quiet
from tui.core.routes.peer_fastembed import FastembedRunner, fastembed_folder
from tui.core.routes.peer_st import st_onnx_qint8, st_openvino_qint8

PEER_IDS = ("fastembed", "fastembed-parallel", "st-onnx-qint8", "st-openvino-qint8")
MAKE_PEERS = "run `make peers` (it installs peers-requirements.txt into .venv-peers)"

# What each peer imports (importable names) and the distributions whose versions it reports (and caches by).
_MODULES = {
    "fastembed": ("fastembed", "onnxruntime", "sentence_transformers", "optimum.onnxruntime"),
    "st-onnx-qint8": ("sentence_transformers", "optimum.onnxruntime", "onnxruntime"),
    "st-openvino-qint8": ("sentence_transformers", "optimum.intel", "openvino", "nncf", "datasets"),
}


def prepare_peer(spec: RouteSpec, ctx: PrepareContext):
    """The peer's runner (Runner protocol); RouteUnavailable with a one-line reason when it cannot be built."""
    if spec.id not in PEER_IDS:
        raise RouteUnavailable(f"{spec.id} is not a peer route (peers: {', '.join(PEER_IDS)})")
    key = "fastembed" if spec.id.startswith("fastembed") else spec.id
    missing = [m for m in _MODULES[key] if not importable(m)]
    if missing:
        raise RouteUnavailable(f"{spec.id} needs {', '.join(missing)}, missing in {sys.executable}: {MAKE_PEERS}")
    quiet()
    os.environ["RAYON_RS_NUM_CPUS"] = str(ctx.threads)  # the Rust tokenizer's pool: the run's threads, not all
    head = model_head(ctx.model_dir)
    if spec.id == "fastembed":
        return FastembedRunner(fastembed_folder(ctx, head), head, ctx, parallel=None)
    if spec.id == "fastembed-parallel":
        return FastembedRunner(fastembed_folder(ctx, head), head, ctx, parallel=0)
    if spec.id == "st-onnx-qint8":
        return st_onnx_qint8(ctx)
    return st_openvino_qint8(ctx)
