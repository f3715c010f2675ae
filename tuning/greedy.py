"""The lab's greedy (coordinate) search: tune one hyperparameter at a time, keep the best, move on.

Start from the lab's first row. For each hyperparameter in turn, try every candidate value
with the others held at the current best, and adopt the candidate with the highest
validation accuracy if it beats the current best (ties keep the current value). Repeat
whole passes until one improves nothing. Evaluations are cached by configuration, so a
configuration is never trained twice, and a search re-run over the same finished trials
replays the same path: that is how an interrupted search resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Config = dict
Evaluate = Callable[[list[Config]], list[float | None]]  # a batch of configs -> val acc each (None: no result)


def config_key(config: Config) -> tuple:
    return tuple(sorted(config.items()))


@dataclass
class GreedyResult:
    best: Config
    best_value: float
    passes: int
    path: list[tuple[str, Config, float]] = field(default_factory=list)  # (step, adopted config, value)
    evaluated: int = 0
    exhausted_budget: bool = False


def greedy_search(
    start: Config,
    candidates: dict[str, Sequence],
    evaluate: Evaluate,
    order: Sequence[str],
    cache: dict[tuple, float] | None = None,
    max_passes: int = 3,
    max_new: int | None = None,
) -> GreedyResult:
    """Coordinate search from ``start`` over ``candidates`` in ``order``; see the module docstring.

    ``evaluate`` receives each sweep's configurations not yet in ``cache`` (so they can run in
    parallel) and returns their validation accuracies; ``max_new`` caps how many it may be asked for.
    """
    cache = {} if cache is None else cache
    result = GreedyResult(best=dict(start), best_value=float("-inf"), passes=0)

    def values_of(configs: list[Config]) -> list[float | None]:
        todo = [c for c in configs if config_key(c) not in cache]
        todo = list({config_key(c): c for c in todo}.values())
        if max_new is not None and result.evaluated + len(todo) > max_new:
            todo = todo[: max(0, max_new - result.evaluated)]
            result.exhausted_budget = True
        for config, value in zip(todo, evaluate(todo) if todo else []):
            cache[config_key(config)] = value
        result.evaluated += len(todo)
        return [cache.get(config_key(c)) for c in configs]

    (start_value,) = values_of([result.best])
    result.best_value = start_value if start_value is not None else float("-inf")
    result.path.append(("start", dict(result.best), result.best_value))
    while result.passes < max_passes and not result.exhausted_budget:
        result.passes += 1
        improved = False
        for name in order:
            sweep = [{**result.best, name: value} for value in candidates[name]]
            for config, value in zip(sweep, values_of(sweep)):
                if value is not None and value > result.best_value:  # strictly better: ties keep the current
                    result.best, result.best_value, improved = config, value, True
            result.path.append((f"pass {result.passes}: {name}", dict(result.best), result.best_value))
            if result.exhausted_budget:
                break
        if not improved:
            break
    return result
