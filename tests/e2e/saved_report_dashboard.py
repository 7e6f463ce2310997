"""The real dashboard (live backend: this machine's CPU) showing a saved report as its last run, for tests in a real
terminal. qtui has no option that opens the dashboard on a saved report (`c` only compares one with the current
run), so this stands in: `python -m tests.e2e.saved_report_dashboard REPORT.json`. The report goes through the
same message a finished run sends (`RunFinished`), so the routes table, status line and views read it as they would
read a run of their own."""

import sys

from tui.app import make_app
from tui.core.events import RunStarted
from tui.core.report import load_report
from tui.messages import CoreEvent, RunFinished


def main(path: str) -> int:
    doc = load_report(path)
    app = make_app()

    def show() -> None:
        ids = tuple(r["id"] for r in doc["routes"])
        work = doc.get("workload", {})
        app.post_message(CoreEvent(RunStarted(ids, work.get("texts", 0), work.get("batch_size", 0),
                                              doc.get("env", {}).get("threads", 0), doc.get("rounds", 0),
                                              float(doc.get("wall_s", 0)), (doc.get("task") or {}).get("name"))))
        app.post_message(RunFinished(doc, cancelled=False))

    app.call_later(show)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
