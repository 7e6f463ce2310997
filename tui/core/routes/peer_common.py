"""What the peer runners share (in the peers' interpreter only): the model's own sentence-transformers head read
from its files, a copy of the model to build in, quiet libraries and one-line reasons. Standard library only."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

from tui.core.routes.base import RouteUnavailable


def importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a dotted name whose parent is missing
        return False


def quiet() -> None:
    """No hub, no progress bars in the worker's log; warnings of the libraries stay in the log only."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TQDM_DISABLE"] = "1"
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else exc.__class__.__name__)[:200]


# ---------------------------------------------------------------------------------------------------------------
# The model's own sentence-transformers head, read from its files


def model_head(model_dir: Path) -> dict:
    """Pooling, normalization, max_seq_length and dimension as the model's sentence-transformers modules say."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
    except (OSError, ValueError) as exc:
        raise RouteUnavailable(f"{model_dir} has no readable modules.json ({first_line(exc)}): the peers need a "
                               f"sentence-transformers model folder") from None
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    head = {"modules": ",".join(kinds), "normalize": "Normalize" in kinds, "pooling": None, "dim": None,
            "max_seq_length": 256}
    try:
        head["max_seq_length"] = int(json.loads((model_dir / "sentence_bert_config.json").read_text())
                                     ["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # sentence-transformers' own fallback is the tokenizer's limit; 256 is qtui's (models.max_seq_length)
    for m in modules:
        if m.get("type", "").endswith(".Pooling"):
            try:
                cfg = json.loads((model_dir / m.get("path", "") / "config.json").read_text())
            except (OSError, ValueError):
                cfg = {}
            modes = [k[len("pooling_mode_"):] for k, v in cfg.items() if k.startswith("pooling_mode_") and v is True]
            head["pooling"] = ",".join(modes) or cfg.get("pooling_mode") or "mean_tokens"
            head["dim"] = cfg.get("word_embedding_dimension")
    if head["dim"] is None:
        try:
            head["dim"] = int(json.loads((model_dir / "config.json").read_text())["hidden_size"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return head


def copy_model(model_dir: Path, dst: Path) -> Path:
    """The model's files copied into `dst` (the recipes write beside the model: never into the packaged folder).
    Exported folders it may ship (onnx/, openvino/) are left out, so every peer is built from the weights."""
    shutil.copytree(model_dir, dst, ignore=shutil.ignore_patterns("onnx", "openvino", "*.onnx", ".cache"),
                    dirs_exist_ok=True)
    return dst


def drop_weights(folder: Path) -> None:
    """The torch weights of the copy: the exported backends never read them (the artefact stays small)."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        (folder / name).unlink(missing_ok=True)


def size_mb(*files: Path) -> float:
    return round(sum(f.stat().st_size for f in files) / 1e6, 2)
