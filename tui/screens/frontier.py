"""`a`: the speed–accuracy frontier of a run with a task — every route's speed-up against the share of fp32's task
score it keeps, the Pareto-optimal ones joined, and the route the recommendation picks at an accuracy budget.
← and → step the budget along `frontier.budget_steps` (from the run's own --max-task-loss): the pick, its floor on
the plot and the why follow, each from the recommendation's own code (`frontier.pick_at`); the report is never
changed."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Static

from tui.screens.report_view import ReportView, numbers_table

HOW = ("Run with a task (settings s, or qtui bench --task stsb) and routes beyond int8, e.g. --routes "
       "torch-fp32,openvino-int8,openvino-int8@len32,static-m2v (static-m2v is also in r's list): every route is "
       "scored on the task and placed by its speed-up and the share of fp32's score it keeps.")


def shown(doc: dict | None) -> bool:
    """The report has a frontier to draw: a task, and a point besides fp32's."""
    front = (doc or {}).get("frontier") or {}
    return bool(front.get("available")) and len(front.get("points", [])) > 1


def budget_text(budget: float) -> str:
    return f"{budget:g} %"


class FrontierScreen(ReportView):
    NAME, FIELD, HOW, KEY, BOX_ID = "Speed–accuracy frontier", "frontier", HOW, "a", "frontier-box"
    BINDINGS = [Binding("escape,q,a", "dismiss", "Close", id="frontier.close"),
                # priority: the scrolling box and the plot would take ← and → for themselves
                Binding("left", "budget(-1)", "Less loss", id="frontier.tighter", priority=True),
                Binding("right", "budget(1)", "More loss", id="frontier.looser", priority=True)]

    budget: reactive[float | None] = reactive(None, init=False)

    def __init__(self, document: dict | None) -> None:
        super().__init__(document)
        if shown(document):
            from tui.core import frontier

            self.steps = frontier.budget_steps(document)
            self.set_reactive(FrontierScreen.budget, document["frontier"]["budget"])
        else:
            self.steps = []

    def absent(self, doc: dict) -> str | None:
        front = doc.get("frontier")
        if not front:
            return "not in this run."
        if not front.get("available"):
            return f"not in this run ({escape(front.get('why') or 'no task')})."
        if not shown(doc):
            base = escape(doc.get("baseline") or "torch-fp32")
            return f"not in this run (no route besides {base} was scored on the task)."
        return None

    def pick(self) -> dict:
        from tui.core import frontier

        return frontier.pick_at(self.document, self.budget)

    def widgets(self, doc: dict):
        from tui.core import frontier
        from tui.widgets.frontier_plot import FrontierPlot

        front = doc["frontier"]
        yield Static(Text(f"Speed–accuracy frontier: {front['axis']['y']} (%) against {front['axis']['x']} "
                          "(log scale)", style="bold"), id="frontier-title")
        yield FrontierPlot(front, self.pick()["route"], self.floor(), id="frontier-plot")
        yield Static(self.slider(), id="frontier-steps")
        yield Static(self.pick_text(), id="frontier-pick")
        yield Static(self.table(), id="frontier-table")
        words = frontier.lines(doc)
        if words:
            yield Static("\n".join(words), id="frontier-lines", markup=False)

    def floor(self) -> float:
        """The kept share (%) a route's CI lower bound must reach at this budget."""
        return 100 - self.budget

    def slider(self) -> Text:
        """The budgets ← and → step through, this one in reverse, the run's own underlined."""
        run = self.document["frontier"]["budget"]
        out = Text("Budget (← →):", style="bold")
        for step in self.steps:
            out.append(" ")
            style = "bold reverse" if step == self.budget else ""
            out.append(f"{step:g}", style=style + (" underline" if step == run else ""))
        out.append(" %")
        return out

    def pick_text(self) -> Text:
        pick = self.pick()
        run = self.document["frontier"]["budget"]
        own = "the run's" if self.budget == run else f"the run's was {budget_text(run)}"
        out = Text(f"Budget: {budget_text(self.budget)} ({own}) → ", style="bold")
        out.append(pick["route"], style="bold reverse")
        out.append(f" — {pick['why']}")
        return out

    def table(self):
        """frontier.table with each route's marker as on the plot, the pick's row in bold. Under 120 columns a CI
        goes under its figure, so the table fits 80."""
        from tui.core import frontier
        from tui.widgets.frontier_plot import marker_style, numbered

        headers, rows = frontier.table(self.document)
        markers = {p["route"]: (m, p) for m, p in numbered(self.document["frontier"])}
        pick = self.pick()["route"]
        narrow = self.app.size.width < 120
        table = numbers_table(["", *headers], [])
        table.columns[-1].no_wrap = False  # "never picked (not conclusively faster)"
        for row in rows:
            marker, point = markers.get(row[0], ("", None))
            cells = [c.replace(" [", "\n[") if narrow else c for c in row]
            style = marker_style(point, pick, self.app.theme_variables) if point else ""
            table.add_row(Text(marker, style=style), *cells, style="bold" if row[0] == pick else None)
        return table

    def action_budget(self, step: int) -> None:
        if not self.steps:
            return
        at = self.steps.index(self.budget) if self.budget in self.steps else 0
        self.budget = self.steps[max(0, min(len(self.steps) - 1, at + step))]

    def on_resize(self) -> None:
        if self.steps:  # the table's layout follows the width (a CI under its figure below 120 columns)
            self.query_one("#frontier-table", Static).update(self.table())

    def watch_budget(self) -> None:
        from tui.widgets.frontier_plot import FrontierPlot

        plot = self.query_one(FrontierPlot)
        plot.pick, plot.floor = self.pick()["route"], self.floor()
        self.query_one("#frontier-steps", Static).update(self.slider())
        self.query_one("#frontier-pick", Static).update(self.pick_text())
        self.query_one("#frontier-table", Static).update(self.table())
