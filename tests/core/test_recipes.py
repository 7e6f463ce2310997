"""The short recipes the terminal prints: an export command qtui's own parser accepts with the lines that load the
folder (names encode.py defines), and torch code that runs."""

import ast
import shlex

import pytest

from tui.cli import build_parser
from tui.core.export.standalone import encode_py
from tui.core.models import DEFAULT_MODEL_NAME
from tui.core.recipes import recipe_for
from tui.core.routes import ROUTES

MIX_FACTS = {"kept_fp32": ["encoder.layer.0.output.dense"], "kept_dtype": "fp32"}
# Every route whose short recipe is `qtui export` and the runtime its folder's encode.py is rendered for.
EXPORTED = {rid: spec.backend for rid, spec in ROUTES.items()
            if spec.backend in ("onnxruntime", "openvino") or rid.endswith("-mixed")}


def split(short: str) -> tuple[list[str], str]:
    """(the shell command's words, the Python) of a short export recipe."""
    shell = [line.removeprefix("$ ") for line in short.splitlines() if line.startswith("$ ")]
    python = "\n".join(line for line in short.splitlines() if not line.startswith("$ "))
    assert len(shell) == 1, short
    return shlex.split(shell[0], comments=True), python


def test_the_exported_routes_are_the_ones_qtui_export_accepts():
    from tui.core.export import exportable

    assert EXPORTED and all(exportable(ROUTES[rid]) for rid in EXPORTED)
    assert {"ort-qint8", "openvino-int8", "ort-qint8-mixed", "openvino-int8-mixed",
            "torch-qint8-x86-mixed"} <= set(EXPORTED)


@pytest.mark.parametrize("route_id", sorted(EXPORTED))
def test_a_short_export_recipe_is_a_command_qtui_parses_and_lines_encode_py_runs(route_id):
    recipe = recipe_for(route_id, DEFAULT_MODEL_NAME, 2, MIX_FACTS)
    words, python = split(recipe.short)
    assert words[0] == "qtui"
    args = build_parser().parse_args(words[1:])
    exported = "openvino-int8" if route_id == "openvino-int8-fixed" else route_id  # as the full recipe says
    assert (args.command, args.route, args.out, args.model) == ("export", exported, exported, None)
    assert args.route in ROUTES
    tree = ast.parse(python)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "encode"
                for a in n.names}
    defined = {n.name for n in ast.parse(encode_py(EXPORTED[route_id])).body if isinstance(n, ast.FunctionDef)}
    assert imported and imported <= defined
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert imported <= called  # each name it imports, it uses
    # The folder it puts on sys.path is the one the command writes.
    assert f"sys.path.insert(0, {exported!r})" in python
    if EXPORTED[route_id] == "torch":  # a torch mix: its full recipe is torch code naming the kept layers
        assert len(recipe.short.splitlines()) < len(recipe.splitlines())
    else:  # encode.py itself stays in the full recipe
        assert encode_py(EXPORTED[route_id]) in recipe and encode_py(EXPORTED[route_id]) not in recipe.short
        assert len(recipe.short.splitlines()) < len(recipe.splitlines()) // 10


def test_the_export_command_names_the_reports_model_unless_it_is_the_packaged_one(tmp_path):
    model = str(tmp_path / "my model")
    words, _ = split(recipe_for("ort-qint8", model, 2).short)
    assert build_parser().parse_args(words[1:]).model == model  # quoted: a path with a space stays one word
    assert f"--model {shlex.quote(model)}" in recipe_for("ort-qint8", model, 2)  # the full recipe's command too
    assert "--model" not in recipe_for("ort-qint8", DEFAULT_MODEL_NAME, 2).short


def test_a_mix_says_where_its_export_finds_the_kept_layers():
    recipe = recipe_for("ort-qint8-mixed", "", 2, MIX_FACTS)
    assert "--report FILE" in recipe.short and "encoder.layer.0.output.dense" in recipe  # listed in full
    assert recipe_for("ort-qint8-mixed", "", 2, {}) is None  # no kept layers: nothing to reproduce


def test_torch_routes_keep_their_few_lines_and_pt2e_has_no_shorter_form():
    per_channel = recipe_for("torch-qint8-onednn-perchannel", "", 2)
    assert per_channel.short == per_channel and "torch.backends.quantized.engine = 'onednn'" in per_channel
    assert len(per_channel.splitlines()) <= 12
    pt2e = recipe_for("torch-pt2e-int8", "", 2)
    assert pt2e.short is None and len(pt2e.splitlines()) > 40
    assert recipe_for("torch-fp32", "", 2) is None


def test_a_recipe_is_its_full_text_and_keeps_its_short_form_when_copied():
    import copy
    import pickle

    recipe = recipe_for("openvino-int8", "", 2)
    assert isinstance(recipe, str) and recipe.startswith("# qtui export openvino-int8")
    for kept in (copy.deepcopy(recipe), pickle.loads(pickle.dumps(recipe))):  # noqa: S301 - our own object
        assert kept == recipe and kept.short == recipe.short and kept.short.startswith("$ qtui export")


def tiny_sentence_transformer(folder) -> str:
    """A BERT of one small layer with a vocabulary of ten words, saved where SentenceTransformer(path) loads it."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "an", "example", "sentence"]) + "\n")
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(folder)
    config = BertConfig(vocab_size=8, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    BertModel(config).save_pretrained(folder)
    return str(folder)


@pytest.mark.parametrize("suffix", ["", "-perchannel"])
def test_the_short_torch_recipe_runs_and_quantizes_every_linear_on_its_engine(tmp_path, suffix):
    import torch

    from tui.core.cpu import detect
    from tui.core.engines import recommend

    engine = recommend(detect()).engine or "qnnpack"  # an engine this host has
    short = recipe_for(f"torch-qint8-{engine}{suffix}", tiny_sentence_transformer(tmp_path), 1).short
    before = torch.backends.quantized.engine
    scope: dict = {}
    try:
        exec(short, scope)  # noqa: S102 - our recipe, as a user would paste it
        ran_on = torch.backends.quantized.engine
    finally:
        torch.backends.quantized.engine = before
    bert = scope["model"][0].auto_model
    linears = [m for m in bert.modules() if type(m).__name__ == "Linear"]
    assert linears and all("quantized.dynamic" in type(m).__module__ for m in linears)  # every one int8
    scheme = torch.per_channel_affine if suffix else torch.per_tensor_affine
    assert all(m.weight().qscheme() == scheme for m in linears)
    assert ran_on == engine and scope["embeddings"].shape == (1, 16)
