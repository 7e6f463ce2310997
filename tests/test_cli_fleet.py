"""`qtui fleet` refuses bad input in one line, exit 2, before connecting anywhere; a hosts file adds hosts."""

import argparse
import subprocess
import sys

import pytest

from tui.errors import UserError
from tui.fleet_cli import build_fleet_plan
from tui.options import QuietParser


@pytest.mark.parametrize("args, phrase", [
    ([], "fleet needs at least one HOST"),
    (["web-1", "web-1"], "host given more than once: web-1"),
    (["web-1", "-F", "/no/such/ssh_config"], "-F /no/such/ssh_config: not a readable file"),
    (["web-1", "--hosts-file", "/no/such/hosts"], "--hosts-file /no/such/hosts"),
    (["web-1", "--routes", "torch-int4"], "unknown route torch-int4"),
    (["web-1", "--out", "/proc/version"], "--out /proc/version: exists and is not a directory"),
    (["web-1", "--out", "/proc/version/reports"], "--out /proc/version/reports: cannot create it (Not a directory)"),
    (["web-1", "--rounds", "0"], "must be 1 or more"),
    (["web-1", "--keepalive-interval", "0"], "argument --keepalive-interval: '0' must be a positive number"),
    (["web-1", "--keepalive-interval", "soon"], "argument --keepalive-interval: 'soon' is not a number"),
    (["web-1", "--connect-timeout", "nan"], "argument --connect-timeout: 'nan' must be a positive number"),
    (["web-1", "--connect-timeout", "inf"], "argument --connect-timeout: 'inf' must be a positive number"),
    (["web-1", "--connect-timeout", "0"], "argument --connect-timeout: '0' must be a positive number"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_connects(tmp_path, args, phrase):
    result = subprocess.run([sys.executable, "-m", "tui", "fleet", *args, "--connect-timeout", "1"],
                            capture_output=True, text=True, timeout=30, cwd=tmp_path)  # cwd: where a default --out goes
    assert result.returncode == 2, result.stderr
    assert phrase in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and not list(tmp_path.iterdir())  # no output folder either


def parse(*argv: str) -> argparse.Namespace:
    from tui.fleet_cli import add_fleet_parser

    sub = QuietParser(prog="qtui").add_subparsers(parser_class=QuietParser)
    return add_fleet_parser(sub).parse_args(list(argv))


def test_a_hosts_file_adds_hosts_after_the_command_lines(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("# the new generation\nweb-2\n\n  db@web-3   # a comment\n")
    plan = build_fleet_plan(parse("web-1", "--hosts-file", str(hosts), "--out", str(tmp_path / "out"),
                                  "--rounds", "5", "--remote-qtui", "~/venv/bin/qtui"))
    assert plan.hosts == ("web-1", "web-2", "db@web-3")
    assert plan.bench_args == ("--rounds", "5") and plan.remote_qtui == "~/venv/bin/qtui"
    assert plan.ssh_config is None and plan.keepalive_interval == 15 and plan.keepalive_count_max == 3
    assert not (tmp_path / "out").exists()  # checked, not made: the first report makes it


def test_a_missing_out_folder_is_checked_and_left_uncreated_with_its_parents(tmp_path):
    plan = build_fleet_plan(parse("web-1", "--out", str(tmp_path / "reports" / "today"), "--keepalive-interval", "2.5"))
    assert plan.out_dir == tmp_path / "reports" / "today" and plan.keepalive_interval == 2.5
    assert not list(tmp_path.iterdir())


def test_a_fleet_in_which_every_host_failed_leaves_no_folder(tmp_path):
    from benchmarks.ssh_server import free_port

    config = tmp_path / "ssh_config"  # two aliases of a port nothing listens on: both hosts fail at once
    config.write_text(f"Host dead-1 dead-2\n  HostName 127.0.0.1\n  Port {free_port()}\n")

    def fleet(*out: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tui", "fleet", "dead-1", "dead-2", "-F", str(config), *out],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)  # cwd: the default --out

    for result in (fleet("--out", "reports/today"), fleet()):  # a nested --out, then the default folder
        assert result.returncode == 3, result.stderr
        assert result.stderr.count("failed: unreachable: connection refused") == 2, result.stderr
        assert "0 of 2 hosts finished; no report saved; failed: dead-1, dead-2" in result.stderr
        assert "Traceback" not in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["ssh_config"]  # no reports/, no qtui-fleet-*/


def test_a_host_in_both_places_is_refused(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("web-1\n")
    with pytest.raises(UserError, match="more than once: web-1"):
        build_fleet_plan(parse("web-1", "--hosts-file", str(hosts), "--out", str(tmp_path / "out")))
