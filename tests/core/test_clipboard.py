"""OSC 52 copies: the plain form, tmux's passthrough form, and when tmux drops both."""

import base64
import subprocess

from tui.clipboard import copy_sequences, osc52, tmux_copy_hint, tmux_passthrough


def test_osc52_carries_the_text_base64_encoded():
    seq = osc52("engine = 'x86' ✓")
    assert seq.startswith("\x1b]52;c;") and seq.endswith("\a")
    assert base64.b64decode(seq[7:-1]).decode() == "engine = 'x86' ✓"


def test_passthrough_doubles_every_escape_inside_the_dcs():
    wrapped = tmux_passthrough(osc52("x"))
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]52;") and wrapped.endswith("\a\x1b\\")
    assert wrapped[len("\x1bPtmux;"):-2].count("\x1b") == 2  # the one ESC of the OSC, doubled


def test_outside_tmux_one_sequence_inside_two():
    assert copy_sequences("x", {}) == [osc52("x")]
    assert copy_sequences("x", {"TMUX": "/tmp/tmux-0/default,1,0"}) == [osc52("x"), tmux_passthrough(osc52("x"))]


def fake_tmux(set_clipboard: str, passthrough: str, returncode: int = 0):
    def run(argv, **kwargs):
        value = set_clipboard if "set-clipboard" in argv else passthrough
        return subprocess.CompletedProcess(argv, returncode, stdout=value + "\n", stderr="")
    return run


def test_hint_only_when_tmux_drops_both_forms():
    env = {"TMUX": "/tmp/tmux-0/default,1,0"}
    assert "set-clipboard on" in tmux_copy_hint(env, run=fake_tmux("external", "off"))
    assert tmux_copy_hint(env, run=fake_tmux("on", "off")) is None
    assert tmux_copy_hint(env, run=fake_tmux("external", "on")) is None
    assert tmux_copy_hint({}, run=fake_tmux("external", "off")) is None  # not in tmux: nothing to say
    assert tmux_copy_hint(env, run=fake_tmux("external", "off", returncode=1)) is None  # cannot ask: stay quiet


def test_hint_survives_a_missing_tmux_binary():
    def missing(argv, **kwargs):
        raise FileNotFoundError("tmux")
    assert tmux_copy_hint({"TMUX": "x"}, run=missing) is None
