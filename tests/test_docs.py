"""The docs stay true: README's samples come from a run, every relative link resolves, the first screen is short."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "README.ko.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.slow
def test_readme_samples_are_what_their_commands_print_now():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import samples
    finally:
        sys.path.pop(0)
    text = (ROOT / "README.md").read_text()

    def numbers_masked(s):  # the last digits of a rounding error differ between BLAS builds and secret inputs;
        s = re.sub(r"isolation: .*", "isolation: #", s)  # the sandbox's layers between machines
        return re.sub(r"\d\.\de[-+]\d\d", "#", s)

    assert numbers_masked(samples.rewrite(text)) == numbers_masked(text), "run python docs/samples.py"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if "://" not in target:
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


def test_the_readme_is_short_and_starts_with_the_korean_link():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250
    assert "[README.ko.md](README.ko.md)" in "\n".join(lines[:4])
    korean = (ROOT / "README.ko.md").read_text()
    assert "python -m compare --impl lab" in korean and "48%" in korean


def test_record_blocks_are_rendered_from_the_run_records():
    """The results tables in README.md and docs/beyond-the-lab.md are docs/recipe/'s runs and ablation.json."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import samples
    finally:
        sys.path.pop(0)
    for page in samples.RECORD_PAGES:
        text = page.read_text()
        assert "<!-- record: " in text, page.name
        assert samples.rewrite_records(text) == text, f"{page.name} is stale: run python docs/samples.py"


def test_empty_record_blocks_are_filled_in_place_without_swallowing_the_text_between_them():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import samples
    finally:
        sys.path.pop(0)
    text = "a\n<!-- record: reaches -->\n<!-- /record -->\nmiddle\n<!-- record: ablation -->\n<!-- /record -->\nend\n"
    rendered = samples.rewrite_records(text)
    assert rendered.startswith("a\n<!-- record: reaches -->\n| recipe |") and rendered.endswith(
        "<!-- /record -->\nend\n"
    )
    assert "<!-- /record -->\nmiddle\n<!-- record: ablation -->\n| # | step |" in rendered
    assert samples.rewrite_records(rendered) == rendered  # rendering again changes nothing
