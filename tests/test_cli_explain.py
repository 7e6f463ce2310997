"""`qtui explain` as a user runs it: the diagnosis at terminal size, every recipe in full behind --recipes."""

import json

from tests.conftest import FIXTURES, run_qtui

ZEN5 = FIXTURES / "reports" / "zen5-avx512-vnni-bf16-all-routes.json"
SCREENS = 80  # lines: two screens of a terminal, the diagnosis without the recipes' encode.py


def advice_of(report) -> list[dict]:
    result = run_qtui("explain", str(report), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_zen5_diagnosis_fits_two_screens_with_each_items_short_recipe():
    result = run_qtui("explain", str(ZEN5))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) <= SCREENS, f"{len(lines)} lines"
    advice = advice_of(ZEN5)
    assert len(advice) >= 4 and all(f"({a['code']})" in result.stdout for a in advice)
    for a in advice:
        assert f"Evidence: {a['evidence']}" in result.stdout and f"Fix: {a['fix']}" in result.stdout
        if a["recipe_short"]:  # printed once; a later item with the same recipe names the first
            assert "\n".join(f"     {line}" for line in a["recipe_short"].rstrip().splitlines()) in result.stdout
    exported = [a for a in advice if a["recipe_short"] and a["recipe_short"].startswith("$ qtui export")]
    assert exported and "import json" not in result.stdout  # no encode.py
    assert f"`qtui explain {ZEN5} --recipes`" in result.stdout


def test_recipes_prints_every_recipe_in_full():
    result = run_qtui("explain", str(ZEN5), "--recipes")
    assert result.returncode == 0, result.stderr
    advice = [a for a in advice_of(ZEN5) if a["recipe"]]
    assert any(len(a["recipe"].splitlines()) > 100 for a in advice)  # an exported route's encode.py among them
    for a in advice:
        assert "\n".join(f"     {line}" for line in a["recipe"].rstrip().splitlines()) in result.stdout
    assert "--recipes`" not in result.stdout  # nothing left to point at
    assert len(result.stdout.splitlines()) > SCREENS


def test_help_documents_recipes():
    result = run_qtui("explain", "--help")
    assert result.returncode == 0 and "--recipes" in result.stdout and "in full" in result.stdout
