"""Module docstrings that describe a recipe (`--recipe NAME` and what follows it) say what common.config.RECIPES
and the recorded runs in docs/recipe/ say."""

import ast
import json
import re
from pathlib import Path

import pytest

from common.config import RECIPES, Config

ROOT = Path(__file__).resolve().parents[1]
DESCRIBED = ["train.py", "benchmarks/ablation.py"]

# A claim in a recipe's description -> (the setting it names, the value it claims, as read from the match).
CLAIMS = {
    r"H=(\d+)": lambda m: ("hidden_size", int(m[1])),
    r"(\d+) epochs": lambda m: ("num_epochs", int(m[1])),
    r"top-(\d+) projection": lambda m: ("pca_components", int(m[1])),
    r"no projection": lambda m: ("pca_components", 0),
    r"\bZCA\b": lambda m: ("preprocessing", "zca"),
    r"\bAdamW\b": lambda m: ("update_rule", "adam"),
    r"\bNesterov\b": lambda m: ("update_rule", "sgd_nesterov"),
    r"weight decay (\d[\d.e-]*\d)": lambda m: ("weight_decay", float(m[1])),
    r"\blr (\d[\d.e-]*\d)": lambda m: ("learning_rate", float(m[1])),
}


def recipe_descriptions(path: str) -> list[tuple[str, str]]:
    """(recipe name, the text after `--recipe NAME` up to the next --recipe or the paragraph's end) per mention."""
    docstring = ast.get_docstring(ast.parse((ROOT / path).read_text()))
    mentions = list(re.finditer(r"--recipe (\w+)", docstring))
    described = []
    for mention, following in zip(mentions, [*mentions[1:], None]):
        text = docstring[mention.end() : following.start() if following else len(docstring)]
        described.append((mention[1], text.split("\n\n")[0]))
    return described


def version_of(name: str, text: str) -> str:
    """The versioned recipe (v1, v2, ...) a name stands for: named right after it, e.g. `best` (v4), or itself."""
    alias = re.match(r"[\s#:(=`]*(v\d+)\b", text)
    return alias[1] if alias else name


def recorded_accuracy(version: str, key: str) -> float:
    """The mean of a recipe's recorded NumPy runs' metric, in percent."""
    runs = sorted((ROOT / "docs" / "recipe" / version).glob("numpy*/metrics.json"))
    assert runs, f"no recorded NumPy run of --recipe {version} in docs/recipe/{version}"
    return 100 * sum(json.loads(path.read_text())[key] for path in runs) / len(runs)


DESCRIPTIONS = [(path, name, text) for path in DESCRIBED for name, text in recipe_descriptions(path)]


def test_the_docstrings_describe_recipes():
    assert {name for _, name, _ in DESCRIPTIONS} >= {"best", "v1", "v2"}


@pytest.mark.parametrize("path, name, text", DESCRIPTIONS, ids=[f"{p}:{n}" for p, n, _ in DESCRIPTIONS])
def test_a_recipes_description_matches_its_settings_and_records(path, name, text):
    assert name in RECIPES, f"{path} describes --recipe {name}, which is not in RECIPES"
    version = version_of(name, text)
    assert RECIPES[name] == RECIPES[version], f"{path}: --recipe {name} is described as {version}"
    settings = Config(**RECIPES[name])
    for pattern, claim in CLAIMS.items():
        for match in re.finditer(pattern, text):
            setting, value = claim(match)
            assert getattr(settings, setting) == value, (
                f"{path}: --recipe {name} says {match[0]!r}, but its {setting} is {getattr(settings, setting)!r}"
            )
    for match in re.finditer(r"(\d+\.\d)%( test)?( with flip TTA)?", text):
        key = "test_acc_10k_tta" if match[3] else "test_acc_10k"
        recorded = recorded_accuracy(version, key)
        assert float(match[1]) == pytest.approx(recorded, abs=0.05), (
            f"{path}: --recipe {name} says {match[0]!r}; its recorded runs average {recorded:.2f}% ({key})"
        )
