"""fastembed as a peer (in the peers' interpreter only): its TextEmbedding with its defaults on sentence-transformers'
fp32 ONNX export of the run's model, in-process or with `parallel=0`."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from tui.core.routes.base import PrepareContext, RouteUnavailable, cached, keep_facts, versions
from tui.core.routes.peer_common import copy_model, drop_weights, first_line, size_mb

# TextEmbedding.embed's default batch size in fastembed 0.9.1 (read again from its signature at prepare). A list
# shorter than that is embedded in-process even with `parallel` set (OnnxTextModel._embed_documents: is_small).
FASTEMBED_BATCH = 256

_EXPORT_VERSIONS = ("sentence-transformers", "optimum", "optimum-onnx", "onnx", "torch", "transformers")


def parallel_unavailable(n_texts: int) -> str | None:
    """Why fastembed-parallel would not start its process pool for `n_texts` measured texts (a list shorter than
    fastembed's batch size runs in-process, exactly the fastembed route), else None. Cheap: for the coordinator."""
    if n_texts < FASTEMBED_BATCH:
        return (f"fastembed's embed(parallel=0) runs in-process for a list shorter than its batch size "
                f"({n_texts} < {FASTEMBED_BATCH} texts): the same run as the fastembed route; measure with "
                f"--num-texts {FASTEMBED_BATCH} or more")
    return None


def fastembed_pooling(head: dict) -> str:
    """fastembed's PoolingType name for the model's pooling (or RouteUnavailable: a head fastembed cannot run)."""
    extra = [k for k in head["modules"].split(",") if k not in ("Transformer", "Pooling", "Normalize")]
    if extra:
        raise RouteUnavailable(f"fastembed runs a transformer, a pooling and a normalization only; this model also "
                               f"has {', '.join(extra)}")
    mapping = {"cls_token": "CLS", "mean_tokens": "MEAN", "lasttoken": "LAST_TOKEN"}
    if head["pooling"] not in mapping:
        raise RouteUnavailable(f"fastembed has no pooling like this model's ({head['pooling']}): it pools by CLS, "
                               f"mean or last token")
    return mapping[head["pooling"]]


def fastembed_folder(ctx: PrepareContext, head: dict) -> Path:
    """An fp32 ONNX export of the bare transformer (output last_hidden_state), in the layout fastembed loads with
    `specific_model_path`: sentence-transformers' own export (backend="onnx", then save_pretrained), with
    tokenizer_config's model_max_length set to the model's max_seq_length so both truncate at the same token."""
    fastembed_pooling(head)  # before building anything

    def build(d: Path) -> dict:
        import time

        from sentence_transformers import SentenceTransformer

        src = copy_model(ctx.model_dir, ctx.scratch / "peer-fastembed-src")
        start = time.perf_counter()
        try:
            model = SentenceTransformer(str(src), device="cpu", backend="onnx")
            model.save_pretrained(str(d))
        except Exception as exc:  # noqa: BLE001 — the exporter's reason is the user's answer
            raise RouteUnavailable(f"sentence-transformers' ONNX export failed: {first_line(exc)}") from None
        finally:
            shutil.rmtree(src, ignore_errors=True)
        drop_weights(d)
        onnx_file = d / "onnx" / "model.onnx"
        config_path = d / "tokenizer_config.json"
        if not onnx_file.exists() or not config_path.exists() or not (d / "tokenizer.json").exists():
            raise RouteUnavailable("sentence-transformers' ONNX export wrote no onnx/model.onnx with tokenizer.json "
                                   "and tokenizer_config.json: fastembed cannot load it")
        # fastembed truncates at the smaller of tokenizer_config's model_max_length and max_length; sentence-
        # transformers at max_seq_length. Both keys set to it, so both read the same tokens. (save_pretrained writes
        # max_length from tokenizer.json's own truncation: 128 for all-MiniLM-L6-v2, which would cut at 128.)
        config = json.loads(config_path.read_text())
        before = {k: config[k] for k in ("model_max_length", "max_length") if k in config}
        for k in ("model_max_length", *(["max_length"] if "max_length" in config else [])):
            config[k] = head["max_seq_length"]
        config_path.write_text(json.dumps(config, indent=2))
        return {"export_s": round(time.perf_counter() - start, 1),
                "tokenizer_truncation": ", ".join(f"{k} {v} -> {head['max_seq_length']}" for k, v in before.items())}

    entry, facts = cached(ctx, "peer-fastembed-onnx", build, *_EXPORT_VERSIONS)
    keep_facts(ctx, facts)
    return entry


class FastembedRunner:
    """fastembed's TextEmbedding on the export, registered as a custom model with the model's pooling and
    normalization; embed() with fastembed's defaults (its batch size: qtui's batch size is not used)."""

    def __init__(self, folder: Path, head: dict, ctx: PrepareContext, *, parallel: int | None) -> None:
        import inspect

        from fastembed import TextEmbedding
        from fastembed.common.model_description import ModelSource, PoolingType
        from fastembed.text.custom_text_embedding import CustomTextEmbedding

        name = f"qtui-peer/{ctx.model_fingerprint[:16]}-{folder.name[-12:]}"
        pooling = fastembed_pooling(head)
        if not any(m.model == name for m in CustomTextEmbedding.SUPPORTED_MODELS):  # once per process
            try:
                TextEmbedding.add_custom_model(
                    model=name, pooling=PoolingType[pooling], normalization=bool(head["normalize"]),
                    sources=ModelSource(hf=name), dim=int(head["dim"]), model_file="onnx/model.onnx",
                    output_name="last_hidden_state")
            except Exception as exc:  # noqa: BLE001
                raise RouteUnavailable(f"fastembed refused the export as a custom model: {first_line(exc)}") from None
        # fastembed mkdirs its cache even with specific_model_path (nothing is downloaded): keep it in the run's scratch
        cache_dir = ctx.scratch / "fastembed-cache"
        try:
            self.embedding = TextEmbedding(model_name=name, specific_model_path=str(folder), threads=ctx.threads,
                                           cache_dir=str(cache_dir))
        except Exception as exc:  # noqa: BLE001
            raise RouteUnavailable(f"fastembed cannot load the export: {first_line(exc)}") from None
        self.parallel = parallel
        self.dim = int(head["dim"])
        self.batch_size = int(inspect.signature(TextEmbedding.embed).parameters["batch_size"].default)
        self.run_threads = ctx.threads
        self.threads = ctx.threads
        self.model_file = folder / "onnx" / "model.onnx"
        self.size_mb = size_mb(self.model_file)
        session = self.embedding.model.model
        options = session.get_session_options()
        self.facts = {
            **ctx.facts,
            "versions": versions("fastembed", "onnxruntime", "tokenizers"),
            "batch_size": self.batch_size,
            "batch_size_note": f"fastembed's default batch size ({self.batch_size}); qtui's --batch-size is not used",
            "pooling": pooling.lower(), "normalization": bool(head["normalize"]), "dim": self.dim,
            "max_length": head["max_seq_length"],
            "model_file": "onnx/model.onnx",  # in the artefact folder, as add_custom_model's model_file
            "artefact": str(folder),
            "session_threads": f"intra_op={options.intra_op_num_threads},inter_op={options.inter_op_num_threads}",
            "graph_optimization": str(options.graph_optimization_level).rsplit(".", 1)[-1],
        }
        if parallel is not None:
            self.workers = os.cpu_count() or 1  # what fastembed's parallel=0 asks for (all cores, not --threads)
            self.facts.update({"parallel": parallel, "workers_if_pooled": self.workers, "threads_per_worker": 1})
            # Left as a user gets it: each pooled embed call starts its own worker processes from a forkserver and
            # joins them at the end; each worker imports fastembed and loads the model, so that is part of every
            # call's time. (On Python 3.11 the forkserver's default preload of __main__ does nothing: it looks for
            # "main_path" in preparation data that names it "init_main_from_path".) Each forked worker re-runs this
            # process's __main__ as __mp_main__, as multiprocessing does: it must import in the peers' interpreter.

    def encode(self, texts: list[str], batch_size: int):
        import numpy as np

        if self.parallel is None:
            out = list(self.embedding.embed(texts))
        else:
            pooled = len(texts) >= self.batch_size  # fastembed's own rule (is_small): below it, in-process
            out = list(self.embedding.embed(texts, parallel=self.parallel))
            self.facts["parallel_applied"] = pooled
            self.facts["parallel_note"] = (
                f"{self.workers} worker processes x 1 thread, a pool started and joined by every embed call"
                if pooled else parallel_unavailable(len(texts)))
            self.threads = self.workers if pooled else self.run_threads
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(np.stack(out), dtype=np.float32)
