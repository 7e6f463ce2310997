"""`k` on a route row: the kernels that route ran — its GEMMs by dtype and ISA, then the facts grouped by where
they come from — each marked observed (the runtime said so) or inferred (and from what)."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

MARK = {"observed": "● observed", "inferred": "○ inferred"}


def kernels_text(route: dict) -> str:
    """The view's content (Rich markup) for one route of a report; never empty."""
    from tui.core.kernels.summary import summary_lines

    rid = route.get("id", "?")
    kernels = route.get("kernels")
    lines = [f"[b]Kernels that ran — {escape(rid)}[/b]", ""]
    if route.get("status") != "ok":
        lines.append(f"not available: the route did not run ({escape(route.get('why') or route.get('status', ''))})")
        return "\n".join(lines)
    if not kernels:
        lines.append("not available: this report has no kernels capture (run without --no-kernels, or a report "
                     "from an older qtui)")
        return "\n".join(lines)
    lines += [escape(line) for line in kernels.get("summary") or summary_lines(kernels)]
    if kernels.get("available") and kernels.get("gemms"):
        lines += ["", "[b]GEMMs[/b]"]
        for g in kernels["gemms"]:
            isa = g.get("isa") or "ISA unnamed"
            lines.append(f"  {g['dtype']:<5} ×{g['count']:<5} {escape(isa):<12} {escape(g['library'])}: "
                         f"{escape(g['implementation'])}")
            lines.append(f"        {MARK.get(g['basis'], g['basis'])}: {escape(g['source'])}")
    groups: dict[str, list[dict]] = {}
    for fact in kernels.get("facts", []):
        groups.setdefault(fact["group"], []).append(fact)
    for group, facts in groups.items():
        lines += ["", f"[b]{escape(group)}[/b]"]
        for f in facts:
            how = MARK.get(f["basis"], f["basis"]) + (f" ({escape(f['source'])})" if f.get("source") else "")
            lines.append(f"  {escape(f['name'])}: {escape(f['value'])}  [dim]{how}[/dim]")
    lines += ["", "[dim]● observed: the runtime reported it · ○ inferred: from what is named · esc or k closes[/dim]"]
    return "\n".join(lines)


class KernelsScreen(ModalScreen):
    BINDINGS = [Binding("escape,k,q", "dismiss", "Close", id="kernels.close")]

    def __init__(self, route: dict) -> None:
        super().__init__()
        self.route = route

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="kernels-box"):
            yield Static(kernels_text(self.route), id="kernels-text")
