import pytest

from tui.themes import ThemeError, load_themes, parse_theme


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


def test_stylesheet_uses_only_theme_variables_for_colour():
    import re
    from pathlib import Path

    import tui

    css = (Path(tui.__file__).parent / "app.tcss").read_text()
    # A literal colour in a declaration's value (after a colon), as opposed to an #id selector.
    assert not re.search(r":[^;{}]*(#[0-9a-fA-F]{3,8}\b|\brgba?\(|\b(red|green|blue|white|black|yellow)\b)", css)
