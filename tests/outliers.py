"""The packaged model with activation outliers built in, fp32 output unchanged (for the accuracy-rescue tests).

Attention is linear in V: scaling a few output channels of a layer's value projection by s and the matching
input columns of its attention output projection by 1/s leaves every fp32 output as it was, while the input
of that output projection now carries those channels s× larger — the outliers real larger models show.
"""

from __future__ import annotations

from pathlib import Path

CHANNELS = (5, 17, 101)
SCALE = 50.0


def injected_layer_names(layers: tuple[int, ...]) -> list[str]:
    return [f"encoder.layer.{i}.attention.output.dense" for i in layers]


def outlier_model(out_dir: Path, layers: tuple[int, ...] = (2, 4), scale: float = SCALE) -> Path:
    import torch

    from tui.core.layers import transformer_of
    from tui.core.models import load_sentence_transformer, packaged_model_dir

    st = load_sentence_transformer(packaged_model_dir())
    bert = transformer_of(st)
    channels = list(CHANNELS)
    with torch.no_grad():
        for i in layers:
            attention = bert.encoder.layer[i].attention
            attention.self.value.weight[channels] *= scale
            attention.self.value.bias[channels] *= scale
            attention.output.dense.weight[:, channels] /= scale
    st.save(str(out_dir))
    return out_dir
