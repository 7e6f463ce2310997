"""What a route's kernels capture holds: GEMM groups and facts, each observed (the runtime said so) or inferred
(from what, named). The bottom of `tui.core.kernels`: plain data, JSON in and out, no runtime imports."""

from __future__ import annotations

from dataclasses import dataclass, field

OBSERVED = "observed"
INFERRED = "inferred"
DTYPES = ("int8", "bf16", "fp32")


@dataclass(frozen=True)
class Gemms:
    """GEMMs of one dtype that ran on one ISA through one library in one captured batch."""

    dtype: str  # "int8" | "bf16" | "fp32"
    count: int  # kernel calls (or layers) in one captured batch
    isa: str | None  # canonical ISA name (see isa.py), None when nothing says
    library: str  # "oneDNN", "FBGEMM", "MLAS", "OpenVINO", "MKL", …
    implementation: str  # what the runtime named it, e.g. "brg_matmul:avx512_core_vnni"
    basis: str  # OBSERVED: the runtime named the ISA; INFERRED: see `source`
    source: str  # where the ISA comes from, in words

    def to_json(self) -> dict:
        return {"dtype": self.dtype, "count": self.count, "isa": self.isa, "library": self.library,
                "implementation": self.implementation, "basis": self.basis, "source": self.source}


@dataclass(frozen=True)
class Fact:
    group: str  # a heading in the kernels view: "torch", "oneDNN", "ONNX Runtime ops", …
    name: str
    value: str
    basis: str = OBSERVED
    source: str = ""

    def to_json(self) -> dict:
        return {"group": self.group, "name": self.name, "value": self.value, "basis": self.basis,
                "source": self.source}


@dataclass
class Capture:
    """One route's kernels. `available` False means nothing could be captured and `why` says why; a capture
    can also be partial (available, with `why` naming the part that is missing)."""

    available: bool = True
    why: str | None = None
    gemms: list[Gemms] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    not_simulated: str | None = None  # --simulate-isa was on but this library ignores the cap: why

    def to_json(self) -> dict:
        """The report's form, without the summary lines (`tui.core.kernels.to_report` adds them)."""
        return {"available": self.available, "why": self.why, "gemms": [g.to_json() for g in self.gemms],
                "facts": [f.to_json() for f in self.facts], "not_simulated": self.not_simulated}
