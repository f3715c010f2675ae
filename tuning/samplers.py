"""Optuna samplers that draw each trial from its own seed: (--seed, trial number).

Optuna's seeded samplers draw from one generator per sampler object. Every worker process,
every machine and every resumed run makes a fresh sampler with the same --seed, so each would
draw the same sequence again: `--jobs 2` gave trials 0 = 1 and 2 = 3. Trial numbers are unique
within a study (the storage hands them out), so seeding each trial's draws from
(--seed, trial.number) makes every trial different across workers, processes and resumes, and
trial k of a single-process study the same on every run with the same --seed.
"""

from __future__ import annotations

import numpy as np
import optuna


def trial_seed(seed: int, number: int) -> int:
    """The seed of trial ``number``'s draws in a study run with --seed ``seed`` (a 32-bit integer)."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


class _SeededPerTrial:
    """Reseed the sampler's generators from (seed, trial number) as each trial starts."""

    def __init__(self, seed: int):
        super().__init__(seed=seed)
        self._study_seed = seed

    def before_trial(self, study, trial) -> None:
        for rng in self._generators():
            rng.seed(trial_seed(self._study_seed, trial.number))
        super().before_trial(study, trial)


class PerTrialRandomSampler(_SeededPerTrial, optuna.samplers.RandomSampler):
    """RandomSampler whose draws for trial n depend only on (seed, n)."""

    def _generators(self):
        return [self._rng.rng]  # optuna keeps its numpy RandomState here (checked by a test)


class PerTrialTPESampler(_SeededPerTrial, optuna.samplers.TPESampler):
    """TPESampler whose draws for trial n depend only on (seed, n) and the trials finished before it."""

    def _generators(self):
        return [self._rng.rng, self._random_sampler._rng.rng]  # its own and its start-up random sampler's
