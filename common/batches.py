"""The one seeded batch stream both implementations train on: which images, and how each is augmented.

For every training step it yields a ``Batch``: the minibatch's row indices into X_train and,
when augmentation is on, the draws for each image (flip or not, crop offset), as plain
arrays. Each implementation gathers the rows and applies the draws with its own operations
(NumPy slicing in numpy_recipe, torch indexing in torch_impl), so the same seed feeds both the
same augmented images while none of their training code is shared. It also draws the random
subsets on which accuracy is estimated, from the same generator, in call order, as the lab's
Solver does with ``np.random.choice``.

Two generators: ``sampling`` (seed stream 0) draws minibatch indices and accuracy subsets, and
``augmenting`` (seed stream 2) draws flips and crops, so turning augmentation on changes none of
the minibatches. With seed=None both are NumPy's global generator, as in the lab.
``state_dict()`` / ``load_state_dict()`` save and restore them, so a resumed run draws what an
uninterrupted one would have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common.rng import make_rng

AUGMENT_KEYS = ("flip", "padding")


@dataclass(frozen=True)
class Augmentation:
    """Random horizontal flips (p = 1/2) and random crops from ``padding`` zero pixels on each side."""

    flip: bool = False
    padding: int = 0

    def __post_init__(self):
        if not isinstance(self.flip, (bool, np.bool_)):
            raise ValueError(f"augment flip must be True or False; got {self.flip!r}")
        if isinstance(self.padding, bool) or not isinstance(self.padding, (int, np.integer)) or self.padding < 0:
            raise ValueError(f"augment padding must be an integer >= 0; got {self.padding!r}")

    @property
    def active(self) -> bool:
        return bool(self.flip or self.padding)

    def to_dict(self) -> dict | None:
        """The Solvers' ``augment`` argument for this augmentation: None when it is off."""
        if not self.active:
            return None
        return {"flip": bool(self.flip), "padding": int(self.padding)}

    @classmethod
    def from_dict(cls, augment: dict | None) -> Augmentation:
        """None or {"flip": bool, "padding": int} -> an Augmentation."""
        if augment is None:
            return cls()
        if not isinstance(augment, dict):
            raise ValueError(f"augment must be None or a dict with keys flip, padding; got {augment!r}")
        unknown = sorted(set(augment) - set(AUGMENT_KEYS))
        if unknown:
            raise ValueError(
                f"augment takes only the keys {', '.join(AUGMENT_KEYS)} (flips and crops); "
                f"got {', '.join(map(repr, unknown))}"
            )
        return cls(bool(augment.get("flip", False)), augment.get("padding", 0))


@dataclass(frozen=True)
class Batch:
    """One step's draws: indices (B,) rows of X_train; flips (B,) bool and shifts (B, 2) ints, or None.

    A shift (dy, dx) in [-padding, padding] places the crop's top-left corner (dy, dx) pixels from
    the image's own: out[:, r, c] = flipped[:, r + dy, c + dx], and 0 (the training mean, after
    preprocessing) where that falls outside the image.
    """

    indices: np.ndarray
    flips: np.ndarray | None = None
    shifts: np.ndarray | None = None


def draw_augmentation(n: int, rng, flip: bool = True, padding: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random choices for n images: flips (n,) bool and shifts (n, 2) ints in [-padding, padding] (rows, cols)."""
    flips = rng.random(n) < 0.5 if flip else np.zeros(n, dtype=bool)
    integers = rng.randint if isinstance(rng, np.random.RandomState) else rng.integers  # seed=None: the lab's global
    shifts = integers(-padding, padding + 1, size=(n, 2)) if padding else np.zeros((n, 2), dtype=np.int64)
    return flips, shifts


class BatchStream:
    """Seeded draws for training: ``next_batch()`` for every step, ``subsample()`` for every accuracy estimate."""

    def __init__(
        self,
        num_train: int,
        batch_size: int,
        seed: int | None = None,
        augmentation: Augmentation | None = None,
    ):
        self.num_train, self.batch_size, self.seed = int(num_train), int(batch_size), seed
        self.augmentation = augmentation or Augmentation()
        self.sampling = make_rng(seed)
        self.augmenting = make_rng(seed, stream=2)

    def next_batch(self) -> Batch:
        """batch_size indices drawn with replacement (the lab's ``np.random.choice``), and their augmentation."""
        indices = self.sampling.choice(self.num_train, self.batch_size)
        if not self.augmentation.active:
            return Batch(indices)
        flips, shifts = draw_augmentation(
            self.batch_size, self.augmenting, self.augmentation.flip, self.augmentation.padding
        )
        return Batch(indices, flips, shifts)

    def subsample(self, n: int, num_samples: int | None) -> np.ndarray | None:
        """Rows of an n-row set to estimate accuracy on: num_samples drawn with replacement, or None for all."""
        if num_samples is None or n <= num_samples:
            return None
        return self.sampling.choice(n, num_samples)

    def state_dict(self) -> dict:
        """The generators' states as plain JSON values; ``load_state_dict`` of it continues the same draws.

        With seed=None the one state is NumPy's global generator's (``np.random.get_state(legacy=False)``).
        """
        if self.seed is None:
            state = np.random.get_state(legacy=False)
            return {"global": {**state, "state": {"key": state["state"]["key"].tolist(), "pos": state["state"]["pos"]}}}
        return {"sampling": self.sampling.bit_generator.state, "augmenting": self.augmenting.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        """Restore the generators from a ``state_dict()`` (also after a JSON round trip)."""
        expected = ("global",) if self.seed is None else ("sampling", "augmenting")
        if not isinstance(state, dict) or tuple(sorted(state)) != tuple(sorted(expected)):
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            seeded = "NumPy's global generator (seed=None)" if self.seed is None else f"seed {self.seed}"
            raise ValueError(f"BatchStream: a state for {seeded} has the keys {', '.join(expected)}; got {got}")
        if self.seed is None:
            saved = state["global"]
            inner = {"key": np.asarray(saved["state"]["key"], dtype=np.uint32), "pos": int(saved["state"]["pos"])}
            np.random.set_state({**saved, "state": inner})
            return
        for name in expected:
            getattr(self, name).bit_generator.state = state[name]
