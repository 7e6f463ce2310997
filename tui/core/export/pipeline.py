"""What the model does after its transformer, and how it tokenizes: read from the model's own
sentence-transformers files (modules.json, the Pooling module's config.json, sentence_bert_config.json,
tokenizer files), never assumed. A pipeline the exported code cannot rebuild is refused in one line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tui.core.models import max_seq_length

POOLING_MODES = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls",
                 "pooling_mode_max_tokens": "max"}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")


class PipelineError(ValueError):
    """The model's pipeline cannot be exported; one line saying which part and why."""


@dataclass(frozen=True)
class Pipeline:
    pooling: str  # "mean" | "cls" | "max"
    normalize: bool
    max_seq_length: int
    lower_case: bool
    sources: tuple[str, ...]  # the files these settings were read from, for qtui-export.json

    def to_json(self) -> dict:
        return {"pooling": self.pooling, "normalize": self.normalize, "max_seq_length": self.max_seq_length,
                "lower_case": self.lower_case, "read_from": list(self.sources)}


def _json(path: Path) -> dict | list:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PipelineError(f"{path}: unreadable ({exc.__class__.__name__}); re-save the model") from None


def read_pipeline(model_dir: Path) -> Pipeline:
    model_dir = Path(model_dir)
    modules_file = model_dir / "modules.json"
    if not modules_file.is_file():
        raise PipelineError(f"{model_dir} has no modules.json: not a sentence-transformers model, so its pooling "
                            f"is unknown (export needs it, and will not guess)")
    modules = _json(modules_file)
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules] if isinstance(modules, list) else []
    if not kinds or kinds[0] != "Transformer":
        raise PipelineError(f"{modules_file}: the first module is {kinds[0] if kinds else 'missing'}; export "
                            f"supports Transformer → Pooling [→ Normalize]")
    extra = [k for k in kinds[1:] if k not in ("Pooling", "Normalize")]
    if extra or "Pooling" not in kinds:
        raise PipelineError(f"{modules_file}: modules {' → '.join(kinds)}; export supports Transformer → Pooling "
                            f"[→ Normalize]")
    pooling_module = modules[kinds.index("Pooling")]
    pooling_file = model_dir / pooling_module.get("path", "") / "config.json"
    config = _json(pooling_file)
    modes = [mode for key, mode in POOLING_MODES.items() if config.get(key)]
    others = [k for k, v in config.items() if k.startswith("pooling_mode_") and v and k not in POOLING_MODES
              and k != "pooling_mode_kwargs"]
    # sentence-transformers 6 writes one "pooling_mode": "mean" (or a list) instead of a flag per mode.
    named = config.get("pooling_mode")
    for mode in [named] if isinstance(named, str) else named if isinstance(named, list) else []:
        (modes if mode in POOLING_MODES.values() else others).append(mode)
    if len(modes) != 1 or others:
        raise PipelineError(f"{pooling_file}: pooling {', '.join(modes + others) or 'none'}; export supports "
                            f"exactly one of mean, cls, max")
    sources = [str(modules_file.relative_to(model_dir)), str(pooling_file.relative_to(model_dir))]
    bert_config = model_dir / "sentence_bert_config.json"
    lower_case = False
    if bert_config.is_file():
        lower_case = bool(_json(bert_config).get("do_lower_case", False))
        sources.append(bert_config.name)
    return Pipeline(modes[0], "Normalize" in kinds, max_seq_length(model_dir), lower_case, tuple(sources))


def tokenizer_settings(model_dir: Path, max_length: int, lower_case: bool) -> dict:
    """What encode.py needs to tokenize as sentence-transformers does, from the model's fast tokenizer."""
    from tui.core.onnx_route import load_tokenizer, token_input_names

    if not (Path(model_dir) / "tokenizer.json").is_file():
        raise PipelineError(f"{model_dir} has no tokenizer.json (a fast tokenizer): encode.py tokenizes with the "
                            f"`tokenizers` library; re-save the model with a fast tokenizer")
    tokenizer = load_tokenizer(Path(model_dir))
    if tokenizer.pad_token is None:
        raise PipelineError(f"{model_dir}: the tokenizer has no pad token, so batches cannot be padded")
    return {"file": "tokenizer.json", "max_length": max_length, "lower_case": lower_case,
            "pad_token": tokenizer.pad_token, "pad_id": int(tokenizer.pad_token_id),
            "inputs": token_input_names(tokenizer)}


def tokenizer_files(model_dir: Path) -> list[Path]:
    return [Path(model_dir) / name for name in TOKENIZER_FILES if (Path(model_dir) / name).is_file()]
