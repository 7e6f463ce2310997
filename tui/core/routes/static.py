"""The static route: model2vec distils the run's own model into a table of token vectors (one forward pass per
token of its vocabulary, then PCA), and a sentence is the mean of its tokens' vectors. No transformer runs at
inference, so it is far faster and loses accuracy by design; its vectors live in a space of their own (PCA), so
the task score judges it, never the cosine to fp32.
"""

from __future__ import annotations

import os
from pathlib import Path

from tui.core.routes.base import PrepareContext, RouteSpec, RouteUnavailable, Runtime, cached, keep_facts

INSTALL_HINT = "pip install 'qtui-bench[static]' (model2vec and skeletoken)"

SPECS = (
    RouteSpec("static-m2v", "model2vec", "static",
              summary="static token vectors distilled from the model by model2vec (its defaults: the model's "
                      "vocabulary, PCA to 256 dimensions): a lookup and a mean, no transformer; judged by --task",
              own_space=True, builds="a model2vec distillation: the model run once over its vocabulary, then PCA"),
)


def distil(model_dir: Path, out: Path, threads: int) -> dict:
    """model2vec's `distill` with its defaults, saved as model2vec's own folder (what `qtui export` ships)."""
    import time

    os.environ.setdefault("TQDM_DISABLE", "1")  # its progress bars would only fill the worker's log
    import torch
    from model2vec.distill import distill

    torch.set_num_threads(threads)
    start = time.perf_counter()
    try:
        model = distill(model_name=str(model_dir))
    except Exception as exc:  # noqa: BLE001 — any reason model2vec gives is the user's answer
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise RouteUnavailable(f"model2vec cannot distill this model: {first[:200]}") from None
    model.save_pretrained(str(out / "model"))
    rows, dims = model.embedding.shape
    return {"distill_s": round(time.perf_counter() - start, 1), "vocabulary": int(rows), "dimensions": int(dims)}


class StaticRunner:
    """model2vec's StaticModel: tokenize, look the tokens up, average (numpy)."""

    def __init__(self, folder: Path, threads: int, facts: dict) -> None:
        from model2vec import StaticModel

        self.static = StaticModel.from_pretrained(str(folder), force_download=False)
        self.size_mb = self.static.embedding.nbytes / 1e6
        self.threads = threads  # the tokenizer's threads; the lookup and mean are numpy, one thread
        self.facts = facts

    def encode(self, texts: list[str], batch_size: int):
        import numpy as np

        # One process, like every route: model2vec would start a pool of its own above 10,000 texts.
        out = self.static.encode(texts, batch_size=batch_size, show_progress_bar=False, use_multiprocessing=False)
        return np.asarray(out, dtype=np.float32)


def model_folder(ctx: PrepareContext) -> Path:
    """The distilled model's folder in the artefact cache (built on the first run: the route's one-off cost)."""
    entry, facts = cached(ctx, "static-m2v", lambda d: distil(ctx.model_dir, d, ctx.threads), "model2vec",
                          "skeletoken", "torch", "transformers")
    keep_facts(ctx, facts)
    return entry / "model"


def prepare(spec: RouteSpec, ctx: PrepareContext) -> StaticRunner:
    os.environ["RAYON_RS_NUM_CPUS"] = str(ctx.threads)  # the Rust tokenizer's pool: the run's threads, not all
    folder = model_folder(ctx)
    return StaticRunner(folder, ctx.threads, dict(ctx.facts))


RUNTIME = Runtime("model2vec", SPECS, ("model2vec", "skeletoken", "sklearn"), INSTALL_HINT, prepare)
