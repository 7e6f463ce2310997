"""The peers' recipes: the code a user runs to get what qtui measured as fastembed or sentence-transformers' own
recipes — their projects' documented calls, with the settings the run's worker recorded (its facts), in the
peers' environment (peers-requirements.txt), not qtui's."""

from __future__ import annotations

from tui.core.models import DEFAULT_MODEL_NAME

ENVIRONMENT = "# pip install -r peers-requirements.txt   (qtui's pins for these; they conflict with qtui's own)\n"


def _model_dir(model: str) -> str:
    if not model or model == DEFAULT_MODEL_NAME:
        return "model_dir = 'path/to/all-MiniLM-L6-v2'  # your sentence-transformers folder\n"
    return f"model_dir = {model!r}\n"


def _fastembed(model: str, threads: int, facts: dict, parallel: bool) -> str:
    pooling = str(facts.get("pooling") or "mean").upper()
    normalization = bool(facts.get("normalization", True))
    max_length = facts.get("max_length") or 256
    dim = facts.get("dim") or "DIM  # your model's embedding width"
    return (
        ENVIRONMENT + "import json, pathlib\n"
        "from fastembed import TextEmbedding\n"
        "from fastembed.common.model_description import ModelSource, PoolingType\n"
        "from sentence_transformers import SentenceTransformer\n\n" + _model_dir(model)
        + "folder = pathlib.Path('model-onnx')\n"
        "SentenceTransformer(model_dir, backend='onnx').save_pretrained(str(folder))  # writes onnx/model.onnx\n"
        "config = folder / 'tokenizer_config.json'  # fastembed truncates at model_max_length: make it the model's\n"
        "settings = json.loads(config.read_text())\n"
        f"config.write_text(json.dumps({{**settings, 'model_max_length': {max_length}, 'max_length': {max_length}}}))\n"
        f"TextEmbedding.add_custom_model(model='local/model', pooling=PoolingType.{pooling}, "
        f"normalization={normalization},\n"
        "                                sources=ModelSource(hf='local/model'), model_file='onnx/model.onnx',\n"
        f"                                output_name='last_hidden_state', dim={dim})\n"
        f"model = TextEmbedding('local/model', specific_model_path=str(folder), threads={threads})\n"
        + ("embeddings = list(model.embed(texts, parallel=0))  # one process per core\n" if parallel
           else "embeddings = list(model.embed(texts))  # batch 256, fastembed's default\n")
    )


def _st_onnx(model: str, threads: int, facts: dict) -> str:
    config = str(facts.get("quantization_config") or "avx512_vnni").split(":", 1)[0]
    file_name = facts.get("model_file") or f"onnx/model_qint8_{config}.onnx"
    return (
        ENVIRONMENT + "import onnxruntime\n"
        "from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model\n\n"
        + _model_dir(model)
        + "model = SentenceTransformer(model_dir, backend='onnx')\n"
        f"export_dynamic_quantized_onnx_model(model, {config!r}, model_dir)  # this CPU's config; writes onnx/ there\n"
        f"options = onnxruntime.SessionOptions()\noptions.intra_op_num_threads = {threads}\n"
        "model = SentenceTransformer(model_dir, backend='onnx',\n"
        f"                            model_kwargs={{'file_name': {file_name!r}, 'session_options': options}})\n"
        "embeddings = model.encode(texts)\n"
    )


def _st_openvino(model: str, threads: int, facts: dict) -> str:
    file_name = facts.get("model_file") or "openvino/openvino_model_qint8_quantized.xml"
    return (
        ENVIRONMENT + "from optimum.intel import OVQuantizationConfig\n"
        "from sentence_transformers import SentenceTransformer, export_static_quantized_openvino_model\n\n"
        + _model_dir(model)
        + "model = SentenceTransformer(model_dir, backend='openvino')\n"
        "# Calibration: a folder holding train.jsonl, one {\"text\": ...} per line, of texts like yours (not the ones\n"
        "# you evaluate on); the recipe's default, glue/sst2, comes from the Hugging Face hub.\n"
        "export_static_quantized_openvino_model(model, OVQuantizationConfig(), model_dir,  # writes openvino/ there\n"
        "                                       dataset_name='calibration', dataset_config_name='default',\n"
        "                                       dataset_split='train', column_name='text')\n"
        "model = SentenceTransformer(model_dir, backend='openvino',\n"
        f"                            model_kwargs={{'file_name': {file_name!r},\n"
        f"                                          'ov_config': {{'INFERENCE_NUM_THREADS': {threads}}}}})\n"
        "embeddings = model.encode(texts)\n"
    )


def peer_recipe(route_id: str, model: str, threads: int, facts: dict | None) -> str | None:
    facts = facts or {}
    return {
        "fastembed": lambda: _fastembed(model, threads, facts, parallel=False),
        "fastembed-parallel": lambda: _fastembed(model, threads, facts, parallel=True),
        "st-onnx-qint8": lambda: _st_onnx(model, threads, facts),
        "st-openvino-qint8": lambda: _st_openvino(model, threads, facts),
    }.get(route_id, lambda: None)()
