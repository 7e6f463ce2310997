"""torch routes: oneDNN's and MKL's verbose logs over one batch, torch's CPU capability, and FBGEMM's path
inferred from the features it dispatches on (FBGEMM has no verbose output).

Runs in the route's worker after the timed rounds: verbose logging slows oneDNN, so it is never on while a
round is timed. oneDNN and MKL print to the process's stdout (C stdio), so fd 1 is pointed at a temporary
file for the captured batch and restored after.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from tui.core.kernels import isa as isas
from tui.core.kernels import onednn
from tui.core.kernels.facts import INFERRED, OBSERVED, Capture, Fact, Gemms

FBGEMM_ENGINES = ("x86", "fbgemm")  # their dynamic int8 Linear is FBGEMM's (x86 picks oneDNN for static only)


def _flush_c_stdout() -> None:
    import ctypes

    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


@contextlib.contextmanager
def stdout_to_file():
    """fd 1 (where oneDNN and MKL print) into a temporary file; yields a function that returns its text."""
    import sys

    sys.stdout.flush()
    _flush_c_stdout()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 1)
        text: list[str] = []
        try:
            yield lambda: "".join(text)
        finally:
            _flush_c_stdout()
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            text.append(tmp.read().decode("utf-8", "replace"))


def _verbose_batch(run_batch) -> tuple[str | None, str | None]:
    """(the verbose text of one batch, or None and why)."""
    import torch

    mkldnn_verbose = getattr(torch.backends.mkldnn, "verbose", None)
    mkl_verbose = getattr(getattr(torch.backends, "mkl", None), "verbose", None)
    if mkldnn_verbose is None and mkl_verbose is None:
        return None, f"torch {torch.__version__} has no oneDNN or MKL verbose switch"
    with stdout_to_file() as captured, contextlib.ExitStack() as stack:
        try:
            if mkldnn_verbose is not None and torch.backends.mkldnn.is_available():
                stack.enter_context(mkldnn_verbose(torch.backends.mkldnn.VERBOSE_ON))
            if mkl_verbose is not None and torch.backends.mkl.is_available():
                stack.enter_context(mkl_verbose(torch.backends.mkl.VERBOSE_ON))
        except (RuntimeError, AssertionError) as exc:  # a build without verbose support says so here
            return None, f"verbose logging could not be switched on ({exc})"
        run_batch()
        stack.close()
    return captured(), None


def _count_modules(model) -> dict[str, int]:
    """Linear layers by kind in the module tree: what a batch's forward pass calls once each."""
    import torch

    counts = {"dynamic int8 Linear": 0, "Linear": 0}
    for module in model.modules():
        kind = type(module).__module__ + "." + type(module).__name__
        if "quantized.dynamic" in kind and type(module).__name__ == "Linear":
            counts["dynamic int8 Linear"] += 1
        elif isinstance(module, torch.nn.Linear):
            counts["Linear"] += 1
    return counts


def capture(runner, texts: list[str], batch_size: int, host_features, simulated: bool) -> Capture:
    """A torch route (eager, quantized, compiled): what oneDNN and MKL log over one batch, plus FBGEMM inferred."""
    cap = _capture(runner, texts, batch_size, host_features, runner.facts.get("engine"))
    if runner.facts.get("compile_mode") and not cap.gemms:
        cap.why = ("inductor's generated C++ kernels log nothing; only the oneDNN and MKL calls they make would "
                   "show, and none were logged")
    return cap


def capture_torchao(runner, texts: list[str], batch_size: int, host_features, simulated: bool) -> Capture:
    cap = _capture(runner, texts, batch_size, host_features, None)
    if not any(g.dtype == "int8" for g in cap.gemms):
        cap.why = ("torchao's int8 matmul logs nothing to oneDNN's or MKL's verbose and torchao reports no kernel "
                   "of its own: which int8 path ran is not known")
    return cap


def _capture(runner, texts: list[str], batch_size: int, host_features, engine: str | None) -> Capture:
    import torch

    cap = Capture()
    capability = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    if capability is not None:
        cap.facts.append(Fact("torch", "CPU capability (ATen kernels)", capability(), OBSERVED,
                              "torch.backends.cpu.get_cpu_capability()"))
    if engine:
        cap.facts.append(Fact("torch", "quantized engine", engine, OBSERVED, "torch.backends.quantized.engine"))
    batch = texts[:batch_size]
    text, why = _verbose_batch(lambda: runner.encode(batch, batch_size))
    model = getattr(runner, "model", None)
    modules = _count_modules(model) if model is not None else {}
    if text is None:
        cap.why = f"oneDNN/MKL verbose not available: {why}"
    else:
        log = onednn.parse(text)
        cap.gemms += onednn.gemm_groups(log, os.environ.get("ONEDNN_MAX_CPU_ISA"))
        cap.gemms += onednn.mkl_gemms(log)
        cap.facts += onednn.facts(log)
        if not log.executed and not log.mkl_calls:
            cap.why = "oneDNN and MKL logged no call for this route's batch: its kernels are not theirs"
    dynamic = modules.get("dynamic int8 Linear", 0)
    if dynamic and engine in FBGEMM_ENGINES and not any(g.dtype == "int8" for g in cap.gemms):
        cap.gemms.append(fbgemm_gemms(dynamic, host_features))
    if dynamic and engine == "qnnpack":
        cap.gemms.append(qnnpack_gemms(dynamic, host_features))
    if modules:
        cap.facts.append(Fact("torch", "Linear layers", ", ".join(f"{n} {k}" for k, n in modules.items() if n),
                              OBSERVED, "the model's module tree"))
    return cap


def fbgemm_gemms(count: int, host_features) -> Gemms:
    forced = os.environ.get("FBGEMM_ENABLE_INSTRUCTIONS")
    isa = isas.fbgemm_isa(host_features, forced)
    cpu = "this CPU's features" + (f" capped by FBGEMM_ENABLE_INSTRUCTIONS={forced}" if forced else "")
    source = (f"FBGEMM logs nothing: inferred from {cpu} (FBGEMM picks AVX-512 VNNI, AVX-512 or AVX2 kernels "
              f"from CPUID{'; without AVX2 it falls back to reference code' if isa is None else ''}); oneDNN "
              f"logged no int8 GEMM for these layers")
    return Gemms("int8", count, isa, "FBGEMM", "dynamic quantized Linear (fbgemm)", INFERRED, source)


def qnnpack_gemms(count: int, host_features) -> Gemms:
    isa = isas.qnnpack_isa(host_features)
    source = ("QNNPACK logs nothing: inferred from its kernels — 128-bit SSE2 on x86 whatever the CPU has (it was "
              "written for ARM NEON), NEON on ARM")
    return Gemms("int8", count, isa, "QNNPACK", "dynamic quantized Linear (qnnpack)", INFERRED, source)
