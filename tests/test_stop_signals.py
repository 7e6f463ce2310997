"""The stop-signal rules shared by `qtui bench`, the other subcommands and the dashboard."""

import signal

from tests.conftest import run_python
from tui.stop_signals import exit_code, stopped_line


def test_exit_codes_are_what_a_shell_reports_for_the_signal():
    assert [exit_code(s) for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)] == [129, 130, 143]


def test_one_line_names_the_signal():
    assert stopped_line(signal.SIGTERM, "workers stopped") == "qtui: terminated (SIGTERM); workers stopped"
    assert stopped_line(signal.SIGHUP) == "qtui: hung up (SIGHUP)"
    assert stopped_line(signal.SIGINT) == "qtui: interrupted (SIGINT)"


# Signals are raised in a fresh interpreter: after ONNX Runtime/OpenVINO have run inside the test process
# (tests/core/test_onnx_openvino.py), any Python-level signal handler there dies with SIGSEGV.
HANDLERS = """
import signal
from tui.stop_signals import StopRequest, on_stop_signals
stop = StopRequest()
before = signal.getsignal(signal.SIGTERM)
with on_stop_signals(stop):
    signal.raise_signal(signal.SIGTERM)
    signal.raise_signal(signal.SIGHUP)
print(stop.is_set(), stop.signum == signal.SIGTERM, signal.getsignal(signal.SIGTERM) is before)
"""

IGNORED = """
import signal
from tui.stop_signals import StopRequest, on_stop_signals
signal.signal(signal.SIGHUP, signal.SIG_IGN)
stop = StopRequest()
with on_stop_signals(stop):
    kept = signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    signal.raise_signal(signal.SIGHUP)
print(kept, stop.is_set())
"""


def test_handlers_apply_inside_the_block_only_and_the_first_signal_wins():
    result = run_python(HANDLERS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True"]


def test_a_signal_ignored_at_start_stays_ignored():
    """`nohup qtui bench …` must survive the hang-up it asked to ignore."""
    result = run_python(IGNORED)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]
