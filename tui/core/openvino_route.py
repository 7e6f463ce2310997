"""The OpenVINO routes: the fp32 ONNX export read into OpenVINO IR, static int8 from nncf, run on the CPU plugin.

OpenVINO, nncf and the tokenizer are imported inside functions: importing this module is cheap. IR is an
.xml + .bin pair; both are written into a temporary directory beside the target and renamed into place, .bin
first and .xml last, so a reader that finds the .xml finds its weights.

Nothing here may print or phone home: nncf logs to stdout and draws rich progress bars, and both nncf and
OpenVINO's converter send telemetry unless told not to.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.onnx_route import Tokenize, encode_in_batches, quiet_python_logs

if TYPE_CHECKING:
    import numpy as np

CALIBRATION_BATCH = 1  # one text per sample: no padding tokens skew the activation ranges


# ----------------------------------------------------------------------------------------------- quiet


def quiet_nncf():
    """Import nncf with telemetry off and its stdout logger turned down to errors."""
    # nncf's only switch for telemetry is this variable (it stubs the sender); we make no network calls.
    os.environ.setdefault("NNCF_CI", "1")
    import nncf

    nncf.set_log_level(logging.ERROR)
    return nncf


@contextlib.contextmanager
def no_rich_progress() -> Iterator[None]:
    """nncf's progress bars draw on rich's global console; make that console quiet while nncf runs."""
    try:
        from rich import get_console
    except ImportError:  # no rich, no bars
        yield
        return
    console = get_console()
    was_quiet = console.quiet
    console.quiet = True
    try:
        yield
    finally:
        console.quiet = was_quiet


# ----------------------------------------------------------------------------------------------- files


@contextlib.contextmanager
def atomic_ir(out_xml: Path) -> Iterator[Path]:
    """Yield an .xml path in a temp directory beside `out_xml`; on success the pair moves into place."""
    out_xml = Path(out_xml)
    out_xml.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = out_xml.parent / f".{out_xml.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    tmp_dir.mkdir()
    try:
        tmp_xml = tmp_dir / out_xml.name
        yield tmp_xml
        # .bin first: a reader that sees the new .xml must find the weights it describes.
        os.replace(tmp_xml.with_suffix(".bin"), out_xml.with_suffix(".bin"))
        os.replace(tmp_xml, out_xml)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def save_ir(model, out_xml: Path) -> None:
    import openvino as ov

    with atomic_ir(out_xml) as tmp_xml:
        # compress_to_fp16 defaults to True, which would silently make the "fp32" route fp16 weights.
        ov.save_model(model, str(tmp_xml), compress_to_fp16=False)


# ------------------------------------------------------------------------------------------- convert


def convert_openvino_fp32(onnx_fp32_path: Path, out_xml: Path) -> None:
    """The fp32 ONNX export as OpenVINO IR, dynamic batch and sequence kept, weights left in fp32.

    Read with the runtime's ONNX frontend (Core.read_model) rather than ov.convert_model: same graph, no
    torch re-trace, and no telemetry from the converter.
    """
    import openvino as ov

    model = ov.Core().read_model(str(onnx_fp32_path))
    save_ir(model, out_xml)


# ------------------------------------------------------------------------------------------ quantize


def calibration_samples(model_dir: Path, input_names: list[str], texts: list[str]) -> list[dict[str, np.ndarray]]:
    """Model inputs for nncf, tokenized exactly as at inference time."""
    tokenize = Tokenize(model_dir)
    return [tokenize(texts[i:i + CALIBRATION_BATCH], input_names) for i in range(0, len(texts), CALIBRATION_BATCH)]


def quantize_openvino_int8(model_dir: Path, fp32_xml: Path, out_xml: Path, calibration_texts: list[str]) -> dict:
    """Static int8 (weights per-channel, activations per-tensor) with nncf's transformer preset, no SmoothQuant."""
    import openvino as ov

    if not calibration_texts:
        raise ValueError("static int8 needs calibration texts")
    nncf = quiet_nncf()
    model = ov.Core().read_model(str(fp32_xml))
    input_names = [port.get_any_name() for port in model.inputs]
    samples = calibration_samples(model_dir, input_names, calibration_texts)
    # SmoothQuant (on by default for transformers, alpha 0.95) fits its scales to the calibration texts: texts
    # unlike them fell to cosine 0.60-0.87 here, against ~0.99 without it whatever the calibration set.
    no_smooth_quant = nncf.AdvancedQuantizationParameters(
        smooth_quant_alphas=nncf.AdvancedSmoothQuantParameters(matmul=-1, convolution=-1))
    with no_rich_progress(), quiet_python_logs("nncf", "openvino", ""):
        quantized = nncf.quantize(model, nncf.Dataset(samples), model_type=nncf.ModelType.TRANSFORMER,
                                  subset_size=len(samples), advanced_parameters=no_smooth_quant)
    save_ir(quantized, out_xml)
    return {"calibration_texts": len(calibration_texts), "calibration_batch": CALIBRATION_BATCH,
            "model_type": "transformer", "preset": "mixed", "smooth_quant": False,
            "fake_quantize_ops": count_ops(quantized, "FakeQuantize"), "weights": "int8 per-channel",
            "activations": "int8 per-tensor"}


def count_ops(model, op_type: str) -> int:
    return sum(1 for op in model.get_ops() if op.get_type_name() == op_type)


# -------------------------------------------------------------------------------------------- encode


def compile_config(threads: int, inference_precision: str | None) -> dict:
    """CPU plugin settings through the properties API (string keys work too, but these are checked names)."""
    import openvino as ov
    import openvino.properties as props
    import openvino.properties.hint as hints

    config = {props.inference_num_threads: threads, hints.performance_mode: hints.PerformanceMode.LATENCY}
    if inference_precision:
        # On CPUs with bf16 units (AVX512_BF16, AMX) the plugin would otherwise run fp32 layers in bf16.
        config[hints.inference_precision] = getattr(ov.Type, inference_precision)  # "f32", "bf16", "f16"
    return config


class OpenVinoEncoder:
    """An OpenVINO IR sentence-embedding graph compiled for the CPU, with dynamic batch and sequence."""

    def __init__(self, xml_path: Path, model_dir: Path, *, threads: int,
                 inference_precision: str | None = "f32") -> None:
        import openvino as ov
        import openvino.properties as props
        import openvino.properties.hint as hints

        core = ov.Core()
        self.compiled = core.compile_model(core.read_model(str(xml_path)), "CPU",
                                           compile_config(threads, inference_precision))
        self.request = self.compiled.create_infer_request()
        self.input_names = [port.get_any_name() for port in self.compiled.inputs]
        self.tokenize = Tokenize(model_dir)
        self.threads = int(self.compiled.get_property(props.inference_num_threads))
        self.inference_precision = self.compiled.get_property(hints.inference_precision).get_type_name()

    def _run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        result = self.request.infer(feeds)
        return np.array(result[self.compiled.output(0)], dtype=np.float32)  # a copy: the buffer is reused

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return encode_in_batches(self._run, self.tokenize, self.input_names, texts, batch_size)
