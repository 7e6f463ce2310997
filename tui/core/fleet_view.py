"""What the fleet shows per host, as plain data and text shared by the headless table and the dashboard screen:
the CPU's int8/bf16 badges, the run's state, the recommended route with its speed-up and sentences/s."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tui.core.fleet import HostDetected, HostFailed, HostFinished, HostProgress, HostStage

HEADERS = ["host", "CPU", "int8", "bf16", "progress", "recommended", "speed-up [95 % CI]", "sent/s"]


def int8_badge(features: list[str]) -> str:
    """The best int8 dot-product instruction the CPU has, the one int8 speed depends on."""
    f = set(features)
    for name, label in (("amx_int8", "AMX"), ("avx512_vnni", "AVX512-VNNI"), ("avx_vnni", "AVX-VNNI"),
                        ("i8mm", "i8mm"), ("dotprod", "dotprod")):
        if name in f:
            return label
    return "AVX2, no VNNI" if "avx2" in f else "none"


def bf16_badge(features: list[str]) -> str:
    f = set(features)
    for name, label in (("amx_bf16", "AMX"), ("avx512_bf16", "AVX512-BF16"), ("bf16", "bf16")):
        if name in f:
            return label
    return "no"


@dataclass(frozen=True)
class HostRow:
    host: str
    cpu: str = "…"
    int8: str = ""
    bf16: str = ""
    progress: str = "waiting"
    recommended: str = ""
    speedup: str = ""
    sent_s: str = ""
    failed: str | None = None  # the reason, once failed
    done: bool = False

    def cells(self) -> list[str]:
        return [self.host, self.cpu, self.int8, self.bf16, self.progress, self.recommended, self.speedup, self.sent_s]


def _short(line: str, width: int = 40) -> str:
    line = " ".join(line.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def update(row: HostRow, event: object) -> HostRow:
    """The row after one fleet event about its host."""
    if isinstance(event, HostStage):
        return replace(row, progress=f"{event.stage}…")
    if isinstance(event, HostDetected):
        cpu = event.detection.get("cpu") or {}
        features = cpu.get("features") or []
        return replace(row, cpu=cpu.get("model") or cpu.get("arch") or "?", int8=int8_badge(features),
                       bf16=bf16_badge(features))
    if isinstance(event, HostProgress):
        if event.round is not None:
            return replace(row, progress=f"round {event.round}/{event.max_rounds}")
        return replace(row, progress=_short(event.line)) if not row.progress.startswith("round") else row
    if isinstance(event, HostFinished):
        return replace(row, progress="done", done=True, **recommended(event.report))
    if isinstance(event, HostFailed):  # a silent host says so in its row: no error came back, the host went quiet
        progress = "failed" if event.silent_s is None else f"no answer for {event.silent_s:g} s"
        return replace(row, progress=progress, failed=event.reason)
    return row


def where_saved(out_dir, saved: int) -> str:
    """Where the reports are, for the closing line: with none saved there is no folder to point at."""
    return f"reports in {out_dir}" if saved else "no report saved"


def recommended(report: dict) -> dict:
    """The recommended route, its speed-up over fp32 with the CI, and its sentences/s."""
    from tui.core.report import speedup_text

    rid = (report.get("recommendation") or {}).get("route", "")
    route = next((r for r in report.get("routes", []) if r["id"] == rid), {})
    s = route.get("speedup")
    tp = (route.get("throughput") or {}).get("median")
    kept = ((route.get("task") or {}).get("kept") or {}).get("point")
    if kept is not None:  # with --task: the share of fp32's task score it keeps, the unit it was chosen by
        rid = f"{rid} (task {100 * kept:.1f} %)"
    return {"recommended": rid, "speedup": speedup_text(s["point"], s["ci95"]) if s else "1× (fp32)",
            "sent_s": f"{tp:.1f}" if tp else "—"}


def hosts_table(rows: list[HostRow]) -> str:
    from tui.core.report import format_table

    return format_table(HEADERS, [r.cells() for r in rows])


def summary(rows: list[HostRow], reports: dict[str, dict]) -> str:
    """The hosts table, the failures with their reasons, and the hosts × routes comparison of those that finished
    (the first finished host, in the order given, is the reference)."""
    from tui.core.compare import compare_text

    lines = [hosts_table(rows)]
    failed = [r for r in rows if r.failed]
    if failed:
        lines += ["", *(f"{r.host}: failed — {r.failed}" for r in failed)]
    finished = [r.host for r in rows if r.host in reports]
    if finished:
        lines += ["", "Hosts × routes:", compare_text([reports[h] for h in finished], finished)]
    return "\n".join(lines)
