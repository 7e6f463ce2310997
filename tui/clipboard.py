"""Copy over SSH: OSC 52 asks the *user's* terminal to set its clipboard (the server's is useless).

Inside tmux a plain OSC 52 only arrives if tmux is told to accept it (`set-clipboard on`; tmux 3.3's default
is `external`, which drops it); tmux ≥ 3.3 also forwards a DCS-wrapped copy when `allow-passthrough` is on.
We send both forms, so either setting works, and say which one to set when neither is."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Mapping


def osc52(text: str) -> str:
    return f"\x1b]52;c;{base64.b64encode(text.encode('utf-8')).decode('ascii')}\a"


def tmux_passthrough(sequence: str) -> str:
    """Wrap an escape sequence so tmux passes it to the outer terminal: ESC P tmux; …(ESC doubled)… ESC \\."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def copy_sequences(text: str, env: Mapping[str, str]) -> list[str]:
    """What to write to the terminal to copy `text` (one sequence, two inside tmux)."""
    sequence = osc52(text)
    return [sequence, tmux_passthrough(sequence)] if env.get("TMUX") else [sequence]


def tmux_copy_hint(env: Mapping[str, str], run=subprocess.run) -> str | None:
    """If this is tmux and it drops OSC 52 in both forms, the one-line fix; None otherwise (or unknown)."""
    if not env.get("TMUX"):
        return None
    try:
        clipboard = run(["tmux", "show-options", "-sv", "set-clipboard"], capture_output=True, text=True, timeout=2)
        passthrough = run(["tmux", "show-options", "-Apv", "allow-passthrough"], capture_output=True, text=True,
                          timeout=2)
    except (OSError, subprocess.SubprocessError):
        return None  # no tmux binary here (e.g. tmux on the other end of SSH): nothing we can check
    if clipboard.returncode != 0:
        return None
    if clipboard.stdout.strip() == "on" or passthrough.stdout.strip() in ("on", "all"):
        return None
    return "tmux drops OSC 52 copies here: run `tmux set -s set-clipboard on` (or add it to ~/.tmux.conf)"


def copy_with_notice(widget, text: str, what: str) -> None:
    """Copy through the app (OSC 52) and tell the user what happened, or what tmux setting is in the way."""
    import os

    widget.app.copy_to_clipboard(text)
    hint = tmux_copy_hint(os.environ)
    if hint:
        widget.notify(f"{what}: sent, but {hint}", severity="warning", timeout=10)
    else:
        widget.notify(f"{what} copied (OSC 52: your terminal's clipboard, also over SSH).")
