"""The one seeded batch stream both implementations train on: which images, and how each is augmented.

For every training step it yields a ``Batch``: the minibatch's row indices into X_train and,
when augmentation is on, the draws for each image (flip or not, crop offset), as plain
arrays. Each implementation gathers the rows and applies the draws with its own operations
(NumPy slicing in numpy_impl, torch indexing in torch_impl), so the same seed feeds both the
same augmented images while none of their training code is shared. It also draws the random
subsets on which accuracy is estimated, from the same generator, in call order, as the lab's
Solver does with ``np.random.choice``.

Three generators: ``sampling`` (seed stream 0) draws minibatch indices and accuracy subsets,
``augmenting`` (seed stream 2) draws flips and crops, and ``mixing`` (seed stream 4) draws MixUp or
CutMix, so turning one on changes none of the other draws. With seed=None all three are NumPy's
global generator, as in the lab.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from common.rng import make_rng

MIXES = ("none", "mixup", "cutmix")


@dataclass(frozen=True)
class Augmentation:
    """Random horizontal flips (p = 1/2), random crops from ``padding`` zero pixels on each side, and ``mix``:
    "mixup" blends each image with another of its batch, "cutmix" pastes a box of the other into it (the
    mixing weight drawn from Beta(mix_alpha, mix_alpha); the loss mixes the two labels alike)."""

    flip: bool = False
    padding: int = 0
    mix: str = "none"
    mix_alpha: float = 1.0

    def __post_init__(self):
        if not isinstance(self.flip, (bool, np.bool_)):
            raise ValueError(f"augment flip must be True or False; got {self.flip!r}")
        if isinstance(self.padding, bool) or not isinstance(self.padding, (int, np.integer)) or self.padding < 0:
            raise ValueError(f"augment padding must be an integer >= 0; got {self.padding!r}")
        if self.mix not in MIXES:
            raise ValueError(f"augment mix must be one of {', '.join(MIXES)}; got {self.mix!r}")
        alpha = self.mix_alpha
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not (math.isfinite(alpha) and alpha > 0):
            raise ValueError(f"augment mix_alpha must be a number > 0 (Beta(alpha, alpha)); got {alpha!r}")

    @property
    def active(self) -> bool:
        return bool(self.flip or self.padding or self.mixing)

    @property
    def mixing(self) -> bool:
        return self.mix != "none"

    def to_dict(self) -> dict | None:
        """The Solvers' ``augment`` argument for this augmentation: None when it is off."""
        if not self.active:
            return None
        mixing = {"mix": self.mix, "mix_alpha": float(self.mix_alpha)} if self.mixing else {}
        return {"flip": bool(self.flip), "padding": int(self.padding), **mixing}

    @classmethod
    def from_dict(cls, augment: dict | None) -> Augmentation:
        """None or {"flip": bool, "padding": int, optional "mix": str, "mix_alpha": float} -> an Augmentation."""
        if augment is None:
            return cls()
        unknown = sorted(set(augment) - {"flip", "padding", "mix", "mix_alpha"})
        if unknown:
            raise ValueError(f"augment takes the keys flip, padding, mix and mix_alpha; got {', '.join(unknown)}")
        return cls(
            bool(augment.get("flip", False)),
            augment.get("padding", 0),
            augment.get("mix", "none"),
            augment.get("mix_alpha", 1.0),
        )


@dataclass(frozen=True)
class Batch:
    """One step's draws: indices (B,) rows of X_train; flips (B,) bool and shifts (B, 2) ints, or None.

    A shift (dy, dx) in [-padding, padding] places the crop's top-left corner (dy, dx) pixels from
    the image's own: out[:, r, c] = flipped[:, r + dy, c + dx], and 0 (the training mean, after
    preprocessing) where that falls outside the image.

    With mixing, after the flips and crops: image i takes in image partners[i] of the batch (partners (B,) a
    permutation), with ``mix_weight`` lam the weight of its own label, 1 - lam that of its partner's.
    MixUp: x_i = lam x_i + (1 - lam) x_partner. CutMix: rows box[0]:box[1] and columns box[2]:box[3] of x_i
    come from x_partner, and lam = 1 - (the box's area) / (the image's area).
    """

    indices: np.ndarray
    flips: np.ndarray | None = None
    shifts: np.ndarray | None = None
    partners: np.ndarray | None = None
    mix_weight: float = 1.0
    box: tuple[int, int, int, int] | None = None


def draw_augmentation(n: int, rng, flip: bool = True, padding: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random choices for n images: flips (n,) bool and shifts (n, 2) ints in [-padding, padding] (rows, cols)."""
    flips = rng.random(n) < 0.5 if flip else np.zeros(n, dtype=bool)
    shifts = rng.integers(-padding, padding + 1, size=(n, 2)) if padding else np.zeros((n, 2), dtype=np.int64)
    return flips, shifts


def draw_mixing(n: int, rng, alpha: float, image_size: tuple[int, int] | None = None):
    """Partners (n,) (a permutation), the weight lam ~ Beta(alpha, alpha), and for CutMix (image_size (H, W)
    given) the box (top, bottom, left, right) that covers about 1 - lam of the image, centred at a random
    pixel and clipped to the image, with lam recomputed from the box as clipped (Yun et al., 2019)."""
    partners = rng.permutation(n)
    lam = float(rng.beta(alpha, alpha))
    if image_size is None:
        return partners, lam, None
    height, width = image_size
    half_side = 0.5 * math.sqrt(1.0 - lam)  # half the box's side, as a fraction of the image's
    cy, cx = int(rng.integers(height)), int(rng.integers(width))
    half_h, half_w = int(half_side * height), int(half_side * width)
    box = (max(cy - half_h, 0), min(cy + half_h, height), max(cx - half_w, 0), min(cx + half_w, width))
    lam = 1.0 - (box[1] - box[0]) * (box[3] - box[2]) / (height * width)
    return partners, lam, box


class BatchStream:
    """Seeded draws for training: ``next_batch()`` for every step, ``subsample()`` for every accuracy estimate."""

    def __init__(
        self,
        num_train: int,
        batch_size: int,
        seed: int | None = None,
        augmentation: Augmentation | None = None,
        image_size: tuple[int, int] | None = None,
    ):
        for name, value in (("num_train", num_train), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"BatchStream: {name} must be a positive integer; got {value!r}")
        self.num_train, self.batch_size = int(num_train), int(batch_size)
        self.augmentation = augmentation or Augmentation()
        if self.augmentation.mix == "cutmix" and image_size is None:
            raise ValueError("BatchStream: cutmix needs image_size (H, W) to place its boxes")
        self.image_size = tuple(image_size) if self.augmentation.mix == "cutmix" else None
        self.sampling = make_rng(seed)
        self.augmenting = make_rng(seed, stream=2)
        self.mixing = make_rng(seed, stream=4)

    def next_batch(self) -> Batch:
        """batch_size indices drawn with replacement (the lab's ``np.random.choice``), and their augmentation."""
        indices = self.sampling.choice(self.num_train, self.batch_size)
        if not self.augmentation.active:
            return Batch(indices)
        flips, shifts = draw_augmentation(
            self.batch_size, self.augmenting, self.augmentation.flip, self.augmentation.padding
        )
        if not self.augmentation.mixing:
            return Batch(indices, flips, shifts)
        partners, lam, box = draw_mixing(self.batch_size, self.mixing, self.augmentation.mix_alpha, self.image_size)
        return Batch(indices, flips, shifts, partners, lam, box)

    def subsample(self, n: int, num_samples: int | None) -> np.ndarray | None:
        """Rows of an n-row set to estimate accuracy on: num_samples drawn with replacement, or None for all."""
        if num_samples is None or n <= num_samples:
            return None
        return self.sampling.choice(n, num_samples)
