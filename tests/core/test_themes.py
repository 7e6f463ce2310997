import pytest

from tui.themes import ThemeError, is_theme_file, load_themes, parse_theme, user_themes_dir

MINE = 'name = "mine"\nprimary = "#ff8800"\ndark = false\n'


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    """The platform config dir (XDG on Linux) inside tmp_path: never the user's own themes."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    themes = tmp_path / "config" / "qtui" / "themes"
    assert user_themes_dir() == themes
    themes.mkdir(parents=True)
    return themes


def test_three_shipped_themes_one_light_one_high_contrast():
    themes = {t.name: t for t in load_themes()}
    assert {"qtui-dark", "qtui-light", "qtui-contrast"} <= set(themes)
    assert not themes["qtui-light"].dark
    assert themes["qtui-contrast"].background == "#000000" and themes["qtui-contrast"].foreground == "#ffffff"


@pytest.mark.parametrize("text, phrase", [
    ('name = "x"\n', "needs a primary"),
    ('primary = "#fff"\n', "needs a name"),
    ('name = "x"\nprimary = "not-a-colour"\n', "is not a colour"),
    ('name = "x"\nprimary = "#fff"\nsparkle = 1\n', "unknown keys sparkle"),
    ('name = "x"\nprimary = "#fff"\ndark = "yes"\n', "dark must be"),
    ('name = [\n', "not readable TOML"),
])
def test_bad_theme_files_are_rejected_with_the_reason(tmp_path, text, phrase):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ThemeError, match=phrase):
        parse_theme(path)


def test_shipped_themes_come_from_the_top_level_themes_dir_of_the_repository():
    from tests.conftest import ROOT

    shipped = {parse_theme(p).name for p in (ROOT / "themes").glob("*.toml")}
    assert shipped == {"qtui-dark", "qtui-light", "qtui-contrast"}
    assert not list((ROOT / "tui").rglob("*.toml"))  # one place, mapped into the wheel (tests/test_packaging.py)


def test_a_users_theme_joins_the_shipped_ones(config_home):
    (config_home / "mine.toml").write_text(MINE)
    (config_home / "notes.txt").write_text("not a theme")
    names = [t.name for t in load_themes()]
    assert names == ["qtui-contrast", "qtui-dark", "qtui-light", "mine"]


def test_a_users_theme_of_a_shipped_name_replaces_it(config_home):
    (config_home / "dark.toml").write_text('name = "qtui-dark"\nprimary = "#123456"\n')
    themes = {t.name: t for t in load_themes()}
    assert len(themes) == 3 and themes["qtui-dark"].primary == "#123456"


def test_a_broken_users_theme_is_named_with_its_path(config_home):
    (config_home / "broken.toml").write_text('name = "broken"\n')
    with pytest.raises(ThemeError, match=f"theme {config_home / 'broken.toml'}: needs a primary colour"):
        load_themes()


def test_a_theme_file_comes_last_and_is_validated(tmp_path, config_home):
    path = tmp_path / "try.toml"
    path.write_text(MINE.replace("mine", "trying"))
    assert [t.name for t in load_themes(str(path))][-1] == "trying"
    with pytest.raises(ThemeError, match="no such file"):
        load_themes(str(tmp_path / "missing.toml"))
    with pytest.raises(ThemeError, match="is a directory"):
        load_themes(str(tmp_path) + "/")


@pytest.mark.parametrize("value, is_file", [("qtui-dark", False), ("mine.toml", True), ("./mine", True),
                                            ("themes/x", True)])
def test_theme_option_is_a_file_when_it_looks_like_a_path(value, is_file):
    assert is_theme_file(value) is is_file


def test_stylesheet_uses_only_theme_variables_for_colour():
    import re
    from pathlib import Path

    import tui

    css = (Path(tui.__file__).parent / "app.tcss").read_text()
    # A literal colour in a declaration's value (after a colon), as opposed to an #id selector.
    assert not re.search(r":[^;{}]*(#[0-9a-fA-F]{3,8}\b|\brgba?\(|\b(red|green|blue|white|black|yellow)\b)", css)
