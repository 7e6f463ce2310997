"""Run options become the plan's settings (parsed exactly as `qtui bench` parses them)."""

from tui.options import QuietParser, add_run_options, build_plan


def plan_for(*argv):
    parser = QuietParser(prog="qtui")
    add_run_options(parser)
    return build_plan(parser.parse_args(list(argv)))


def test_the_layer_pass_runs_unless_no_rescue_says_otherwise():
    assert plan_for("--routes", "torch-fp32").layers is True
    assert plan_for("--routes", "torch-fp32", "--no-rescue").layers is False
