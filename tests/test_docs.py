"""The docs stay true: README's samples come from a run, every relative link resolves, the first screen is short."""

import re
import sys
from collections import Counter
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
    text = "".join((ROOT / name).read_text() for name in ("README.md", "README.ko.md"))
    assert samples.comparable(samples.rewrite(text)) == samples.comparable(text), "run python docs/samples.py"


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


# ----------------------------------------------------------------------------- docs/derivations.md and its Korean twin

DERIVATIONS = ROOT / "docs" / "derivations.md"
DERIVATIONS_KO = ROOT / "docs" / "derivations.ko.md"
INIT_SECTION = "11"  # weight initialization; compare/grade.py's PARTS name sections by these numbers
MATH_SIGNS = set("=≈≤≥≠<>⇒→≫+*−·⊙Σ∂√²ᵀ")  # an inline code span holding one of these is an equation
FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def derivation_sections(text: str) -> dict[str, str]:
    """The text by section, as compare.grade.derivation cuts it: "0" the preamble, then "1", "2", ... from each
    ``## N. `` heading (heading included) to the next ``## `` heading."""
    parts = re.split(r"\n(?=## )", text)
    sections = {"0": parts[0]}
    for part in parts[1:]:
        number = re.match(r"## (\d+)\. ", part)
        assert number, f"a level-2 heading without a section number: {part.splitlines()[0]!r}"
        assert number.group(1) not in sections, f"section {number.group(1)} appears twice"
        sections[number.group(1)] = part
    return sections


def equations(text: str) -> list[str]:
    """Every equation in a markdown text, each as written (a translation must keep it character for character):

    - each line of a fenced code block (```, ~~~) or an indented code block (4 spaces, after a blank line), trailing
      spaces removed: the display equations;
    - each ``$$...$$`` block and inline ``$...$`` outside code;
    - each inline code span that holds ``=`` or a math sign of MATH_SIGNS, a line break inside it read as a space
      (as markdown reads it).
    """
    found, prose, fence, in_block, blank_before = [], [], None, False, True
    for line in text.split("\n"):
        if fence:  # inside a fenced block until its closing fence
            if re.fullmatch(rf" {{0,3}}{fence[0]}{{{len(fence)},}}\s*", line):
                fence = None
            elif line.strip():
                found.append(line.rstrip())
            prose.append("")
        elif opening := FENCE.match(line):
            fence, in_block = opening.group(1), False
            prose.append("")
        elif line.strip() and line.startswith("    ") and (blank_before or in_block):
            found.append(line.rstrip())
            in_block = True
            prose.append("")
        else:
            in_block = in_block and not line.strip()
            prose.append(line)
        blank_before = not line.strip()
    text = "\n".join(prose)
    for span in re.finditer(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", text, flags=re.S):
        code = re.sub(r"[ \t]*\n[ \t]*", " ", span.group(2))
        if "\n\n" not in span.group(2) and any(sign in code for sign in MATH_SIGNS):
            found.append(code)
    text = re.sub(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)", "", text, flags=re.S)
    found += re.findall(r"\$\$.+?\$\$", text, flags=re.S)
    found += re.findall(r"(?<!\$)\$[^$\n]+\$(?!\$)", re.sub(r"\$\$.+?\$\$", "", text, flags=re.S))
    return found


def test_the_equation_finder_sees_each_kind_of_equation():
    text = (
        "Intro `y = f(x)` and `not_math`, $a+b$, `dx = dout\n  · w`, and $$\\sum_i x_i$$.\n\n"
        "    dw = Xᵀ · dout        (D, M)\n    db = dout.sum(axis=0)\n\nprose\n    not code: a paragraph goes on\n\n"
        "```\nL = −log p\n```\n"
    )
    assert sorted(equations(text)) == sorted(
        [
            "y = f(x)",
            "dx = dout · w",
            "$a+b$",
            "$$\\sum_i x_i$$",
            "    dw = Xᵀ · dout        (D, M)",
            "    db = dout.sum(axis=0)",
            "L = −log p",
        ]
    )


def test_the_korean_derivations_have_the_same_sections_and_equations():
    """docs/derivations.ko.md is docs/derivations.md in Korean: the same numbered sections in the same order, and
    in each section the same equations (see equations()) the same number of times; prose alone is translated."""
    english, korean = (derivation_sections(page.read_text(encoding="utf-8")) for page in (DERIVATIONS, DERIVATIONS_KO))
    assert list(korean) == list(english), (
        f"section numbers differ: derivations.md has {', '.join(list(english)[1:])}; "
        f"derivations.ko.md has {', '.join(list(korean)[1:])}"
    )
    assert list(english) == [str(n) for n in range(len(english))], f"sections are not numbered 1..n: {list(english)}"
    differences = []
    for section in english:
        ours, theirs = Counter(equations(english[section])), Counter(equations(korean[section]))
        for equation in sorted(ours.keys() | theirs.keys()):
            if ours[equation] != theirs[equation]:
                where = "the preamble" if section == "0" else f"section {section}"
                differences.append(
                    f"{where}: {equation!r} appears {ours[equation]}x in derivations.md, "
                    f"{theirs[equation]}x in derivations.ko.md"
                )
    assert not differences, "equations differ (translate prose only):\n" + "\n".join(differences)
    init_en, init_ko = english.get(INIT_SECTION, ""), korean.get(INIT_SECTION, "")
    assert init_en.startswith(f"## {INIT_SECTION}. Weight initialization"), "derivations.md lacks its init section"
    assert init_ko.startswith(f"## {INIT_SECTION}. 가중치 초기화"), "derivations.ko.md lacks its init section"
    for text in (init_en, init_ko):
        assert all(word in text for word in ("grade_twolayer_init", "weight_scale", "log C", "float64"))
    assert "[derivations.ko.md](derivations.ko.md)" in english["0"]
    assert "[derivations.md](derivations.md)" in korean["0"]
