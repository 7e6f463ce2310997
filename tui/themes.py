"""Colour themes as data: TOML files, validated on load. The shipped ones live in the repository's themes/
(installed as the package tui.builtin_themes); users add their own in the platform config dir's themes/
(~/.config/qtui/themes/ on Linux), or pass one file with `qtui --theme PATH.toml`. The choice is remembered."""

from __future__ import annotations

import json
import os
import tomllib
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

SHIPPED_PACKAGE = "tui.builtin_themes"
DEFAULT_THEME = "qtui-dark"
COLOUR_KEYS = ("primary", "secondary", "accent", "warning", "error", "success", "foreground", "background",
               "surface", "panel")


class ThemeError(ValueError):
    """A theme file qtui cannot use; one line naming the file and the problem."""


def parse_theme(path: Path | Traversable) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ThemeError(f"theme {path}: no such file") from None
    except IsADirectoryError:
        raise ThemeError(f"theme {path}: is a directory; pass a .toml file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(f"theme {path}: not readable TOML ({exc})") from None
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ThemeError(f"theme {path}: needs a name")
    if "primary" not in data:
        raise ThemeError(f"theme {path}: needs a primary colour")
    unknown = set(data) - {"name", "dark", *COLOUR_KEYS}
    if unknown:
        raise ThemeError(f"theme {path}: unknown keys {', '.join(sorted(unknown))}")
    colours = {}
    for key in COLOUR_KEYS:
        if key in data:
            try:
                Color.parse(data[key])
            except (ColorParseError, TypeError):
                raise ThemeError(f"theme {path}: {key} = {data[key]!r} is not a colour") from None
            colours[key] = data[key]
    if not isinstance(data.get("dark", True), bool):
        raise ThemeError(f"theme {path}: dark must be true or false")
    return Theme(name=name, dark=data.get("dark", True), **colours)


def is_theme_file(value: str) -> bool:
    """`--theme` takes a name or a file: a file is anything that looks like a path."""
    return value.endswith(".toml") or os.sep in value


def user_themes_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("qtui")) / "themes"


def load_themes(theme_file: str | None = None) -> tuple[Theme, ...]:
    """The shipped themes, then the user's, then `theme_file`: each validated (ThemeError names the first bad
    file); a later theme replaces an earlier one of the same name, so a user can restyle qtui-dark."""
    return _load(str(user_themes_dir()), theme_file)


@lru_cache(maxsize=4)  # the app and the CLI ask more than once; the files do not change while qtui runs
def _load(user_dir: str, theme_file: str | None) -> tuple[Theme, ...]:
    shipped = sorted((f for f in files(SHIPPED_PACKAGE).iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    paths = [*shipped, *sorted(Path(user_dir).glob("*.toml")), *([Path(theme_file)] if theme_file else [])]
    by_name: dict[str, Theme] = {}
    for path in paths:
        theme = parse_theme(path)
        by_name[theme.name] = theme
    return tuple(by_name.values())


def _settings_file() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("qtui")) / "settings.json"


def remembered_theme(known: list[str]) -> str | None:
    try:
        name = json.loads(_settings_file().read_text()).get("theme")
    except (OSError, ValueError, AttributeError):
        return None
    return name if name in known else None


def remember_theme(name: str) -> None:
    """Best effort: an unwritable config dir just means the choice is not remembered."""
    path = _settings_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        current = json.loads(path.read_text()) if path.exists() else {}
        current["theme"] = name
        path.write_text(json.dumps(current))
    except (OSError, ValueError):
        pass
