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
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Sampler

from common.batches import Batch, BatchStream


def flip_and_shift(images: torch.Tensor, flips: torch.Tensor, shifts: torch.Tensor, padding: int) -> torch.Tensor:
    """images (N, C, H, W): each mirrored left-right where flips (N,) is set, then cropped from its zero-padded
    copy at offset shifts (N, 2) in [-padding, padding]: out[i, :, r, c] = flipped[i, :, r + dy, c + dx], 0 outside.

    One gather from the padded images: the mirror only changes which column each output pixel reads,
    flipped[:, r, c'] = image[:, r, W - 1 - c'], and the columns it reads outside the image land in the padding.
    """
    n, channels, height, width = images.shape
    if padding == 0 and not flips.any():
        return images
    columns = shifts[:, 1:] + torch.arange(width)  # (N, W): the column of the flipped image each output column reads
    columns = torch.where(flips.view(n, 1), width - 1 - columns, columns) + padding
    rows = shifts[:, :1] + padding + torch.arange(height)  # (N, H)
    padded_width = width + 2 * padding
    index = (rows[:, :, None] * padded_width + columns[:, None, :]).view(n, 1, height * width)  # in the flat padding
    padded = F.pad(images, (padding, padding, padding, padding)).view(n, channels, -1)
    return padded.gather(2, index.expand(n, channels, -1)).view(n, channels, height, width)


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

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        indices = torch.from_numpy(batch.indices)
        X, y = self.X[indices], self.y[indices]
        if batch.flips is not None:
            X = flip_and_shift(X, torch.from_numpy(batch.flips), torch.from_numpy(batch.shifts), self.padding)
        return X, y


def batch_loader(X: torch.Tensor, y: torch.Tensor, stream: BatchStream) -> DataLoader:
    """A DataLoader yielding (X (B, ...), y (B,)) for each batch the stream draws, forever."""
    return DataLoader(
        AugmentedImages(X, y, stream.augmentation.padding), sampler=StreamSampler(stream), batch_size=None
    )
