"""`l`: the Linear layers that cost int8 the most accuracy in the last run — a bar per layer for the cosine it
loses when int8 alone, its input's range and outlier channels, and what the rescue kept in fp32."""

from __future__ import annotations

from rich.bar import Bar
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

SHOWN = 12  # the worst layers; the report has them all


def unavailable_reason(document: dict | None) -> str | None:
    if document is None:
        return "not available: no run yet (b runs the benchmark)"
    if not document.get("layers"):
        missed = [r["id"] for r in document.get("routes", []) if r.get("dtype") in ("qint8", "int8")
                  and r.get("accuracy") and r["accuracy"]["cosine_mean"] < document.get("min_cosine", 0.99)]
        if not missed:
            return ("not available: every int8 route met --min-cosine, so the layer pass did not run (it runs only "
                    "when int8 misses it)")
        return ("not available: the layer pass was skipped (--no-rescue) or could not run, though "
                f"{', '.join(missed)} missed --min-cosine")
    return None


def short_name(name: str) -> str:
    """"encoder.layer.2.attention.output.dense" → "L2 attention.output.dense": the view is narrow at 80 columns."""
    parts = name.split(".")
    if len(parts) > 2 and parts[0] == "encoder" and parts[1] == "layer":
        return f"L{parts[2]} " + ".".join(parts[3:])
    return name


RUNTIME_TAGS = {"torch": "torch", "onnxruntime": "ort", "openvino": "ov"}  # short: the view is narrow


def kept_by(document: dict) -> dict[str, list[str]]:
    """Layer name → the runtimes whose mixed route kept it in floating point."""
    kept: dict[str, list[str]] = {}
    for r in document.get("routes", []):
        for name in (r.get("facts") or {}).get("kept_fp32") or []:
            kept.setdefault(name, []).append(RUNTIME_TAGS.get(r.get("backend"), r["id"]))
    return kept


def layers_table(document: dict, width: int) -> Table:
    from tui.core.layers import LayerEvidence

    found = [LayerEvidence.from_json(d) for d in document["layers"].get("layers") or []][:SHOWN]
    kept = kept_by(document)
    worst = max((e.cosine_loss for e in found), default=0.0) or 1.0
    budget = 1 - document.get("min_cosine", 0.99)
    table = Table(box=None, expand=True, header_style="bold", pad_edge=False)
    table.add_column("layer", no_wrap=True, overflow="ellipsis", min_width=25)
    if kept:
        table.add_column("kept by", no_wrap=True)
    table.add_column("cosine lost", justify="right", no_wrap=True)
    table.add_column("", ratio=1, min_width=8)
    table.add_column("top/median ch.", justify="right", no_wrap=True)
    if width >= 120:
        table.add_column("max |x|", justify="right", no_wrap=True)
        table.add_column("max/p99.9", justify="right", no_wrap=True)
    for e in found:
        name = Text(short_name(e.name), style="bold" if e.outlier and e.cosine_loss >= budget / 4 else "")
        channels = f"{e.channel_ratio:.0f}×" + (f" ({e.outlier_channels})" if e.outlier_channels else "")
        cells = [name, *([",".join(kept.get(e.name, []))] if kept else []), f"{e.cosine_loss:.4f}",
                 Bar(worst, 0, e.cosine_loss), channels]
        if width >= 120:
            cells += [f"{e.max_abs:.1f}", f"{e.ratio:.1f}×"]
        table.add_row(*cells)
    return table


class LayersScreen(ModalScreen):
    BINDINGS = [Binding("escape,l,q", "dismiss", "Close", id="layers.close")]

    def __init__(self, document: dict | None) -> None:
        super().__init__()
        self.document = document

    def compose(self) -> ComposeResult:
        why = unavailable_reason(self.document)
        with VerticalScroll(id="layers-box"):
            yield Static("[b]Layers that cost int8 the most accuracy[/b]", id="layers-title")
            if why:
                yield Static(why, id="layers-why")
            else:
                layers = self.document["layers"]
                about = (f"Each Linear quantized alone on {layers.get('texts')} {layers.get('source', 'texts')}: "
                         f"{layers.get('scheme', '')}. Bold: outlier channels costing ≥ a quarter of the accuracy "
                         "budget; kept by: the runtimes whose mixed route left the layer in floating point.")
                yield Static(escape(about), classes="placeholder")
                yield Static(layers_table(self.document, self.app.size.width), id="layers-table")
            yield Static("esc or l closes this view.", classes="placeholder")
