"""Load this folder's embedding model and encode texts. Written by `qtui export`; needs no qtui.

    python encode.py < texts.txt          one vector per input line, numbers separated by spaces
    from encode import load               model = load(); vectors = model.encode(["a text", ...])

It needs only the route's runtime (named in qtui-export.json; torch routes also load the base model with
`transformers`; a static route is model2vec's own folder, loaded by model2vec), `tokenizers` and `numpy`. Its
settings — the thread count measured, the tokenizer's truncation (a length-capped route's cap:
runtime.max_seq_length), pooling and normalisation read from the model's own sentence-transformers config — are in
qtui-export.json beside it.

A folder exported for bulk over processes (`qtui export --pattern processes`) records the split measured there:
runtime.processes processes of runtime.threads threads each. `encode_in_processes(texts)` runs it that way, and
so does `python encode.py` then; a server runs that many workers, each calling load().
"""
# ==== section: common ====
import json
import os
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MANIFEST = "qtui-export.json"
# /proc/cpuinfo flag → the feature name qtui uses in qtui-export.json
CPUINFO_FLAGS = {"avx2": "avx2", "avx512f": "avx512f", "avx512_vnni": "avx512_vnni", "avx_vnni": "avx_vnni",
                 "amx_int8": "amx_int8", "avx512_bf16": "avx512_bf16", "asimddp": "dotprod", "i8mm": "i8mm"}


def read_manifest(directory):
    return json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))


def cpu_features():
    """This CPU's features from /proc/cpuinfo (Linux); None where that cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return {CPUINFO_FLAGS[f] for f in value.split() if f in CPUINFO_FLAGS}
    return None


def check_cpu(manifest, features=None, arch=None):
    """Warnings for this CPU: what the artefact needs to be accurate, and what it was tuned for to be fast."""
    import platform

    features = cpu_features() if features is None else set(features)
    arch = arch or platform.machine()
    if features is None or arch != manifest["cpu"]["arch"]:
        return []  # another OS or architecture: nothing to compare with what was recorded
    warnings = []
    for rule in manifest["cpu"]["needs"] + manifest["cpu"]["tuned_for"]:
        if not features & set(rule["any_of"]):
            warnings.append(f"this CPU has none of {', '.join(rule['any_of'])}: {rule['why']}")
    return warnings


# ==== section: transformer ====
class Tokenizer:
    """The model's tokenizer as sentence-transformers runs it: lower-cased if the model says so, truncated to
    its max_seq_length (or to `max_length`, a length-capped route's cap), padded to the longest text of each
    batch."""

    def __init__(self, directory, settings, max_length=None):
        from tokenizers import Tokenizer as FastTokenizer

        self.tokenizer = FastTokenizer.from_file(str(Path(directory) / settings["file"]))
        self.max_length = max_length or settings["max_length"]
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.enable_padding(pad_id=settings["pad_id"], pad_token=settings["pad_token"])
        self.lower_case = settings["lower_case"]
        self.inputs = settings["inputs"]

    def __call__(self, texts):
        if self.lower_case:
            texts = [t.lower() for t in texts]
        encodings = self.tokenizer.encode_batch(texts)
        columns = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings],
                   "token_type_ids": [e.type_ids for e in encodings]}
        return {name: np.asarray(columns[name], dtype=np.int64) for name in self.inputs}


def batches_by_length(texts, batch_size):
    """Longest texts first, as sentence-transformers batches them: little padding per batch."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]


class Encoder:
    """`encode(texts)` → float32 array (len(texts), dim), rows in the order of `texts`."""

    def __init__(self, run, tokenizer, manifest):
        self.run = run  # tokenized batch → (batch, dim) embeddings
        self.tokenizer = tokenizer
        self.manifest = manifest
        self.batch_size = manifest["runtime"]["batch_size"]

    def encode(self, texts, batch_size=None):
        texts = list(texts)
        order = list(batches_by_length(texts, batch_size or self.batch_size))
        feeds = (self.tokenizer([texts[i] for i in idx]) for idx in order)
        in_flight = getattr(self.run, "many", None)  # a runner that keeps several batches going at once
        out = None
        for idx, vectors in zip(order, in_flight(list(feeds)) if in_flight else map(self.run, feeds), strict=True):
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[idx] = vectors
        return out if out is not None else np.empty((0, 0), dtype=np.float32)


def make_encoder(directory, manifest, threads):
    """The tokenizer (cut at runtime.max_seq_length when the route caps its inputs), the runtime's runner
    (`make_runner`, below) and the batching around them."""
    tokenizer = Tokenizer(directory, manifest["tokenizer"], manifest["runtime"].get("max_seq_length"))
    return Encoder(make_runner(directory, manifest, threads), tokenizer, manifest)


# ==== section: onnxruntime ====
def make_runner(directory, manifest, threads):
    """The int8 ONNX graph (transformer, pooling and normalisation inside) on ONNX Runtime's CPU provider."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # one model, one stream of batches
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(str(Path(directory) / manifest["artefact"]["file"]), sess_options=options,
                                   providers=["CPUExecutionProvider"])
    return lambda feeds: session.run(None, feeds)[0]


# ==== section: openvino ====
def make_runner(directory, manifest, threads):  # noqa: F811  (one runtime's section is kept in encode.py)
    """The int8 OpenVINO IR (transformer, pooling and normalisation inside) compiled for the CPU plugin."""
    import openvino as ov
    import openvino.properties as props
    import openvino.properties.hint as hints

    runtime = manifest["runtime"]
    hint = runtime.get("performance_hint", "LATENCY")  # THROUGHPUT: several streams, requests in flight
    config = {props.inference_num_threads: threads, hints.performance_mode: getattr(hints.PerformanceMode, hint),
              # Stated: on CPUs with bf16 units the plugin would otherwise run the float layers in bf16.
              hints.inference_precision: getattr(ov.Type, runtime["inference_precision"])}
    if runtime.get("cpu_pinning") is False:  # processes side by side would pin their threads to the same cores
        config[hints.enable_cpu_pinning] = False
    compiled = ov.Core().compile_model(str(Path(directory) / manifest["artefact"]["file"]), "CPU", config)
    request = compiled.create_infer_request()
    output = compiled.output(0)

    def run(feeds):
        return np.array(request.infer(feeds)[output], dtype=np.float32)  # a copy: buffers are reused

    run.compiled = compiled  # to read the plugin's settings back: run.compiled.get_property("NUM_STREAMS")
    if hint == "THROUGHPUT":
        queue = ov.AsyncInferQueue(compiled, int(compiled.get_property(props.optimal_number_of_infer_requests)))

        def many(batches):
            """Each batch started as soon as an infer request is idle; results by batch index."""
            results = [None] * len(batches)

            def done(finished, index):
                results[index] = np.array(finished.get_output_tensor(0).data, dtype=np.float32)

            queue.set_callback(done)
            for index, feeds in enumerate(batches):
                queue.start_async(feeds, userdata=index)
            queue.wait_all()
            return results

        run.many = many
    return run


# ==== section: torch ====
def make_runner(directory, manifest, threads):  # noqa: F811  (one runtime's section is kept in encode.py)
    """The base model quantized at load (dynamic int8 nn.Linear, under a second), then pooled as the model's
    sentence-transformers config says. Quantizing at load, not unpickling quantized modules: those break
    across torch versions."""
    import logging
    import warnings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model: no network
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for name in ("torchao", "torch.utils._pytree"):  # transformers imports torchao if installed: it logs noise
        logging.getLogger(name).setLevel(logging.ERROR)
    import torch
    import transformers
    from transformers import AutoModel

    transformers.utils.logging.disable_progress_bar()
    torch.set_num_threads(threads)
    settings, pipeline = manifest["artefact"], manifest["pipeline"]
    model_dir = os.environ.get("QTUI_EXPORT_MODEL_DIR") or settings["base_model"]["path"]
    model = AutoModel.from_pretrained(model_dir).eval()

    class Bf16Linear(torch.nn.Module):
        """A Linear computed in bfloat16 that takes and gives the caller's dtype (a mix's kept layers)."""

        def __init__(self, linear):
            super().__init__()
            self.linear = linear.to(torch.bfloat16)

        def forward(self, x):
            return self.linear(x.to(torch.bfloat16)).to(x.dtype)

    torch.backends.quantized.engine = settings["engine"]  # before quantizing: weights are packed per engine
    with warnings.catch_warnings():  # torch 2.10+ flags torch.ao.quantization as deprecated; it still works
        warnings.simplefilter("ignore")
        from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

        qconfig = per_channel_dynamic_qconfig if settings["granularity"] == "per-channel" else default_dynamic_qconfig
        keep = set(settings.get("keep_fp32") or ())  # a mixed route: the layers measured too sensitive for int8
        spec = {torch.nn.Linear: qconfig} if not keep else {
            name: qconfig for name, m in model.named_modules() if isinstance(m, torch.nn.Linear) and name not in keep}
        model = quantize_dynamic(model, spec, dtype=torch.qint8)
        if keep and settings.get("kept_dtype") == "bf16":  # measured faster than fp32 on the CPU it ran on
            for name in keep:
                model.set_submodule(name, Bf16Linear(model.get_submodule(name)))

    def run(feeds):
        with torch.inference_mode():
            tensors = {name: torch.from_numpy(array) for name, array in feeds.items()}
            tokens = model(**tensors).last_hidden_state
            mask = tensors["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            if pipeline["pooling"] == "cls":
                sentence = tokens[:, 0]
            elif pipeline["pooling"] == "max":
                sentence = tokens.masked_fill(mask == 0, -1e9).max(dim=1).values
            else:
                sentence = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            if pipeline["normalize"]:
                sentence = torch.nn.functional.normalize(sentence, p=2.0, dim=1)
            return sentence.float().numpy()

    return run


# ==== section: model2vec ====
def make_encoder(directory, manifest, threads):  # noqa: F811  (one runtime's section is kept in encode.py)
    """model2vec's own folder (token vectors and tokenizer) loaded by model2vec: each text's tokens looked up and
    averaged (normalised as its config.json says); no transformer runs."""
    # The Rust tokenizer's thread pool: the threads measured (set before its first use, as the route does).
    os.environ["RAYON_RS_NUM_CPUS"] = str(threads)
    from model2vec import StaticModel

    folder = Path(directory) / manifest["artefact"]["folder"]
    return StaticEncoder(StaticModel.from_pretrained(str(folder), force_download=False), manifest)


class StaticEncoder:
    """`encode(texts)` → float32 array (len(texts), dim), rows in the order of `texts`, as the route ran it."""

    def __init__(self, static, manifest):
        self.static = static
        self.manifest = manifest
        self.batch_size = manifest["runtime"]["batch_size"]

    def encode(self, texts, batch_size=None):
        texts = list(texts)
        if not texts:
            return np.empty((0, self.static.dim), dtype=np.float32)
        # One process: model2vec would otherwise start a pool of its own above 10,000 texts.
        vectors = self.static.encode(texts, batch_size=batch_size or self.batch_size, show_progress_bar=False,
                                     use_multiprocessing=False)
        return np.asarray(vectors, dtype=np.float32)


# ==== section: main ====
def warn_about_cpu(manifest):
    for line in check_cpu(manifest):
        print(f"encode.py: warning: {line}", file=sys.stderr)


def load(directory=HERE, threads=None, warn=True):
    """The encoder of the artefact in `directory`, on `threads` threads (default: as measured)."""
    manifest = read_manifest(directory)
    if warn:
        warn_about_cpu(manifest)
    threads = threads or manifest["runtime"]["threads"]
    return make_encoder(directory, manifest, threads)


def _encode_chunk(args):
    directory, texts = args
    global _default
    if _default is None:  # once per worker process
        _default = load(directory, warn=False)
    return _default.encode(texts)


def encode_in_processes(texts, processes=None, directory=HERE):
    """Vectors of `texts` from `processes` worker processes (default: the split measured, in qtui-export.json),
    each loading the model with the measured threads per process; rows in the order of `texts`. Each call starts
    its processes (and loads the model in each): meant for a bulk job; a server keeps its workers instead."""
    import multiprocessing

    texts = list(texts)
    manifest = read_manifest(directory)
    processes = processes or manifest["runtime"].get("processes", 1)
    if processes == 1 or len(texts) < 2:
        return load(directory).encode(texts)
    warn_about_cpu(manifest)
    step = -(-len(texts) // processes)
    chunks = [(str(directory), texts[i:i + step]) for i in range(0, len(texts), step)]
    # spawn, not fork: a forked copy of a runtime's thread pool can hang
    with multiprocessing.get_context("spawn").Pool(len(chunks)) as pool:
        return np.concatenate(pool.map(_encode_chunk, chunks))


_default = None


def encode(texts, batch_size=None):
    """Vectors of `texts` from this folder's model (loaded on first use)."""
    global _default
    if _default is None:
        _default = load()
    return _default.encode(texts, batch_size)


if __name__ == "__main__":
    lines = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if lines:
        for vector in encode_in_processes(lines):
            print(" ".join(f"{x:.8g}" for x in vector))
