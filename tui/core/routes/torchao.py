"""torchao route: int8 dynamic activations × int8 weights through torchao's quantize_ API."""

from __future__ import annotations

from tui.core.routes.base import PrepareContext, RouteSpec, RouteUnavailable, Runtime, TorchRunner

SPECS = (
    RouteSpec("torchao-int8", "torchao", "int8", granularity="per-channel",
              summary="torchao int8 dynamic activations × int8 weights"),
)


def prepare(spec: RouteSpec, ctx: PrepareContext) -> TorchRunner:
    import torch

    from tui.core.models import load_sentence_transformer

    torch.set_num_threads(ctx.threads)
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError as exc:
        raise RouteUnavailable(f"torchao lacks the int8 dynamic API ({exc}); pip install -U torchao") from None
    model = load_sentence_transformer(ctx.model_dir).eval()
    quantize_(model, Int8DynamicActivationInt8WeightConfig())
    return TorchRunner(model, torch.get_num_threads())


def kernels(runner, texts: list[str], batch_size: int, host_features, simulated: bool):
    from tui.core.kernels.torch_kernels import capture_torchao

    return capture_torchao(runner, texts, batch_size, host_features, simulated)


RUNTIME = Runtime("torchao", SPECS, ("torchao",), "pip install torchao", prepare, kernels=kernels)
