"""f in the dashboard: the fleet screen takes hosts, runs them with the dashboard's settings and shows each host's
fate; a host that cannot even be resolved fails in its row while the screen stays usable; esc goes back."""

from tests.app.fakes import FakeBackend
from tui.app import make_app
from tui.screens.fleet import FleetScreen, plan_from_settings


async def test_f_opens_the_fleet_screen_and_a_bad_host_fails_in_its_row(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh/config of the machine's user gets read
    app = make_app(FakeBackend())
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("f")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await pilot.click("#fleet-hosts")
        await pilot.press(*"nosuchhost.invalid", "enter")
        assert app.focused is screen.query_one("#fleet-table")  # x now cancels rather than types
        for _ in range(300):
            await pilot.pause(0.05)
            if not screen.running and screen.rows:
                break
        row = screen.rows["nosuchhost.invalid"]
        assert row.failed and "cannot resolve nosuchhost.invalid" in row.failed
        # The reason is on the screen, not only in a passing notification.
        assert "cannot resolve nosuchhost.invalid" in str(screen.query_one("#fleet-compare").render())
        # The dashboard's keys are off under the fleet screen: b would start a hidden local run.
        await pilot.press("b")
        await pilot.pause()
        assert not app.running and app.check_action("bench", ()) is False
        assert screen.exit_code == 3
        status = str(screen.query_one("#fleet-status").render())
        assert "0 of 1 hosts done, 1 failed · no report saved" in status
        assert not list(tmp_path.glob("qtui-fleet-*"))  # no empty output folder left behind
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FleetScreen)


def test_typed_hosts_run_with_the_dashboard_settings():
    from tui.app import default_settings

    settings = default_settings()
    settings.routes, settings.num_texts, settings.kernels = ["torch-fp32", "ort-qint8"], 16, False
    plan = plan_from_settings(["a", "b"], settings)
    assert plan.hosts == ("a", "b") and plan.remote_qtui == "qtui" and plan.ssh_config is None
    args = list(plan.bench_args)
    assert args[args.index("--routes") + 1] == "torch-fp32,ort-qint8" and "--no-kernels" in args
    assert args[args.index("--num-texts") + 1] == "16"
