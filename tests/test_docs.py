"""The documentation lives in the repository: README's and docs/'s links resolve inside it, anchors included,
and nothing in the repository points at files outside it (a clone would get dead links)."""

import re

from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
SCANNED = ("tui", "tests", "benchmarks", "docs", "themes")


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
