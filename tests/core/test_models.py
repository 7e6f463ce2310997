import json
import shutil

import pytest

from tui.core.models import DEFAULT_MODEL_NAME, ModelError, packaged_model_dir, resolve_model


@pytest.fixture
def model_copy(tmp_path):
    """A copy of the packaged model's small files, with a stand-in weights file (resolution only looks)."""
    src = packaged_model_dir()
    dst = tmp_path / "model"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.safetensors"))
    (dst / "model.safetensors").write_bytes(b"stand-in")
    return dst


def test_default_is_the_packaged_minilm():
    ref = resolve_model(None)
    assert ref.name == DEFAULT_MODEL_NAME
    assert (ref.path / "config.json").is_file() and ref.fingerprint


def test_local_directory(model_copy):
    ref = resolve_model(str(model_copy))
    assert ref.path == model_copy.resolve() and ref.fingerprint


def test_fingerprint_changes_with_the_weights(model_copy):
    before = resolve_model(str(model_copy)).fingerprint
    (model_copy / "model.safetensors").write_bytes(b"other weights, other size")
    assert resolve_model(str(model_copy)).fingerprint != before


@pytest.mark.parametrize("kind, phrase", [
    ("missing", "no such directory"), ("file", "is a file"), ("no-config", "no config.json"),
    ("corrupt-config", "config.json is corrupt"), ("no-model-type", "no model_type"),
    ("remote-code", "trust_remote_code"), ("no-weights", "no weights"), ("no-tokenizer", "no tokenizer"),
])
def test_unusable_model_dirs_are_one_line_errors(tmp_path, model_copy, kind, phrase):
    target = model_copy
    if kind == "missing":
        target = tmp_path / "nope"
    elif kind == "file":
        target = tmp_path / "f.txt"
        target.write_text("x")
    elif kind == "no-config":
        (model_copy / "config.json").unlink()
    elif kind == "corrupt-config":
        (model_copy / "config.json").write_text('{"model_type": "bert", ')
    elif kind == "no-model-type":
        (model_copy / "config.json").write_text("{}")
    elif kind == "remote-code":
        config = json.loads((model_copy / "config.json").read_text())
        config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
        (model_copy / "config.json").write_text(json.dumps(config))
    elif kind == "no-weights":
        (model_copy / "model.safetensors").unlink()
    elif kind == "no-tokenizer":
        for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json"):
            (model_copy / name).unlink()
    with pytest.raises(ModelError) as info:
        resolve_model(str(target))
    assert phrase in str(info.value) and "\n" not in str(info.value)


def test_hub_name_not_cached_is_refused_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ModelError, match="--allow-download"):
        resolve_model("sentence-transformers/paraphrase-MiniLM-L3-v2")


def test_hub_name_found_in_the_local_cache(tmp_path, monkeypatch, model_copy):
    snapshot = tmp_path / "hub" / "models--sentence-transformers--tiny" / "snapshots" / "abc123"
    shutil.copytree(model_copy, snapshot)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    ref = resolve_model("tiny")
    assert ref.path == snapshot and ref.name == "tiny"
