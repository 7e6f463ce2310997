"""Themes from the command line: the user's theme files are checked before the dashboard opens; `--theme` takes
a name or a file. Each mistake is one line on stderr and exit 2 (the dashboard never starts)."""

import os

from tests.conftest import run_qtui


def config_env(tmp_path) -> dict:
    return dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))


def user_themes(tmp_path):
    themes = tmp_path / "config" / "qtui" / "themes"
    themes.mkdir(parents=True)
    return themes


def one_line(result) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_broken_theme_in_the_config_dir_is_one_line_exit_2(tmp_path):
    bad = user_themes(tmp_path) / "bad.toml"
    bad.write_text('name = "bad"\nprimary = "chartreuse-ish"\n')
    line = one_line(run_qtui(timeout=30, env=config_env(tmp_path)))
    assert line == f"qtui: theme {bad}: primary = 'chartreuse-ish' is not a colour"


def test_an_unknown_theme_name_lists_the_users_themes_too(tmp_path):
    (user_themes(tmp_path) / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\n')
    line = one_line(run_qtui("--theme", "neon", timeout=30, env=config_env(tmp_path)))
    assert line.startswith("qtui: --theme neon: unknown; choose one of ") and "mine" in line and "PATH.toml" in line


def test_a_theme_file_that_is_missing_or_broken_is_one_line_exit_2(tmp_path):
    line = one_line(run_qtui("--theme", str(tmp_path / "nope.toml"), timeout=30, env=config_env(tmp_path)))
    assert line == f"qtui: theme {tmp_path / 'nope.toml'}: no such file"
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "x"\nprimary = "#fff"\nglitter = true\n')
    line = one_line(run_qtui("--theme", str(broken), timeout=30, env=config_env(tmp_path)))
    assert line == f"qtui: theme {broken}: unknown keys glitter"


def test_a_theme_file_and_a_users_theme_reach_the_dashboard(tmp_path, monkeypatch):
    """`qtui --theme PATH.toml` up to the point where the dashboard would take the terminal."""
    import tui.app
    from tui.cli import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (user_themes(tmp_path) / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\n')
    trying = tmp_path / "trying.toml"
    trying.write_text('name = "trying"\nprimary = "#00ff88"\n')
    started = []
    monkeypatch.setattr(tui.app.QtuiApp, "run", lambda app: started.append(app))
    assert main(["--theme", str(trying)]) == 0
    (app,) = started
    assert app.theme == "trying" and {"mine", "trying"} <= set(app.theme_names)
