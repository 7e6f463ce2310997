"""Colour themes as data: TOML files in tui/themes/, validated on load, the choice remembered per user."""

from __future__ import annotations

import json
import tomllib
from functools import lru_cache
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

THEMES_DIR = Path(__file__).parent / "themes"
DEFAULT_THEME = "qtui-dark"
COLOUR_KEYS = ("primary", "secondary", "accent", "warning", "error", "success", "foreground", "background",
               "surface", "panel")


class ThemeError(ValueError):
    """A theme file qtui cannot use; one line naming the file and the problem."""


def parse_theme(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ThemeError(f"theme {path.name}: not readable TOML ({exc})") from None
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ThemeError(f"theme {path.name}: needs a name")
    if "primary" not in data:
        raise ThemeError(f"theme {path.name}: needs a primary colour")
    unknown = set(data) - {"name", "dark", *COLOUR_KEYS}
    if unknown:
        raise ThemeError(f"theme {path.name}: unknown keys {', '.join(sorted(unknown))}")
    colours = {}
    for key in COLOUR_KEYS:
        if key in data:
            try:
                Color.parse(data[key])
            except (ColorParseError, TypeError):
                raise ThemeError(f"theme {path.name}: {key} = {data[key]!r} is not a colour") from None
            colours[key] = data[key]
    if not isinstance(data.get("dark", True), bool):
        raise ThemeError(f"theme {path.name}: dark must be true or false")
    return Theme(name=name, dark=data.get("dark", True), **colours)


@lru_cache(maxsize=1)
def load_themes() -> tuple[Theme, ...]:
    return tuple(parse_theme(p) for p in sorted(THEMES_DIR.glob("*.toml")))


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
