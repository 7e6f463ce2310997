"""Run options become the plan's settings (parsed exactly as `qtui bench` parses them)."""

from tui.options import QuietParser, add_run_options, build_plan


def plan_for(*argv):
    parser = QuietParser(prog="qtui")
    add_run_options(parser)
    return build_plan(parser.parse_args(list(argv)))


def test_the_layer_pass_runs_unless_no_rescue_says_otherwise():
    assert plan_for("--routes", "torch-fp32").layers is True
    assert plan_for("--routes", "torch-fp32", "--no-rescue").layers is False


def test_quick_keeps_the_rounds_and_drops_every_other_pass():
    names = ("profile", "invariance", "ceilings", "kernels", "layers")
    full, quick = plan_for("--routes", "torch-fp32"), plan_for("--routes", "torch-fp32", "--quick")
    assert all(getattr(full, n) for n in names) and not any(getattr(quick, n) for n in names)
    assert (quick.max_rounds, quick.time_budget_s) == (full.max_rounds, full.time_budget_s)
    no_kernels = plan_for("--routes", "torch-fp32", "--no-kernels")
    assert [getattr(no_kernels, n) for n in names] == [True, True, True, False, True]
