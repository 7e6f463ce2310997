"""`l`: the layer view after a run whose int8 missed the threshold (bars, outliers, what the rescue kept), and
what it says when there is nothing to show — snapshots at 80×24 and 160×48."""

import pytest

from tests.app.fakes import FakeBackend, seed_document
from tui.app import make_app
from tui.messages import RunFinished
from tui.screens.layers import layers_table, unavailable_reason

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


def layer(name, loss, channel_ratio, outliers, max_abs=20.0, p999=2.0):
    return {"name": name, "max_abs": max_abs, "p999_abs": p999, "ratio": max_abs / p999,
            "channel_ratio": channel_ratio, "outlier_channels": outliers, "cosine_loss": loss}


def with_layers(doc):
    doc = {**doc, "layers": {"scheme": "int8 per-tensor dynamic activations, per-channel weights", "texts": 32,
                             "source": "calibration texts", "layers": [
                                 layer("encoder.layer.2.attention.output.dense", 0.0067, 75.3, 3, 76.0, 13.8),
                                 layer("encoder.layer.4.attention.output.dense", 0.0039, 59.1, 3, 58.1, 19.4),
                                 layer("encoder.layer.0.output.dense", 0.0012, 21.3, 1, 24.6, 2.7),
                                 layer("encoder.layer.3.intermediate.dense", 0.0005, 3.1, 0, 28.8, 10.3)]}}
    doc["routes"] = [*doc["routes"], {"id": "torch-qint8-x86-mixed", "backend": "torch", "status": "ok",
                                      "dtype": "qint8",
                                      "facts": {"kept_fp32": ["encoder.layer.2.attention.output.dense"]}},
                     {"id": "ort-qint8-mixed", "backend": "onnxruntime", "status": "ok", "dtype": "qint8",
                      "facts": {"kept_fp32": ["encoder.layer.2.attention.output.dense",
                                              "encoder.layer.4.attention.output.dense"]}}]
    return doc


def rendered(renderable, width=160) -> str:
    import io

    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def app_with(document):
    app = make_app(FakeBackend(), theme="qtui-dark")

    async def finished(pilot):
        await pilot.app.on_run_finished(RunFinished(document, cancelled=False))
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()

    return app, finished


@pytest.mark.parametrize("size", SIZES)
def test_layers_view(snap_compare, size):
    app, finished = app_with(with_layers(seed_document()))
    assert snap_compare(app, terminal_size=SIZES[size], run_before=finished)


async def test_the_view_names_the_worst_layer_first_and_closes_with_l():
    app, _ = app_with(None)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.on_run_finished(RunFinished(with_layers(seed_document()), cancelled=False))
        await pilot.press("l")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "LayersScreen"
        text = rendered(layers_table(app.document, 160))
        assert text.index("L2 attention.output.dense") < text.index("L4 attention.output.dense")
        lines = text.splitlines()
        assert "torch,ort" in lines[1] and "0.0067" in lines[1]  # kept by both mixes
        assert "ort" in lines[2] and "torch" not in lines[2]  # L4: only the ONNX Runtime mix kept it
        await pilot.press("l")
        assert app.screen.__class__.__name__ != "LayersScreen"


def test_without_layer_evidence_the_view_says_why():
    assert "no run yet" in unavailable_reason(None)
    doc = seed_document()  # torch-qint8-qnnpack at 0.966 missed, but the report has no layers
    assert "skipped (--no-rescue)" in unavailable_reason(doc) and "torch-qint8-qnnpack" in unavailable_reason(doc)
    fine = {**doc, "routes": [r for r in doc["routes"] if r["id"] != "torch-qint8-qnnpack"]}
    assert "every int8 route met" in unavailable_reason(fine)
