"""One line per GEMM group a person can read at a glance — "int8 GEMMs: 36 on AVX-512 VNNI (observed)" — and
the checks the advice makes on a route's kernels: int8 on a weaker ISA than the CPU has, int8 that stayed fp32,
a route labelled fp32 that ran bf16. Works on the JSON form, so saved reports are read the same way."""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.kernels import isa as isas

OBSERVED = "observed"  # as in facts.py; the summary reads only the JSON form

DTYPE_ORDER = ("int8", "bf16", "fp16", "fp32")


def _basis_text(group: dict) -> str:
    return "observed" if group["basis"] == OBSERVED else "inferred"


def summary_lines(kernels: dict) -> list[str]:
    """The kernels field in a few lines; never empty (an unavailable capture says why)."""
    if not kernels.get("available", False):
        return [f"not available: {(kernels.get('why') or 'no reason recorded').removeprefix('not available: ')}"]
    lines = []
    groups = sorted(kernels.get("gemms", []), key=lambda g: (DTYPE_ORDER.index(g["dtype"])
                                                             if g["dtype"] in DTYPE_ORDER else 9, -g["count"]))
    for dtype in dict.fromkeys(g["dtype"] for g in groups):
        merged: dict[tuple, int] = {}  # implementations that differ only in name count together
        for g in (g for g in groups if g["dtype"] == dtype):
            where = f"on {isas.label(g['isa'])}" if g.get("isa") else f"via {g['implementation']}"
            key = (where, _basis_text(g), g["library"])
            merged[key] = merged.get(key, 0) + g["count"]
        lines.append(f"{dtype} GEMMs: " + "; ".join(f"{n} {where} ({basis}, {library})"
                                                    for (where, basis, library), n in merged.items()))
    if not groups:
        lines.append("GEMMs: none captured")
    if kernels.get("why"):
        lines.append(kernels["why"])
    if kernels.get("not_simulated"):
        lines.append(f"not simulated: {kernels['not_simulated']}")
    return lines


@dataclass(frozen=True)
class Finding:
    """A fact about a route's kernels the advice turns into an item."""

    kind: str  # "weaker-isa" | "stayed-fp32" | "ran-bf16" | "not-simulated"
    route: str
    count: int
    isa: str | None
    observed: bool
    text: str


def route_findings(route: dict, cpu_features, simulated: bool) -> list[Finding]:
    """What is wrong with one route's kernels, judged against the CPU the report describes (the simulated one
    under --simulate-isa)."""
    kernels = route.get("kernels") or {}
    if not kernels.get("available") or route.get("status") != "ok":
        return []
    rid, dtype = route["id"], route.get("dtype")
    gemms = kernels.get("gemms", [])
    best = isas.best_int8(cpu_features)
    out = []
    int8 = [g for g in gemms if g["dtype"] == "int8"]
    for g in int8:
        names_vnni = g.get("library") != "OpenVINO"
        if isas.weaker(g.get("isa"), best, names_vnni):
            out.append(Finding("weaker-isa", rid, g["count"], g["isa"], g["basis"] == OBSERVED,
                               f"{g['count']} int8 GEMMs of {rid} ran on {isas.label(g['isa'])} ({g['library']} "
                               f"{g['implementation']}; {_basis_text(g)}: {g['source']}) while this CPU's best "
                               f"int8 path is {isas.label(best)}"))
        elif simulated and best and isas.rank(g.get("isa")) > isas.rank(best) and isas.FAMILY.get(
                g.get("isa"), 0) > isas.FAMILY.get(best, 0):
            out.append(Finding("not-simulated", rid, g["count"], g["isa"], g["basis"] == OBSERVED,
                               f"{g['count']} int8 GEMMs of {rid} ran on {isas.label(g['isa'])}, above the simulated "
                               f"{isas.label(best)} ({_basis_text(g)}: {g['source']})"))
    fp32 = sum(g["count"] for g in gemms if g["dtype"] == "fp32")
    # Only a complete capture can say int8 work is absent: a partial one (`why`: torchao's int8 matmul, inductor's
    # own kernels) saw the fp32 GEMMs but not necessarily the int8 ones.
    if dtype in ("qint8", "int8") and not int8 and fp32 and not kernels.get("why"):
        observed = all(g["basis"] == OBSERVED for g in gemms if g["dtype"] == "fp32")
        out.append(Finding("stayed-fp32", rid, fp32, None, observed,
                           f"{rid} is labelled int8 but its captured batch ran {fp32} fp32 GEMMs and no int8 one"))
    bf16 = [g for g in gemms if g["dtype"] == "bf16"]
    if dtype == "fp32" and bf16:
        n = sum(g["count"] for g in bf16)
        out.append(Finding("ran-bf16", rid, n, bf16[0].get("isa"), all(g["basis"] == OBSERVED for g in bf16),
                           f"{rid} is labelled fp32 but {n} of its GEMMs ran in bf16 "
                           f"({', '.join(g['library'] + ' ' + g['implementation'] for g in bf16)})"))
    return out
