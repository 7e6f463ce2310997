"""The stop-signal rules shared by `qtui bench`, the other subcommands and the dashboard."""

import signal

from tui.stop_signals import StopRequest, exit_code, on_stop_signals, stopped_line


def test_exit_codes_are_what_a_shell_reports_for_the_signal():
    assert [exit_code(s) for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)] == [129, 130, 143]


def test_one_line_names_the_signal():
    assert stopped_line(signal.SIGTERM, "workers stopped") == "qtui: terminated (SIGTERM); workers stopped"
    assert stopped_line(signal.SIGHUP) == "qtui: hung up (SIGHUP)"
    assert stopped_line(signal.SIGINT) == "qtui: interrupted (SIGINT)"


def test_handlers_apply_inside_the_block_only_and_the_first_signal_wins():
    stop = StopRequest()
    before = signal.getsignal(signal.SIGTERM)
    with on_stop_signals(stop):
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGHUP)
    assert stop.is_set() and stop.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_signal_ignored_at_start_stays_ignored():
    """`nohup qtui bench …` must survive the hang-up it asked to ignore."""
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        stop = StopRequest()
        with on_stop_signals(stop):
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            signal.raise_signal(signal.SIGHUP)
        assert not stop.is_set()
    finally:
        signal.signal(signal.SIGHUP, previous)
