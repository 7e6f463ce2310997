"""The ONNX Runtime routes: export the SentenceTransformer to ONNX, quantize it to int8, run it with ORT.

The exported graph is the whole sentence pipeline — transformer, pooling, normalisation — so it outputs the
final embedding (batch, dim) and needs no torch at run time. Everything heavy (torch, onnxruntime,
sentence-transformers) is imported inside functions: importing this module is cheap.

Nothing here may print: a terminal UI draws on the same screen. Library loggers, warnings and progress bars
are turned down where each library is used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.models import max_seq_length, quiet_transformers
from tui.core.routes.base import RouteUnavailable

if TYPE_CHECKING:
    import numpy as np

ONNX_OPSET = 17
TOKEN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
ORT_QUIET = 3  # ORT severity: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal
SUPPORTED_POOLING = ("mean", "cls", "max")
HEADS_KEY, HIDDEN_KEY = "qtui.num_attention_heads", "qtui.hidden_size"  # ONNX metadata for ORT's fusions


class UnsupportedModel(RouteUnavailable):
    """The model's pipeline has a module this exporter does not rebuild in the graph (the message says which).

    A RouteUnavailable: the bench shows the ONNX/OpenVINO routes as unavailable with this reason, not as a crash.
    """


# ----------------------------------------------------------------------------------------------- quiet


@contextlib.contextmanager
def quiet_python_logs(*logger_names: str) -> Iterator[None]:
    """Warnings and library log records below ERROR go nowhere while the block runs (they would reach stderr)."""
    loggers = [logging.getLogger(name) for name in logger_names]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


def quiet_onnxruntime() -> None:
    """ORT's process-wide logger prints warnings (e.g. unused initializers) straight to stderr from C++."""
    import onnxruntime as ort

    ort.set_default_logger_severity(ORT_QUIET)


# ----------------------------------------------------------------------------------------------- files


def temp_path_beside(target: Path, suffix: str) -> Path:
    """A fresh name in the target's directory, so os.replace onto the target is an atomic rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Not mkstemp: its 0600 mode would stick to the artefact; the library creating the file honours the umask.
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")


@contextlib.contextmanager
def atomic_target(target: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temp path to write; on success it replaces `target`, on failure it is removed."""
    tmp = temp_path_beside(target, suffix)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- export


def describe_head(st_model) -> tuple[str, bool]:
    """(pooling mode, normalise?) of the modules after the transformer; anything else cannot be exported."""
    pooling, normalize = None, False
    for module in list(st_model)[1:]:
        kind = type(module).__name__
        if kind == "Pooling":
            pooling = str(getattr(module, "pooling_mode", "mean"))
        elif kind == "Normalize":
            normalize = True
        else:
            raise UnsupportedModel(f"the ONNX export rebuilds Transformer → Pooling → Normalize only; this model "
                                   f"also has a {kind} module")
    if pooling not in SUPPORTED_POOLING:
        raise UnsupportedModel(f"the ONNX export supports {', '.join(SUPPORTED_POOLING)} pooling; this model "
                               f"uses {pooling or 'no pooling module'}")
    return pooling, normalize


def transformer_of(st_model):
    """The Hugging Face model inside the first module; other first modules (static embeddings, CLIP) are out."""
    first = st_model[0]
    transformer = getattr(first, "auto_model", None)
    if transformer is None:
        raise UnsupportedModel(f"the ONNX export needs a Transformer first module; this model starts with "
                               f"{type(first).__name__}")
    return transformer


def token_input_names(tokenizer) -> list[str]:
    """The graph's inputs, in a fixed order: only those this tokenizer produces (many have no token_type_ids)."""
    produced = set(getattr(tokenizer, "model_input_names", TOKEN_INPUTS))
    names = [name for name in TOKEN_INPUTS if name in produced]
    if "input_ids" not in names or "attention_mask" not in names:
        raise UnsupportedModel(f"the tokenizer produces {sorted(produced)}; the export needs input_ids and "
                               f"attention_mask")
    return names


def build_embedding_graph(transformer, pooling: str, normalize: bool, input_names: list[str]):
    """A torch module whose forward is the whole sentence pipeline, for tracing into ONNX."""
    import torch

    class EmbeddingGraph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *tensors):
            # Keyword arguments: transformers 5 rejects the old positional order of BertModel.forward.
            inputs = dict(zip(input_names, tensors, strict=True))
            tokens = self.transformer(**inputs, return_dict=True).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            if pooling == "cls":
                sentence = tokens[:, 0]
            elif pooling == "max":
                sentence = tokens.masked_fill(mask == 0, -1e9).max(dim=1).values
            else:
                # Elementwise multiply + sum, not a matmul: int8 quantizers leave it in fp32.
                sentence = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            if normalize:
                sentence = torch.nn.functional.normalize(sentence, p=2.0, dim=1)
            return sentence

    return EmbeddingGraph().eval()


def example_batch(tokenizer, input_names: list[str], max_length: int):
    """Two texts of different lengths, so the traced graph sees padding and a real attention mask."""
    encoded = tokenizer(["An example sentence to trace the graph with padding.", "Short one."],
                        padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    return tuple(encoded[name] for name in input_names)


def export_onnx(model_dir: Path, out_path: Path) -> None:
    """Export the SentenceTransformer at `model_dir` to an fp32 ONNX file whose output is the sentence embedding."""
    import torch

    from tui.core.models import load_sentence_transformer

    quiet_transformers()
    st_model = load_sentence_transformer(model_dir).eval()
    pooling, normalize = describe_head(st_model)
    tokenizer = st_model.tokenizer
    input_names = token_input_names(tokenizer)
    transformer = transformer_of(st_model)
    # SDPA traces into a graph ORT's fusions do not recognise; eager attention is the classic BERT pattern.
    with contextlib.suppress(Exception):
        transformer.set_attn_implementation("eager")
    graph = build_embedding_graph(transformer, pooling, normalize, input_names)
    example = example_batch(tokenizer, input_names, max_seq_length(Path(model_dir)))
    dynamic = {name: {0: "batch", 1: "sequence"} for name in input_names}
    dynamic["sentence_embedding"] = {0: "batch"}
    with atomic_target(Path(out_path), ".onnx") as tmp, quiet_python_logs("torch", "transformers"), \
            torch.no_grad():
        torch.onnx.export(graph, example, str(tmp), dynamo=False, opset_version=ONNX_OPSET,
                          input_names=input_names, output_names=["sentence_embedding"], dynamic_axes=dynamic,
                          do_constant_folding=True)
        stamp_shape(tmp, transformer.config)


def stamp_shape(onnx_path: Path, config) -> None:
    """Record heads and hidden size in the ONNX metadata (so the int8 step needs only the .onnx file) and pin
    the embedding width, which the tracer leaves symbolic after the normalising division."""
    import onnx

    model = onnx.load(str(onnx_path))
    for key, attr in ((HEADS_KEY, "num_attention_heads"), (HIDDEN_KEY, "hidden_size")):
        value = getattr(config, attr, None)
        if value:
            model.metadata_props.add(key=key, value=str(value))
    width = model.graph.output[0].type.tensor_type.shape.dim[1]
    if getattr(config, "hidden_size", None):
        width.dim_value = int(config.hidden_size)  # pooling keeps the hidden width
    onnx.save(model, str(onnx_path))


# -------------------------------------------------------------------------------------------- quantize


def transformer_shape(onnx_path: Path) -> tuple[int, int]:
    """(attention heads, hidden size) stamped into the export; (0, 0) lets ORT's fusions detect them."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    return int(meta.get(HEADS_KEY, 0)), int(meta.get(HIDDEN_KEY, 0))


def optimize_transformer(fp32_path: Path, out_path: Path) -> dict[str, int]:
    """ORT's BERT fusions (attention, layer norm, GELU) on the fp32 graph; returns the fused-op counts."""
    from onnxruntime.transformers.optimizer import optimize_model

    heads, hidden = transformer_shape(fp32_path)
    with quiet_python_logs("onnxruntime", "onnxruntime.transformers", ""):
        # opt_level=0: Python fusions only, so the saved graph is not tied to this CPU's ORT kernels.
        optimized = optimize_model(str(fp32_path), model_type="bert", num_heads=heads, hidden_size=hidden,
                                   opt_level=0)
        fused = {op: n for op, n in optimized.get_fused_operator_statistics().items() if n}
        optimized.save_model_to_file(str(out_path))
    return fused


def graph_scope(layer: str) -> str:
    """The scope torch.onnx.export names a Linear's nodes with: 'encoder.layer.3.output.dense' →
    '/transformer/encoder/layer.3/output/dense' (the export wraps the model as `transformer`; OpenVINO keeps the
    names when it converts the export)."""
    scope = ""
    for part in layer.split("."):
        scope += f".{part}" if part.isdigit() and scope else f"/{part}"
    return "/transformer" + scope


def nodes_computing(layers, nodes: list[tuple[str, str, list[str]]]) -> tuple[list[str], list[str]]:
    """(the graph nodes that compute `layers`, the layers no node was found for); `nodes` are (name, op type,
    output names). A Linear is its MatMul; after ORT's fusions a layer's query, key and value projections are one
    Attention node, so keeping one of them in float keeps all three."""
    found, missing = [], []
    for layer in layers:
        scope = graph_scope(layer)
        matched = [name for name, op, _ in nodes if op in ("MatMul", "Gemm") and name.startswith(scope + "/")]
        if not matched:
            attention_scope = scope.rsplit("/", 1)[0] + "/"
            matched = [name for name, op, outputs in nodes
                       if op == "Attention" and any(o.startswith(attention_scope) for o in outputs)]
        found += [name for name in matched if name not in found]
        if not matched:
            missing.append(layer)
    return found, missing


def onnx_nodes(onnx_path: Path) -> list[tuple[str, str, list[str]]]:
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    return [(n.name, n.op_type, list(n.output)) for n in graph.node]


def quantize_onnx_int8(fp32_path: Path, out_path: Path, *, optimize: bool = True, reduce_range: bool = False,
                       keep_float: tuple[str, ...] = ()) -> dict:
    """Dynamic int8 of an fp32 export: per-channel QInt8 weights, uint8 activations, after ORT's fusions.

    `reduce_range` quantizes weights to 7 bits: ORT's u8s8 kernels on x86 without VNNI (VPMADDUBSW) can
    saturate int16 sums with full-range weights (onnxruntime#5849); VNNI has no such limit. `keep_float`:
    Linear layers (by their torch names) whose nodes stay float (a mixed route)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet_onnxruntime()
    fp32_path, out_path = Path(fp32_path), Path(out_path)
    facts: dict = {"optimized": False, "per_channel": True, "weight_type": "QInt8", "notes": ""}
    if reduce_range:
        facts["reduce_range"] = True
    source = fp32_path
    optimized_tmp = temp_path_beside(out_path, ".opt.onnx")
    try:
        if optimize:
            source, facts = try_optimize(fp32_path, optimized_tmp, facts)
        excluded: list[str] = []
        if keep_float:
            excluded, missing = nodes_computing(keep_float, onnx_nodes(source))
            if missing:
                raise ValueError(f"no node in the ONNX graph computes {', '.join(missing)}")
            facts["float_nodes"] = len(excluded)
        with atomic_target(out_path, ".onnx") as tmp, quiet_python_logs("onnxruntime", ""):
            quantize_dynamic(str(source), str(tmp), per_channel=True, weight_type=QuantType.QInt8,
                             reduce_range=reduce_range, nodes_to_exclude=excluded,
                             # Shape inference cannot see through ORT's fused contrib ops: say they are float.
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        optimized_tmp.unlink(missing_ok=True)
    return facts


def try_optimize(fp32_path: Path, optimized_tmp: Path, facts: dict) -> tuple[Path, dict]:
    """The optimized graph if ORT's fusions work on this export, else the plain export with a note why not."""
    try:
        fused = optimize_transformer(fp32_path, optimized_tmp)
    except Exception as exc:  # any optimizer failure: int8 without fusions is still a valid route
        return fp32_path, {**facts, "notes": f"ORT transformer optimizer failed ({exc.__class__.__name__}: "
                                             f"{str(exc)[:120]}); quantized the plain export"}
    summary = ", ".join(f"{op}x{n}" for op, n in sorted(fused.items())) or "nothing fused"
    return optimized_tmp, {**facts, "optimized": True, "fused": summary, "notes": f"ORT bert fusions: {summary}"}


# --------------------------------------------------------------------------------------- static QDQ int8

CALIBRATION_BATCH = 16
# ORT's CPU EP has QDQ kernels for MatMul/Gemm but none for the fused Attention: Q/DQ around it still runs the QKV
# projection in fp32, plus the Q/DQ (measured on MiniLM: ~20 % slower, cosine 0.9940 → 0.9927 with it).
QDQ_OP_TYPES = ("MatMul", "Gemm")
NOT_QUANTIZED = "Attention"
QDQ_OPTIONS = {
    # Asymmetric int8 activations: symmetric ones cost ~0.01 cosine here (GELU outputs are one-sided).
    "ActivationSymmetric": False,
    "WeightSymmetric": True,
    # MatMul outputs feed fp32 ops (BiasGelu, SkipLayerNormalization): a Q there only adds error, and without it
    # ORT fuses DQ → MatMul into MatMulIntegerToFloat.
    "OpTypesToExcludeOutputQuantization": list(QDQ_OP_TYPES),
    # Despite the name, this calibrates one batch per pass for every method: histogram methods (Entropy) fail on
    # batches of different lengths (onnxruntime#18792), and memory stays at one batch of activations.
    "CalibStridedMinMax": 1,
}


class CalibrationReader:
    """ORT's CalibrationDataReader protocol over calibration texts tokenized as OrtEncoder does (longest first,
    padded per batch). `__len__`/`set_range` let quantize_static calibrate one batch at a time."""

    def __init__(self, model_dir: Path, texts: list[str], input_names: list[str],
                 batch_size: int = CALIBRATION_BATCH) -> None:
        tokenize = Tokenize(model_dir)
        self.feeds = [tokenize([texts[i] for i in idx], input_names) for idx in batches_by_length(texts, batch_size)]
        self.rewind()

    def __len__(self) -> int:
        return len(self.feeds)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._pending = iter(self.feeds[start_index:end_index])

    def rewind(self) -> None:
        self.set_range(0, len(self.feeds))

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._pending, None)


def add_shape_types(source: Path, out_path: Path) -> None:
    """Symbolic shape inference: the QDQ quantizer skips tensors of unknown type, and ONNX's own inference cannot
    see through ORT's fused contrib ops; without it only the weights were quantized."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with quiet_quantizer():
        quant_pre_process(str(source), str(out_path), skip_optimization=True, auto_merge=True)


@contextlib.contextmanager
def quiet_quantizer() -> Iterator[None]:
    """The calibrators print() their progress; logs and warnings go too."""
    import io

    with quiet_python_logs("onnxruntime", ""), contextlib.redirect_stdout(io.StringIO()):
        yield


def keep_unquantized_inputs_float(onnx_path: Path) -> int:
    """Point consumers other than MatMul/Gemm back at the fp32 tensor; returns how many were moved.

    The quantizer hands its fake-quantized tensor to every consumer: the residual input of SkipLayerNormalization
    was rounded to int8 too, and the shared DequantizeLinear kept ORT from fusing the FFN's first MatMul (6 of 18
    MatMuls stayed fp32 with a weight DequantizeLinear on every run).
    """
    import onnx

    model = onnx.load(str(onnx_path))
    producer = {out: node for node in model.graph.node for out in node.output}
    float_of = {dq.output[0]: producer[dq.input[0]].input[0] for dq in model.graph.node
                if dq.op_type == "DequantizeLinear" and dq.input[0] in producer
                and producer[dq.input[0]].op_type == "QuantizeLinear"}
    moved = 0
    for node in model.graph.node:
        if node.op_type in QDQ_OP_TYPES:
            continue
        for k, name in enumerate(node.input):
            if name in float_of:
                node.input[k] = float_of[name]
                moved += 1
    onnx.save(model, str(onnx_path))
    return moved


def quantize_static_qdq(source: Path, out_path: Path, reader: CalibrationReader, method_name: str) -> None:
    """S8S8 QDQ, per-channel weights, calibrated with `method_name` ("MinMax" or "Entropy")."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    reader.rewind()
    with quiet_quantizer():
        quantize_static(str(source), str(out_path), reader, quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=list(QDQ_OP_TYPES), per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod[method_name], extra_options=dict(QDQ_OPTIONS))


def mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
    import numpy as np

    return float(((a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).mean())


def qdq_counts(onnx_path: Path) -> dict[str, int]:
    """Q/DQ nodes and MatMuls fed by a DequantizeLinear activation (i.e. really computed in int8)."""
    import onnx

    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    producer = {out: node.op_type for node in graph.node for out in node.output}
    int8_matmuls = sum(1 for node in graph.node if node.op_type in QDQ_OP_TYPES
                       and all(producer.get(name) == "DequantizeLinear" for name in node.input[:2]))
    return {"quantize_linear_ops": sum(n.op_type == "QuantizeLinear" for n in graph.node),
            "dequantize_linear_ops": sum(n.op_type == "DequantizeLinear" for n in graph.node),
            "int8_matmuls": int8_matmuls, "matmuls": sum(n.op_type in QDQ_OP_TYPES for n in graph.node),
            "attention_ops": sum(n.op_type == NOT_QUANTIZED for n in graph.node)}


def calibrate_candidate(source: Path, out_path: Path, reader: CalibrationReader, method_name: str,
                        model_dir: Path, reference: np.ndarray, texts: list[str]) -> tuple[float, float]:
    """Build one candidate; (mean cosine to fp32 on the calibration texts, seconds it took to build)."""
    import time

    start = time.perf_counter()
    quantize_static_qdq(source, out_path, reader, method_name)
    keep_unquantized_inputs_float(out_path)
    seconds = time.perf_counter() - start
    embeddings = OrtEncoder(out_path, model_dir, threads=0).encode(texts, CALIBRATION_BATCH)
    return mean_cosine(embeddings, reference), seconds


def quantize_onnx_qdq_int8(fp32_path: Path, out_path: Path, model_dir: Path, calibration_texts: list[str]) -> dict:
    """Static S8S8 QDQ int8 of an fp32 export, after ORT's fusions: calibrated with MinMax and with Entropy, the
    candidate closer to the fp32 export on the calibration texts is kept."""
    import tempfile
    import time

    if not calibration_texts:
        raise ValueError("static int8 needs calibration texts")
    start = time.perf_counter()
    quiet_onnxruntime()
    fp32_path, out_path = Path(fp32_path), Path(out_path)
    texts = list(calibration_texts)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    facts: dict = {"optimized": False, "notes": "", "format": "QDQ", "per_channel": True,
                   "weights": "int8 symmetric per-channel", "activations": "int8 asymmetric per-tensor",
                   "calibration_texts": len(texts), "calibration_batch": CALIBRATION_BATCH,
                   "quantized_op_types": ",".join(QDQ_OP_TYPES),
                   "excluded_op_types": f"{NOT_QUANTIZED} (fused; no QDQ kernel in ORT's CPU EP, stays fp32)"}
    # The temp dir sits beside the target, so the winner's os.replace onto it is an atomic rename.
    with tempfile.TemporaryDirectory(dir=out_path.parent, prefix=f".{out_path.name}.") as work_dir:
        work = Path(work_dir)
        source, facts = try_optimize(fp32_path, work / "optimized.onnx", facts)
        add_shape_types(source, work / "typed.onnx")
        reference = OrtEncoder(fp32_path, model_dir, threads=0)
        reader = CalibrationReader(model_dir, texts, reference.input_names)
        expected = reference.encode(texts, CALIBRATION_BATCH)
        cosines = {}
        for method in ("MinMax", "Entropy"):
            candidate = work / f"{method}.onnx"
            cosines[method], seconds = calibrate_candidate(work / "typed.onnx", candidate, reader, method, model_dir,
                                                           expected, texts)
            facts[f"cosine_{method.lower()}"] = round(cosines[method], 6)
            facts[f"build_s_{method.lower()}"] = round(seconds, 2)
        chosen = max(cosines, key=cosines.get)
        facts.update({"calibration": chosen.lower(), **qdq_counts(work / f"{chosen}.onnx")})
        os.replace(work / f"{chosen}.onnx", out_path)
    return {**facts, "build_s": round(time.perf_counter() - start, 1)}


# ---------------------------------------------------------------------------------------------- encode


def load_tokenizer(model_dir: Path):
    quiet_transformers()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir))


def batches_by_length(texts: list[str], batch_size: int) -> Iterator[np.ndarray]:
    """Indices of texts, longest first, in batches: the order SentenceTransformer.encode uses, so padding is
    the same for every route."""
    import numpy as np

    order = np.argsort([-len(t) for t in texts], kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


def lower_cases(model_dir: Path) -> bool:
    """sentence_bert_config.json's do_lower_case: SentenceTransformer lowercases texts before tokenizing."""
    import json

    try:
        return bool(json.loads((Path(model_dir) / "sentence_bert_config.json").read_text()).get("do_lower_case"))
    except (OSError, ValueError, AttributeError):
        return False


class Tokenize:
    """The model's tokenizer set up as SentenceTransformer uses it: pad to the batch's longest, truncate."""

    def __init__(self, model_dir: Path) -> None:
        self.tokenizer = load_tokenizer(model_dir)
        self.max_length = max_seq_length(Path(model_dir))
        self.lower_case = lower_cases(model_dir)

    def __call__(self, texts: list[str], names: list[str]) -> dict[str, np.ndarray]:
        import numpy as np

        if self.lower_case:
            texts = [t.lower() for t in texts]
        encoded = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                                 return_tensors="np")
        return {name: np.asarray(encoded[name], dtype=np.int64) for name in names}


def encode_in_batches(run, tokenize: Tokenize, names: list[str], texts: list[str], batch_size: int) -> np.ndarray:
    """Embeddings in the caller's order; `run(feeds) -> (batch, dim)` is the runtime's call."""
    import numpy as np

    if not texts:
        raise ValueError("encode needs at least one text")
    out: np.ndarray | None = None
    for idx in batches_by_length(texts, batch_size):
        embeddings = run(tokenize([texts[i] for i in idx], names))
        if out is None:
            out = np.empty((len(texts), embeddings.shape[1]), dtype=np.float32)
        out[idx] = embeddings
    return out


def session_options(threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # one model, one stream of batches: nothing to run side by side
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = ORT_QUIET
    return options


class OrtEncoder:
    """An ONNX sentence-embedding graph run by ONNX Runtime on the CPU."""

    def __init__(self, onnx_path: Path, model_dir: Path, *, threads: int) -> None:
        import onnxruntime as ort

        quiet_onnxruntime()
        self.session = ort.InferenceSession(str(onnx_path), sess_options=session_options(threads),
                                            providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.tokenize = Tokenize(model_dir)
        self.threads = threads

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return self.session.run(None, feeds)[0]

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return encode_in_batches(self._run, self.tokenize, self.input_names, texts, batch_size)
