"""The shipped colour themes: one TOML file each, installed as the package `tui.builtin_themes` (see pyproject.toml).

This file exists only so that an editable install (`pip install -e`) can map the package too: setuptools'
editable finder maps regular packages, not namespace ones. The loader is tui/themes.py."""
