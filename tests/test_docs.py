"""The documentation lives in the repository: README's and docs/'s links resolve inside it, anchors included,
and nothing in the repository points at files outside it (a clone would get dead links). The README stays short
and shows the dashboard; docs/cli.md's option lists stay true to the real argparse parsers."""

import argparse
import html
import re
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SCANNED = ("tui", "tests", "benchmarks", "scripts", "docs", "themes")
README_MAX_WORDS = 1500
MOVED = ("docs/cli.md", "docs/troubleshooting.md", "docs/development.md", "docs/ARCHITECTURE.md")
PICTURE = ROOT / "docs" / "dashboard.svg"
CAPTION = re.compile(r"<!-- dashboard-caption[^>]*-->\n(.*?)<!-- /dashboard-caption -->", re.DOTALL)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)}


def test_the_architecture_is_in_the_repository_and_readme_links_to_it():
    assert (ROOT / "docs" / "ARCHITECTURE.md").is_file()
    assert "](docs/ARCHITECTURE.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_relative_link_resolves_inside_the_repository():
    checked = 0
    for doc in DOCS:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            resolved = (doc.parent / path).resolve() if path else doc
            assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{doc.name}: dead link {target}"
            if anchor:
                assert anchor in anchors(resolved), f"{doc.name}: no heading for #{anchor} in {resolved.name}"
            checked += 1
    assert checked >= 3


def test_nothing_refers_to_files_outside_the_repository():
    outside = "../" + "shared"  # the design notes next to the repository, which a clone does not have
    files = [p for d in SCANNED for p in (ROOT / d).rglob("*") if p.is_file() and p.suffix in (".py", ".md", ".toml")]
    files += [ROOT / name for name in ("README.md", "Makefile", "pyproject.toml")]
    assert not [p.relative_to(ROOT) for p in files if outside in p.read_text(encoding="utf-8", errors="replace")]


def test_slug_matches_githubs_rule():
    assert slug("The report contract: `qtui.report/1`") == "the-report-contract-qtuireport1"


# ---------------------------------------------------------------------------------------------- the README


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def svg_text(path) -> str:
    """What the screenshot shows, as text: Rich writes each run of cells as <text>, spaces as &#160;."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8"))).replace("\xa0", " ")


def test_the_readme_is_short_and_links_the_moved_pages_and_the_picture():
    text = readme()
    assert len(text.split()) <= README_MAX_WORDS, f"README.md has {len(text.split())} words (wc -w)"
    links = set(LINK.findall(text))
    assert not [page for page in MOVED if page not in links], "README.md must link each page of docs/"
    assert re.search(r"!\[[^\]]+\]\(docs/dashboard\.svg\)", text), "README.md shows docs/dashboard.svg as an image"
    root = ET.parse(PICTURE).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    shown = svg_text(PICTURE)
    assert "speedup [95% CI]" in shown and "Advice" in shown  # the routes table and the advice panel, not a blank


def test_the_caption_names_the_run_the_picture_shows():
    """scripts/dashboard_svg.py writes both from one report: the run's seconds (the status line's "done in N s")
    and its routes (a row each) must agree, so a picture redrawn without its caption, or a caption edited by hand,
    fails here."""
    found = CAPTION.search(readme())
    assert found, "README.md lost its <!-- dashboard-caption --> region (scripts/dashboard_svg.py rewrites it)"
    caption, shown = found.group(1), svg_text(PICTURE)
    took = re.search(r"the run took (\d+) s", caption)
    done = re.search(r"done in (\d+) s", shown)
    assert took and done and took.group(1) == done.group(1), (caption, done and done.group(0))
    routes = re.search(r"--routes ([\w,-]+)", caption).group(1).split(",")
    assert [r for r in routes if not re.search(rf"(?m)^\W*{re.escape(r)} ", shown)] == []
    assert "scripts/dashboard_svg.py" in caption
    assert "scripts/dashboard_svg.py" in (ROOT / "docs" / "development.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ docs/cli.md and the parsers

OPTION = re.compile(r"(?<![\w-])--[a-z][\w-]*")
# "qtui" as a command word (not qtui-dark, qtui.report/1, /opt/qtui/bin, QTUI_CACHE_DIR, "qtui:"), and the
# subcommand after it, if any
QTUI = re.compile(r"(?<![\w/.~=-])qtui(?![\w.:/-])(?:\s+([a-z]+))?")
# `qtui routes` has no options of its own: its section's prose (the rescue, the artefact cache) is about what
# `qtui bench` does with the routes, so the options named there are bench's.
PROSE_OF = {"routes": "bench"}
RUN_OPTIONS_PHRASE = "the run options of `qtui bench`"


def parsers() -> dict[str, argparse.ArgumentParser]:
    """The real parsers, by command ("" is `qtui` itself, the dashboard)."""
    from tui.cli import build_parser

    top = build_parser()
    (sub,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    return {"": top, **sub.choices}


def long_options(parser: argparse.ArgumentParser, nested: bool = True) -> set[str]:
    """Every --option of a parser, and of its own subcommands when nested (`qtui cache prune --max-size`)."""
    found = {o for a in parser._actions for o in a.option_strings if o.startswith("--")} - {"--help"}
    for action in parser._actions:
        if nested and isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found |= long_options(child)
    return found


def run_options() -> set[str]:
    from tui.options import QuietParser, add_run_options

    p = QuietParser(prog="qtui")
    add_run_options(p)
    return long_options(p)


def options_of() -> dict[str, set[str]]:
    return {cmd: long_options(p, nested=cmd != "") for cmd, p in parsers().items()}


def cli_sections() -> dict[str | None, list[str]]:
    """docs/cli.md's `## ` sections by the command they document (the heading starts with `qtui CMD`), their
    `### ` subsections included; sections about no command (the overview, exit codes) under None."""
    sections: dict[str | None, list[str]] = {}
    for part in re.split(r"(?m)^(?=## )", (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")):
        heading = re.match(r"## `qtui(?: ([a-z]+))?[ `]", part)
        sections.setdefault((heading.group(1) or "") if heading else None, []).append(part)
    return sections


def spans(section: str) -> tuple[list[str], str]:
    """(code spans, the prose left). A fenced block gives a span per line, an indented or bracketed line
    continuing the one before (a synopsis over several lines); inline `code` gives a span each."""
    found = []

    def block(m: re.Match) -> str:
        lines: list[str] = []
        for line in m.group(1).splitlines():
            if lines and line[:1] in (" ", "["):
                lines[-1] += " " + line.strip()
            elif line.strip():
                lines.append(line.strip().removeprefix("$ "))
        found.extend(lines)
        return "\n"

    prose = re.sub(r"(?ms)^```[^\n]*\n(.*?)^```", block, section)

    def inline(m: re.Match) -> str:
        found.append(m.group(1))
        return " "

    prose = re.sub(r"`([^`]+)`", inline, prose)
    return found, prose


def mentions(section: str) -> tuple[list[tuple[str, str]], list[str]]:
    """([(command, option)] for each option after `qtui CMD` in a code span — the command it is written for —,
    [bare options]: in prose, or in a span of options alone). Options in a span of another program (`pip install
    --no-deps`, `ssh -F`, `fleet_overhead.py --pairs`) are neither."""
    commands = set(parsers())
    attributed, bare = [], []
    code, prose = spans(section)
    for span in code:
        words = span.split()
        calls = list(QTUI.finditer(span))
        head = span[: calls[0].start()] if calls else span
        if words and words[0].startswith("-"):  # `--json -`, `--batch-size N`: options alone
            bare += OPTION.findall(head)
        for i, call in enumerate(calls):
            cmd = call.group(1) if call.group(1) in commands else ""
            tail = span[call.end(): calls[i + 1].start() if i + 1 < len(calls) else len(span)]
            attributed += [(cmd, o) for o in OPTION.findall(tail)]
    bare += OPTION.findall(prose)
    return attributed, bare


def test_docs_cli_has_a_section_for_every_command():
    sections = cli_sections()
    assert sorted(c for c in parsers() if c not in sections) == []
    assert [c for c, parts in sections.items() if c is not None and len(parts) > 1] == []  # one section each


@pytest.mark.parametrize("command", ["", "detect", "bench", "explain", "compare", "fleet", "export", "cache"])
def test_docs_cli_documents_every_option_of_the_command_in_its_section(command):
    """Each long option a command's parser has is named in that command's section of docs/cli.md: in its option
    table, its synopsis or its prose, or in a `qtui CMD …` example there. The dashboard and `qtui fleet` take the
    run options of `qtui bench` and say so instead of repeating them."""
    (section,) = cli_sections()[command]
    wanted = options_of()[command]
    assert wanted, f"qtui {command}: no options found in its parser"
    if command != "bench" and run_options() <= wanted:
        assert RUN_OPTIONS_PHRASE in section, f"qtui {command} takes bench's run options: say {RUN_OPTIONS_PHRASE!r}"
        wanted -= run_options()
    attributed, bare = mentions(section)
    named = set(bare) | {o for c, o in attributed if c == command}
    assert sorted(wanted - named) == [], f"qtui {command}: options missing from its section of docs/cli.md"


def test_docs_cli_names_no_option_a_command_lacks():
    """Every option docs/cli.md names belongs to the command it is written for: after `qtui CMD` in a span, that
    command's; elsewhere in a command's section, the section's command's (`qtui routes`: bench's, see PROSE_OF);
    in the sections about no command, some command's."""
    options = options_of()
    anywhere = set().union(*options.values())
    wrong = []
    for command, parts in cli_sections().items():
        for section in parts:
            attributed, bare = mentions(section)
            wrong += [(f"qtui {c}".strip(), o) for c, o in attributed if o not in options[c]]
            owner = PROSE_OF.get(command, command)
            allowed = anywhere if owner is None else options[owner]
            wrong += [(f"section of qtui {command}" if command is not None else "overview", o) for o in bare
                      if o not in allowed]
    assert wrong == []


def test_the_option_checks_can_fail():
    """The attribution the two tests above rest on: an option after `qtui CMD` is CMD's; an unknown option is
    caught in prose, in a table cell and in a synopsis; another program's options are left alone."""
    attributed, bare = mentions("Run `qtui bench --rounds 3` or `qtui export X --out d --bogus` (`--json -`); "
                                "the `pip install --no-deps` way; `--nope N` |\n```\nqtui fleet HOST [--hosts-file F]\n"
                                "     [--connect-timeout S] [--frob]\n```\nand --prose-only.")
    assert sorted(attributed) == [("bench", "--rounds"), ("export", "--bogus"), ("export", "--out"),
                                  ("fleet", "--connect-timeout"), ("fleet", "--frob"), ("fleet", "--hosts-file")]
    assert sorted(bare) == ["--json", "--nope", "--prose-only"]
    options = options_of()
    assert "--bogus" not in options["export"] and "--frob" not in options["fleet"]
