"""Training batches for torch: a DataLoader over the shared batch stream, augmented with torch ops.

common.batches.BatchStream draws, per step, which rows to train on and each image's flip and
crop offset. Here a Sampler hands those draws to a Dataset that gathers the rows and applies
them with torch indexing; the DataLoader (batch_size=None: each draw is a whole batch) yields
(X, y) tensors. It draws lazily, one batch per ``next``, so the stream's state is always that
of the batches trained on.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from common.batches import Batch, BatchStream


def flip_and_shift(
    images: torch.Tensor,
    flips: torch.Tensor,
    shifts: torch.Tensor,
    padding: int,
    rows: torch.Tensor | None = None,
    scratch: torch.Tensor | None = None,
) -> torch.Tensor:
    """images (N, C, H, W), or with rows (B,) the batch images[rows]: each mirrored left-right where flips (B,) is set,
    then cropped from its zero-padded copy at offset shifts (B, 2) in [-padding, padding]:
    out[i, :, r, c] = flipped[i, :, r + dy, c + dx], 0 outside.

    One gather from the padded images: the mirror only changes which column each output pixel reads,
    flipped[:, r, c'] = image[:, r, W - 1 - c'], and the columns it reads outside the image land in the padding.
    The rows are gathered straight into the interior of the padded copy: ``scratch``, a (B, C, H + 2 padding,
    W + 2 padding) tensor whose border is 0, is reused as it (its border stays 0), or a new one is made.
    """
    if padding == 0 and not flips.any():
        return images if rows is None else images[rows]
    n, (channels, height, width) = len(images if rows is None else rows), images.shape[1:]
    padded_height, padded_width = height + 2 * padding, width + 2 * padding
    padded = images.new_zeros(n, channels, padded_height, padded_width) if scratch is None else scratch
    interior = padded[:, :, padding : padding + height, padding : padding + width]
    if rows is None:
        interior.copy_(images)
    else:
        torch.index_select(images, 0, rows, out=interior)
    columns = shifts[:, 1:] + torch.arange(width)  # (B, W): the column of the flipped image each output column reads
    columns = torch.where(flips.view(n, 1), width - 1 - columns, columns) + padding
    index_rows = shifts[:, :1] + padding + torch.arange(height)  # (B, H)
    index = (index_rows[:, :, None] * padded_width + columns[:, None, :]).view(n, 1, height * width)  # flat padded
    flat = padded.view(n, channels, padded_height * padded_width)
    return flat.gather(2, index.expand(n, channels, -1)).view(n, channels, height, width)


class StreamSampler(Sampler):
    """An endless sampler whose every item is the next Batch of the stream."""

    def __init__(self, stream: BatchStream):
        self.stream = stream

    def __iter__(self) -> Iterator[Batch]:
        while True:
            yield self.stream.next_batch()


class AugmentedImages(Dataset):
    """Images X (N, ...) and labels y (N,); the item for a Batch is its rows, flipped and cropped as drawn, and
    their labels."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor, padding: int = 0):
        self.X, self.y, self.padding = X, y, padding
        self.padded: torch.Tensor | None = None  # the batch's padded copy, kept: its border of zeros is written once

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        indices = torch.from_numpy(batch.indices)
        if batch.flips is None:
            return self.X[indices], self.y[indices]
        shape = (len(indices), *self.X.shape[1:-2], *(side + 2 * self.padding for side in self.X.shape[-2:]))
        if self.padded is None or self.padded.shape != shape:
            self.padded = self.X.new_zeros(shape)
        flips, shifts = torch.from_numpy(batch.flips), torch.from_numpy(batch.shifts)
        return flip_and_shift(self.X, flips, shifts, self.padding, rows=indices, scratch=self.padded), self.y[indices]


def batch_loader(X: torch.Tensor, y: torch.Tensor, stream: BatchStream) -> DataLoader:
    """A DataLoader yielding (X (B, ...), y (B,)) for each batch the stream draws, forever."""
    return DataLoader(
        AugmentedImages(X, y, stream.augmentation.padding), sampler=StreamSampler(stream), batch_size=None
    )
