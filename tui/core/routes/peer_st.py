"""sentence-transformers' own backend recipes as peers (in the peers' interpreter only): dynamic int8 ONNX with the
config their docs name for this CPU, and static int8 OpenVINO calibrated on qtui's calibration texts."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from tui.core.routes.base import PrepareContext, RouteUnavailable, cached, keep_facts, versions
from tui.core.routes.peer_common import copy_model, drop_weights, first_line, size_mb

_ST_ONNX_VERSIONS = ("sentence-transformers", "optimum", "optimum-onnx", "onnxruntime", "onnx", "torch",
                     "transformers")
_ST_OV_VERSIONS = ("sentence-transformers", "optimum", "optimum-intel", "openvino", "nncf", "datasets", "torch",
                   "transformers")


def st_quantization_config(cpu=None) -> str | None:
    """The config sentence-transformers' docs tell a user to pick for this CPU, or None (no AVX2, not ARM)."""
    from tui.core.cpu import detect

    cpu = cpu or detect()
    if cpu.is_arm:
        return "arm64"
    if cpu.has("avx512_vnni"):
        return "avx512_vnni"
    if cpu.has("avx512f", "avx512bw"):
        return "avx512"
    if cpu.has("avx2"):
        return "avx2"
    return None


def _describe_ort_config(config) -> str:
    def name(v):
        return getattr(v, "name", str(v))

    kind = "static" if config.is_static else "dynamic"
    granularity = "per-channel" if config.per_channel else "per-tensor"
    return (f"{kind}, {name(config.format)}, weights {name(config.weights_dtype)} {granularity}"
            f"{' reduce_range' if config.reduce_range else ''}, activations {name(config.activations_dtype)}, "
            f"ops {'/'.join(config.operators_to_quantize)}")


class StRunner:
    """SentenceTransformer.encode on an exported backend, with qtui's batch size (sentence-transformers has none
    of its own beyond encode's default of 32)."""

    def __init__(self, model, threads: int, size_mb: float, facts: dict) -> None:
        self.model = model
        self.threads = threads
        self.size_mb = size_mb
        self.facts = facts

    def encode(self, texts: list[str], batch_size: int):
        import numpy as np

        out = self.model.encode(texts, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(out, dtype=np.float32)


def st_onnx_qint8(ctx: PrepareContext) -> StRunner:
    config_name = st_quantization_config()
    if config_name is None:
        raise RouteUnavailable("sentence-transformers' int8 ONNX configs need AVX2 (avx2, avx512, avx512_vnni) or "
                               "ARM64; this CPU has none of them")

    def build(d: Path) -> dict:
        import time

        from sentence_transformers import SentenceTransformer
        from sentence_transformers.backend import export_dynamic_quantized_onnx_model

        copy_model(ctx.model_dir, d)
        start = time.perf_counter()
        try:
            model = SentenceTransformer(str(d), device="cpu", backend="onnx")
            export_dynamic_quantized_onnx_model(model, config_name, str(d))
        except Exception as exc:  # noqa: BLE001
            raise RouteUnavailable(f"sentence-transformers' int8 ONNX export failed: {first_line(exc)}") from None
        files = sorted((d / "onnx").glob(f"model_*_{config_name}.onnx"))
        if len(files) != 1:
            raise RouteUnavailable(f"export_dynamic_quantized_onnx_model wrote {len(files)} files for {config_name}")
        drop_weights(d)
        from optimum.onnxruntime.configuration import AutoQuantizationConfig

        described = _describe_ort_config(getattr(AutoQuantizationConfig, config_name)(is_static=False))
        return {"export_s": round(time.perf_counter() - start, 1), "model_file": f"onnx/{files[0].name}",
                "quantization_config": f"{config_name}: {described}"}

    entry, facts = cached(ctx, "peer-st-onnx-qint8", build, *_ST_ONNX_VERSIONS, extra=config_name)
    keep_facts(ctx, facts)
    file_name = facts["model_file"]

    import onnxruntime as ort
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(ctx.threads)  # sentence-transformers pools and normalizes in torch
    options = ort.SessionOptions()
    options.intra_op_num_threads = ctx.threads
    try:
        model = SentenceTransformer(str(entry), device="cpu", backend="onnx",
                                    model_kwargs={"file_name": file_name, "session_options": options})
    except Exception as exc:  # noqa: BLE001
        raise RouteUnavailable(f"sentence-transformers cannot load {file_name}: {first_line(exc)}") from None
    session = model.transformers_model.session
    took = session.get_session_options().intra_op_num_threads
    if took != ctx.threads:
        raise RouteUnavailable(f"ONNX Runtime ignored the session's threads ({took}, asked {ctx.threads})")
    return StRunner(model, ctx.threads, size_mb(entry / file_name), {
        **ctx.facts,
        "versions": versions("sentence-transformers", "optimum-onnx", "onnxruntime", "transformers", "torch"),
        "batch_size": "qtui's --batch-size (SentenceTransformer.encode)",
        "session_threads": f"intra_op={took}",
        "providers": ",".join(session.get_providers()),
        "model_file": file_name,  # in the artefact folder, as model_kwargs' file_name
        "artefact": str(entry),
    })


# ---------------------------------------------------------------------------------------------------------------
# sentence-transformers: static int8 OpenVINO (export_static_quantized_openvino_model)

CALIBRATION_CONFIG = "default"  # datasets' builder config of a local data folder (no README configs): "default"


def _calibration_folder(texts: list[str], folder: Path) -> Path:
    """The calibration texts as a local dataset `datasets.load_dataset(folder, name="default", split="train")`
    reads (column "text"): the recipe's default, glue/sst2, would come from the hub."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "train.jsonl", "w", encoding="utf-8") as f:
        for text in texts:
            f.write(json.dumps({"text": text}) + "\n")
    return folder


def _type_name(value) -> str:
    """OpenVINO's element type as its short name ("f32", "bf16")."""
    name = getattr(value, "get_type_name", None)
    return name() if callable(name) else str(value)


def st_openvino_qint8(ctx: PrepareContext) -> StRunner:
    from tui.core.workload import fingerprint as texts_fingerprint

    if not ctx.calibration:
        raise RouteUnavailable("st-openvino-qint8 calibrates on qtui's calibration texts, and this run has none")

    def build(d: Path) -> dict:
        import contextlib
        import time

        from optimum.intel import OVQuantizationConfig
        from optimum.intel.openvino import OVQuantizer
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.backend import export_static_quantized_openvino_model

        copy_model(ctx.model_dir, d)
        data = _calibration_folder(list(ctx.calibration), ctx.scratch / "peer-ov-calibration")
        # optimum-intel hands datasets the hub's cache as cache_dir (sentence-transformers passes none): keep the
        # prepared calibration split in this run's scratch instead of the user's huggingface cache.
        original = OVQuantizer.get_calibration_dataset

        def in_scratch(self, *args, **kwargs):
            kwargs.setdefault("cache_dir", str(ctx.scratch / "peer-ov-datasets-cache"))
            return original(self, *args, **kwargs)

        config = OVQuantizationConfig()
        start = time.perf_counter()
        OVQuantizer.get_calibration_dataset = in_scratch
        try:
            model = SentenceTransformer(str(d), device="cpu", backend="openvino")
            with contextlib.redirect_stdout(sys.stderr):  # nncf prints its progress
                export_static_quantized_openvino_model(
                    model, config, str(d), dataset_name=str(data), dataset_config_name=CALIBRATION_CONFIG,
                    dataset_split="train", column_name="text")
        except Exception as exc:  # noqa: BLE001
            raise RouteUnavailable(f"sentence-transformers' int8 OpenVINO export failed: {first_line(exc)}") from None
        finally:
            OVQuantizer.get_calibration_dataset = original
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(ctx.scratch / "peer-ov-datasets-cache", ignore_errors=True)
        xml = d / "openvino" / "openvino_model_qint8_quantized.xml"
        if not xml.exists() or not xml.with_suffix(".bin").exists():
            raise RouteUnavailable("export_static_quantized_openvino_model wrote no openvino_model_qint8_quantized.xml")
        drop_weights(d)
        return {"export_s": round(time.perf_counter() - start, 1),
                "model_file": "openvino/openvino_model_qint8_quantized.xml",
                "quantization_config": f"OVQuantizationConfig() defaults: bits={config.bits}, sym={config.sym}, "
                                       f"model_type={config.model_type}, num_samples={config.num_samples}",
                # num_samples None: every text goes into the dataset, but nncf's subset_size is then 128
                "calibration": f"{len(ctx.calibration)} qtui calibration texts in the dataset, nncf's subset_size "
                               f"{config.num_samples or 128} of them used, padded to 384 tokens (the recipe's)"}

    entry, facts = cached(ctx, "peer-st-openvino-qint8", build, *_ST_OV_VERSIONS,
                          extra=texts_fingerprint(list(ctx.calibration)))
    keep_facts(ctx, facts)
    file_name = facts["model_file"]

    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(ctx.threads)
    try:
        model = SentenceTransformer(str(entry), device="cpu", backend="openvino",
                                    model_kwargs={"file_name": file_name,
                                                  "ov_config": {"INFERENCE_NUM_THREADS": ctx.threads}})
    except Exception as exc:  # noqa: BLE001
        raise RouteUnavailable(f"sentence-transformers cannot load {file_name}: {first_line(exc)}") from None
    ov_model = model.transformers_model
    ov_model.compile()
    compiled = ov_model.request
    took = int(compiled.get_property("INFERENCE_NUM_THREADS"))
    if took != ctx.threads:
        raise RouteUnavailable(f"OpenVINO ignored INFERENCE_NUM_THREADS ({took}, asked {ctx.threads})")
    xml = entry / file_name
    return StRunner(model, ctx.threads, size_mb(xml, xml.with_suffix(".bin")), {
        **ctx.facts,
        "versions": versions("sentence-transformers", "optimum-intel", "openvino", "nncf", "transformers", "torch"),
        "batch_size": "qtui's --batch-size (SentenceTransformer.encode)",
        "inference_precision": _type_name(compiled.get_property("INFERENCE_PRECISION_HINT")),
        "performance_hint": str(compiled.get_property("PERFORMANCE_HINT")),
        "inference_num_threads": took,
        "model_file": file_name,  # in the artefact folder, as model_kwargs' file_name
        "artefact": str(entry),
    })
