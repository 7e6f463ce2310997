"""The pass registry: the architecture's table names its passes in order, and --quick reads the registry."""

import argparse
import re

from tests.conftest import ROOT
from tui.core.passes import PASSES
from tui.options import passes


def documented_passes() -> list[str]:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("\n## Passes\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([\w-]+)` \|", section, re.MULTILINE)


def test_the_architectures_table_lists_the_passes_in_run_order():
    assert documented_passes() == [p.name for p in PASSES]


def test_prepare_passes_come_first_and_each_says_what_it_needs_writes_and_costs():
    stages = [p.stage for p in PASSES]
    assert set(stages) <= {"prepare", "after"} and stages == sorted(stages, key=("prepare", "after").index)
    assert len({p.name for p in PASSES}) == len(PASSES)
    assert all(p.needs and p.writes and p.cost for p in PASSES)


def test_what_quick_drops_is_the_registrys_quick_attribute():
    """A pass that --quick drops has a Plan switch to drop it by; the others run under --quick."""
    assert all(p.switch for p in PASSES if not p.quick)
    quick = passes(argparse.Namespace(quick=True))
    assert quick == {p.switch: False for p in PASSES if p.switch}
    assert {p.name for p in PASSES if p.quick} == {"sweep", "latency", "task", "processes", "threads"}
