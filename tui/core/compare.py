"""N saved reports side by side, route by route, as pyperf's `compare_to` and asv compare do: the first report is
the reference; a cell says "1.80× faster" only when the two throughput CIs separate, else "not significant"; a
closing geometric-mean row; a route a report lacks (or could not run) is shown as missing and listed, never as
zero and never dropped. `qtui compare`, the dashboard's compare screen and the fleet all use this one module.

Throughput across reports is not paired (different machines, different times), so each cell carries the median
sent/s of its rounds with a bootstrap CI of that median (stats.median_ci), and two cells differ only when those
intervals do not overlap — the conservative reading, which never calls noise a difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from tui.core.report import format_table

SCHEMA = "qtui.compare/1"
FASTER, SLOWER, NOT_SIGNIFICANT = "faster", "slower", "not significant"
FASTEST_MARK = "★"


@dataclass(frozen=True)
class Cell:
    """One route on one report. `state` is "ok", the route's own status (unavailable, failed), or "missing"
    (not in the report); only "ok" cells have numbers."""

    state: str
    why: str | None = None
    median: float | None = None
    ci95: tuple[float, float] | None = None  # of the median sent/s; None below two rounds
    ratio: float | None = None  # median / the reference's median on the same route
    verdict: str | None = None  # faster | slower | not significant; None on the reference or without numbers
    fastest: bool = False  # the highest median of this route over every report
    speedup: dict | None = None  # the report's own speed-up of this route over its fp32 (a paired measurement)
    task_kept: dict | None = None  # with --task: {point, ci95} of fp32's task score kept, as that report measured

    def to_json(self) -> dict:
        return {"state": self.state, "why": self.why, "median": self.median,
                "ci95": list(self.ci95) if self.ci95 else None, "ratio": _rounded(self.ratio),
                "verdict": self.verdict, "fastest": self.fastest, "speedup": self.speedup,
                "task_kept": self.task_kept}


@dataclass(frozen=True)
class Comparison:
    labels: list[str]
    routes: list[str]
    cells: dict[str, dict[str, Cell]]  # route → label → cell
    geomean: dict[str, tuple[float | None, int]]  # label → (geometric mean of ratios, routes it covers)
    missing: dict[str, list[tuple[str, str, str | None]]]  # label → [(route, state, why)]
    reports: list[dict] = field(repr=False)

    @property
    def reference(self) -> str:
        return self.labels[0]

    def to_json(self) -> dict:
        return {
            "schema": SCHEMA, "reference": self.reference,
            "reports": [{"label": label, "cpu": doc["env"]["cpu"].get("model"),
                         "features": doc["env"]["cpu"].get("features", []), "threads": doc["env"].get("threads"),
                         "recommendation": doc.get("recommendation"), "frontier": frontier_routes(doc)}
                        for label, doc in zip(self.labels, self.reports, strict=True)],
            "routes": [{"id": rid, "cells": {label: self.cells[rid][label].to_json() for label in self.labels}}
                       for rid in self.routes],
            "geomean": {label: {"ratio": _rounded(g), "routes": n} for label, (g, n) in self.geomean.items()},
            "missing": {label: [{"route": rid, "state": state, "why": why} for rid, state, why in rows]
                        for label, rows in self.missing.items()},
        }


def _rounded(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or math.isnan(x) else round(x, digits)


def labels_for(paths: list[str]) -> list[str]:
    """Column names: each file's stem (a fleet names reports after their hosts), else A, B, C… when stems repeat."""
    from pathlib import Path

    stems = [Path(p).stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    return [chr(ord("A") + i) if i < 26 else f"R{i + 1}" for i in range(len(paths))]


def _ok_cell(route: dict) -> Cell:
    from tui.core.stats import median_ci

    samples = [s for s in (route.get("throughput") or {}).get("samples") or [] if s and s > 0]
    if samples:
        point, lo, hi = median_ci(samples)
    else:  # an older report may carry the median alone
        point, lo, hi = route["throughput"]["median"], math.nan, math.nan
    ci = None if math.isnan(lo) else (round(lo, 2), round(hi, 2))
    return Cell("ok", median=round(point, 2), ci95=ci, speedup=route.get("speedup"),
                task_kept=(route.get("task") or {}).get("kept"))


def _cell(route: dict | None) -> Cell:
    if route is None:
        return Cell("missing", why="not in this report")
    if route.get("status") == "ok" and (route.get("throughput") or {}).get("median"):
        return _ok_cell(route)
    return Cell(route.get("status") or "failed", why=route.get("why"))


def _verdict(ref: Cell, other: Cell) -> str:
    """Faster/slower only when the two medians' CIs do not overlap; without a CI there is nothing to claim."""
    if ref.ci95 is None or other.ci95 is None:
        return NOT_SIGNIFICANT
    if other.ci95[0] > ref.ci95[1]:
        return FASTER
    if other.ci95[1] < ref.ci95[0]:
        return SLOWER
    return NOT_SIGNIFICANT


def _against_reference(ref: Cell, cell: Cell) -> Cell:
    if cell.state != "ok" or ref.state != "ok":
        return cell
    return replace(cell, ratio=cell.median / ref.median, verdict=_verdict(ref, cell))


def _geomean(ratios: list[float]) -> float | None:
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else None


def compare_reports(reports: list[dict], labels: list[str]) -> Comparison:
    """Every route any report has, in first-seen order (the reference's first), against the first report."""
    if len(reports) != len(labels) or not reports:
        raise ValueError("one label per report, and at least one report")
    if len(set(labels)) != len(labels):
        raise ValueError(f"report labels must differ: {labels}")
    routes = list(dict.fromkeys(r["id"] for doc in reports for r in doc["routes"]))
    by_id = [{r["id"]: r for r in doc["routes"]} for doc in reports]
    cells: dict[str, dict[str, Cell]] = {}
    for rid in routes:
        row = [_cell(found.get(rid)) for found in by_id]
        row = [row[0]] + [_against_reference(row[0], c) for c in row[1:]]
        medians = [c.median for c in row if c.state == "ok"]
        best = max(medians) if len(medians) > 1 else None  # "fastest" needs at least two to choose from
        cells[rid] = {label: _mark_fastest(c, best) for label, c in zip(labels, row, strict=True)}
    geomean = {}
    for label in labels[1:]:
        ratios = [cells[rid][label].ratio for rid in routes if cells[rid][label].ratio]
        geomean[label] = (_geomean(ratios), len(ratios))
    missing = {label: [(rid, cells[rid][label].state, cells[rid][label].why) for rid in routes
                       if cells[rid][label].state != "ok"] for label in labels}
    return Comparison(labels, routes, cells, geomean, {k: v for k, v in missing.items() if v}, list(reports))


def _mark_fastest(cell: Cell, best: float | None) -> Cell:
    if best is None or cell.state != "ok" or cell.median != best:
        return cell
    return replace(cell, fastest=True)


# ------------------------------------------------------------------------------------------ rendering


def _number(x: float) -> str:
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def ratio_text(ratio: float) -> str:
    """pyperf's reading: 1.80× faster, or 1.25× slower for a ratio of 0.8 (never "0.80× faster")."""
    return f"{ratio:.2f}× faster" if ratio >= 1 else f"{1 / ratio:.2f}× slower"


def cell_text(cell: Cell, reference: bool) -> str:
    """"763 [750–770] ★", "1352 [1300–1400] 1.77× faster", "not significant", "missing", "unavailable"."""
    if cell.state != "ok":
        return cell.state
    ci = f" [{_number(cell.ci95[0])}–{_number(cell.ci95[1])}]" if cell.ci95 else ""
    mark = f" {FASTEST_MARK}" if cell.fastest else ""
    task = f" · task {100 * cell.task_kept['point']:.1f} %" if cell.task_kept else ""
    if reference or cell.verdict is None:
        return f"{_number(cell.median)}{ci}{mark}{task}"
    said = ratio_text(cell.ratio) if cell.verdict != NOT_SIGNIFICANT else NOT_SIGNIFICANT
    return f"{_number(cell.median)}{ci} {said}{mark}{task}"


def geomean_text(value: tuple[float | None, int]) -> str:
    ratio, count = value
    return f"{ratio_text(ratio)} ({count} routes)" if ratio else "— (no route in common)"


def table_rows(c: Comparison) -> tuple[list[str], list[list[str]]]:
    headers = ["route"] + [f"{label} sent/s" + (" (ref)" if i == 0 else "") for i, label in enumerate(c.labels)]
    rows = [[rid] + [cell_text(c.cells[rid][label], i == 0) for i, label in enumerate(c.labels)] for rid in c.routes]
    if len(c.labels) > 1:
        rows.append(["geometric mean", "(ref)"] + [geomean_text(c.geomean[label]) for label in c.labels[1:]])
    return headers, rows


def _environment_lines(c: Comparison) -> list[str]:
    """What differs between the machines and runs (one value when all agree)."""
    lines = []
    for key, get in [("CPU", lambda d: d["env"]["cpu"].get("model")),
                     ("features", lambda d: " ".join(d["env"]["cpu"].get("features", []))),
                     ("threads", lambda d: d["env"].get("threads")), ("torch", lambda d: d["env"].get("torch")),
                     ("model", lambda d: d["workload"].get("model")), ("texts", lambda d: d["workload"].get("texts")),
                     ("batch size", lambda d: d["workload"].get("batch_size"))] + _task_line(c):
        values = [get(doc) for doc in c.reports]
        if all(v == values[0] for v in values):
            lines.append(f"{key:<11} {values[0]}")
        else:
            lines.append(f"{key:<11} " + "   ".join(f"{label}: {v}" for label, v in zip(c.labels, values, strict=True)))
    return lines


def _task_line(c: Comparison) -> list:
    """The task the kept shares were measured on, when any report has one."""
    if not any(doc.get("task") for doc in c.reports):
        return []
    return [("task", lambda d: f"{d['task']['name']} ({d['task']['split']}, {d['task']['n']})" if d.get("task")
             else "none")]


def frontier_routes(doc: dict) -> list[str] | None:
    """The routes on a report's speed–accuracy frontier, in order; None when it has none (no task, older report)."""
    front = doc.get("frontier") or {}
    return list(front["routes"]) if front.get("available") else None


def frontier_lines(c: Comparison) -> list[str]:
    """Whether the speed–accuracy frontier differs between the reports: each one's frontier, then which routes are
    on some machines' frontier and not on others'. Only the reports that drew one."""
    drawn = {label: routes for label, doc in zip(c.labels, c.reports, strict=True)
             if (routes := frontier_routes(doc)) is not None}
    if not drawn:
        return []
    lines = [f"{label} frontier: {' → '.join(routes) or 'fp32 alone'}" for label, routes in drawn.items()]
    if len(drawn) < 2:
        return lines
    everywhere = set.intersection(*(set(r) for r in drawn.values()))
    differs = [f"{rid} only on {', '.join(label for label, r in drawn.items() if rid in r)}"
               for rid in dict.fromkeys(rid for r in drawn.values() for rid in r) if rid not in everywhere]
    lines.append("The frontier is the same on every machine." if not differs
                 else "The frontier differs: " + "; ".join(differs) + ".")
    return lines


def missing_text(rows: list[tuple[str, str, str | None]]) -> str:
    """"not in the report: a, b; unavailable: c (torchao not installed)"."""
    absent = [rid for rid, state, _ in rows if state == "missing"]
    parts = [f"not in the report: {', '.join(absent)}"] if absent else []
    parts += [f"{state}: {rid}" + (f" ({why})" if why else "") for rid, state, why in rows if state != "missing"]
    return "; ".join(parts)


def format_comparison(c: Comparison) -> str:
    headers, rows = table_rows(c)
    lines = [format_table(headers, rows), "",
             f"Reference: {c.reference}. Cells: median sent/s [95 % CI]; \"faster\"/\"slower\" only where the CIs "
             f"separate; {FASTEST_MARK} the fastest report per route"
             + ("; task: the share of fp32's task score kept, as each report measured it." if any(
                 doc.get("task") for doc in c.reports) else ".")]
    if c.missing:
        lines += ["", "Missing routes (not counted in the geometric mean):"]
        lines += [f"  {label}: {missing_text(rows)}" for label, rows in c.missing.items()]
    lines += ["", *_environment_lines(c), ""]
    lines += [f"{label} recommends {doc['recommendation']['route']}" for label, doc in zip(c.labels, c.reports,
                                                                                           strict=True)
              if doc.get("recommendation")]
    front = frontier_lines(c)
    if front:
        lines += ["", *front]
    return "\n".join(lines)


def compare_text(reports: list[dict], labels: list[str]) -> str:
    return format_comparison(compare_reports(reports, labels))
