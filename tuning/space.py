"""The search space: for each hyperparameter, candidate values (greedy, grid) and a range (random, TPE).

A space file (TOML or JSON) overrides any part of the default, e.g.

    [hidden_size]
    values = [100, 300, 1000]
    [reg]
    low = 1e-4
    high = 1.0
    [fixed]
    update_rule = "adam"

A section named after one of OPTIONAL_PARAMS (label_smoothing, weight_decay, zca_epsilon, warmup_epochs)
tunes it too, from the candidates below unless given; ``[fixed]`` takes any
train.py setting (preprocessing = "zca", flip = true, crop_padding = 4, lr_schedule = "cosine", ...).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.config import DEFAULTS, NAMES

TUNED = ("hidden_size", "learning_rate", "num_epochs", "reg")


@dataclass(frozen=True)
class Param:
    """One tuned hyperparameter: candidate values, a [low, high] range, integer or not, log scale or not."""

    name: str
    values: tuple
    low: float
    high: float
    integer: bool
    log: bool

    def on_border(self, value) -> bool:
        """Whether value sits at an end of this parameter's candidates/range (the best may lie beyond)."""
        ends = {min(self.values), max(self.values), self.low, self.high}
        return any(math.isclose(value, end, rel_tol=1e-9, abs_tol=0.0) for end in ends)


DEFAULT_PARAMS = {
    "hidden_size": Param("hidden_size", (50, 100, 200, 500, 1000), 50, 1000, True, True),
    "learning_rate": Param("learning_rate", (3e-5, 1e-4, 3e-4, 1e-3), 3e-5, 1e-3, False, True),
    "num_epochs": Param("num_epochs", (5, 10, 15, 20), 5, 20, True, False),
    "reg": Param("reg", (0.0, 1e-3, 1e-2, 1e-1, 0.5), 1e-4, 0.5, False, True),
}
# Beyond the lab: tuned only when a space file has a section for them.
OPTIONAL_PARAMS = {
    "label_smoothing": Param("label_smoothing", (0.0, 0.05, 0.1, 0.2), 0.0, 0.3, False, False),
    "weight_decay": Param("weight_decay", (0.0, 1e-4, 5e-4, 1e-3), 1e-5, 1e-2, False, True),
    "zca_epsilon": Param("zca_epsilon", (0.01, 0.03, 0.1, 0.3), 0.01, 1.0, False, True),
    "warmup_epochs": Param("warmup_epochs", (0.0, 1.0, 2.0, 5.0), 0.0, 5.0, False, False),
}
# The lab's fixed settings; the update rule is train.py's default, momentum SGD.
DEFAULT_FIXED = {name: getattr(DEFAULTS, name) for name in ("batch_size", "lr_decay", "update_rule", "weight_scale")}
# The lab's first row of the experiment table: (hidden 50, lr 1e-4, decay 0.95, 5 epochs, reg 0).
LAB_START = {"hidden_size": 50, "learning_rate": 1e-4, "num_epochs": 5, "reg": 0.0}


class SpaceError(ValueError):
    """A search space that cannot be searched (empty, inverted, unknown names)."""


@dataclass
class SearchSpace:
    params: dict[str, Param] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    fixed: dict = field(default_factory=lambda: dict(DEFAULT_FIXED))

    def grid(self) -> dict[str, list]:
        return {name: list(p.values) for name, p in self.params.items()}

    def describe(self) -> dict:
        """The space as plain data (search.json, the study's record of its search): each Param but its name."""
        params = {n: {key: value for key, value in asdict(p).items() if key != "name"} for n, p in self.params.items()}
        return {"params": params, "fixed": self.fixed}


RANGED = ("random", "tpe")  # the strategies that draw from [low, high]; greedy and grid use the values


def _check(param: Param, strategy: str, range_given: bool = False) -> Param:
    """Refuse what the strategy cannot search: its values (greedy, grid) or its range (random, TPE).

    A range written in the file is checked whatever the strategy: it is a mistake either way.
    """
    if strategy not in RANGED:
        if range_given:
            _check(param, "random")
        if not param.values:
            raise SpaceError(f"{param.name}: the list of values is empty")
        if any(v < 0 for v in param.values):
            raise SpaceError(f"{param.name}: values must be >= 0, got {list(param.values)}")
        if param.integer and any(int(v) != v or v < 1 for v in param.values):
            raise SpaceError(f"{param.name}: values must be positive integers, got {list(param.values)}")
        return param
    if not param.low <= param.high:
        raise SpaceError(f"{param.name}: the range is inverted (low {param.low} > high {param.high})")
    if param.log and param.low <= 0:
        raise SpaceError(f"{param.name}: a log-scale range needs low > 0, got {param.low}")
    if param.low < 0 or (param.integer and (int(param.low) != param.low or param.low < 1)):
        raise SpaceError(f"{param.name}: low must be {'a positive integer' if param.integer else '>= 0'}")
    return param


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _read_section(path: Path, name: str, section) -> dict:
    """A parameter's section, checked for its keys and their types."""
    if not isinstance(section, dict):
        raise SpaceError(
            f"--space {path}: {name} must be a table (e.g. [{name}] with values = [...], low = ..., high = ...), "
            f"got {section!r}"
        )
    unknown = sorted(set(section) - {"values", "low", "high", "log"})
    if unknown:
        raise SpaceError(f"--space {path}: [{name}] {', '.join(unknown)}: expected values, low, high, log")
    values = section.get("values", [])
    if not isinstance(values, list) or not all(_number(v) for v in values):
        raise SpaceError(f"--space {path}: [{name}] values must be a list of numbers, got {values!r}")
    for key in ("low", "high"):
        if key in section and not _number(section[key]):
            raise SpaceError(f"--space {path}: [{name}] {key} must be a number, got {section[key]!r}")
    given = [*values, *(section[key] for key in ("low", "high") if key in section)]
    if not all(math.isfinite(v) for v in given):  # inf or nan (TOML's inf/nan, JSON's Infinity/NaN, 1e999)
        raise SpaceError(f"--space {path}: [{name}] values, low and high must be finite numbers, got {section!r}")
    if "log" in section and not isinstance(section["log"], bool):
        raise SpaceError(f"--space {path}: [{name}] log must be true or false, got {section['log']!r}")
    return section


def load_space(path: str | Path | None = None, strategy: str = "greedy") -> SearchSpace:
    """The default space, with the overrides from a TOML or JSON file if given, checked for the strategy.

    Raises SpaceError naming the file and the section for anything that cannot be searched.
    """
    space = SearchSpace()
    if path is None:
        return space
    path = Path(path)
    kind = "JSON" if path.suffix == ".json" else "TOML"
    try:
        text = path.read_text(encoding="utf-8")
        if kind == "JSON":
            overrides = json.loads(text)
        else:
            import tomllib

            overrides = tomllib.loads(text)
    except FileNotFoundError:
        raise SpaceError(f"--space {path}: file not found") from None
    except IsADirectoryError:
        raise SpaceError(f"--space {path}: is a folder; give a TOML or JSON file") from None
    except OSError as err:
        raise SpaceError(f"--space {path}: cannot read it ({err.strerror or err})") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise SpaceError(f"--space {path}: not valid {kind} ({err})") from None
    if not isinstance(overrides, dict):
        raise SpaceError(f"--space {path}: expected a table of sections, got {type(overrides).__name__}")
    tunable = (*TUNED, *OPTIONAL_PARAMS)
    unknown = sorted(set(overrides) - set(tunable) - {"fixed"})
    if unknown:
        raise SpaceError(f"--space {path}: unknown sections {', '.join(unknown)}; expected {', '.join(tunable)}, fixed")
    for name, section in overrides.items():
        if name == "fixed":
            if not isinstance(section, dict):
                raise SpaceError(f"--space {path}: fixed must be a table ([fixed] with name = value lines)")
            not_settings = sorted(set(section) - set(NAMES))
            if not_settings:
                raise SpaceError(
                    f"--space {path}: [fixed] {', '.join(not_settings)} are not train.py settings; "
                    f"those are {', '.join(NAMES)}"
                )
            space.fixed.update(section)
            continue
        section = _read_section(path, name, section)
        base = space.params.get(name) or OPTIONAL_PARAMS[name]
        values, log = tuple(section.get("values", base.values)), section.get("log", base.log)
        low, high = base.low, base.high
        if "values" in section and values:  # the range follows new values unless given too
            positive = [v for v in values if v > 0]
            low, high = (min(positive) if log and positive else min(values)), max(values)
        low, high = section.get("low", low), section.get("high", high)
        try:
            param = Param(name, values, low, high, base.integer, log)
            space.params[name] = _check(param, strategy, range_given="low" in section or "high" in section)
        except SpaceError as err:
            raise SpaceError(f"--space {path}: {err}") from None
    tuned_and_fixed = sorted(set(overrides.get("fixed", {})) & set(space.params))
    if tuned_and_fixed:
        name = tuned_and_fixed[0]
        raise SpaceError(
            f"--space {path}: {', '.join(tuned_and_fixed)} is both tuned and [fixed]; to fix it, give it one "
            f"value where it is tuned: [{name}] values = [{overrides['fixed'][name]!r}]"
        )
    return space
