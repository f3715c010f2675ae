"""Solution regions, in nbgrader's convention: the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION``.

``blank`` replaces each region with a stub that raises NotImplementedError (what nbgrader's
ClearSolutions writes, with the function's name in the message); ``fill`` puts solutions back.
"""

from __future__ import annotations

import re

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = (
    "{indent}# TODO: implement this part of {name} (its docstring says what; docs/derivations.md shows how)\n"
    '{indent}raise NotImplementedError("{name}: not implemented yet")'
)


def regions(source: str) -> list[tuple[int, int]]:
    """(begin line, end line) index pairs of the solution regions of source, in order; ValueError if unpaired."""
    pairs, start = [], None
    for number, line in enumerate(source.split("\n")):
        if line.strip() == BEGIN:
            if start is not None:
                raise ValueError(f"line {number + 1}: {BEGIN} inside another solution region")
            start = number
        elif line.strip() == END:
            if start is None:
                raise ValueError(f"line {number + 1}: {END} without {BEGIN}")
            pairs.append((start, number))
            start = None
    if start is not None:
        raise ValueError(f"line {start + 1}: {BEGIN} is never closed")
    return pairs


def _enclosing_name(lines: list[str], number: int) -> str:
    """The name of the function (Class.method) that line ``number`` belongs to."""
    names = []
    indent = len(lines[number]) - len(lines[number].lstrip())
    for line in reversed(lines[:number]):
        match = re.match(r"(\s*)(?:def|class) (\w+)", line)
        if match and len(match.group(1)) < indent:
            names.append(match.group(2))
            indent = len(match.group(1))
    return ".".join(reversed(names)) or "this file"


def blank(source: str) -> tuple[str, list[str]]:
    """-> (source with every solution region replaced by a stub, the regions' code in order)."""
    lines = source.split("\n")
    solutions, out, previous = [], [], 0
    for start, end in regions(source):
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        out += lines[previous:start]
        out += STUB.format(indent=indent, name=_enclosing_name(lines, start)).split("\n")
        solutions.append("\n".join(lines[start + 1 : end]))
        previous = end + 1
    return "\n".join(out + lines[previous:]), solutions


def fill(student_source: str, solutions: list[str]) -> str:
    """Put solutions (as ``blank`` returned them) back in place of the stubs, in order."""
    pattern = re.compile(r"^[ \t]*# TODO: implement this part of .*\n[ \t]*raise NotImplementedError\(.*\)$", re.M)
    stubs = pattern.findall(student_source)
    if len(stubs) != len(solutions):
        raise ValueError(f"{len(stubs)} stubs for {len(solutions)} solutions")
    pieces = iter(solutions)
    return pattern.sub(lambda match: next(pieces), student_source)
