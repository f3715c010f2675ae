"""Stream a run to TensorBoard (train.py --tensorboard): loss and learning rate per update, accuracies per
check, and the first-layer weights as a picture. Needs the optional ``tensorboard`` package."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from common.plots import visualize_grid


class TensorBoardLogger:
    """Solver hooks writing event files to ``logdir`` (view them with ``tensorboard --logdir LOGDIR``)."""

    def __init__(self, logdir: str | Path, params_of):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ImportError(
                "--tensorboard needs the tensorboard package: pip install tensorboard "
                "(or pip install -e '.[tensorboard]')"
            ) from None
        self.open = lambda first_step: SummaryWriter(str(logdir), purge_step=first_step)
        self.writer = None  # opened at the first update: a resumed run's events from that step on replace the old
        self.params_of = params_of  # model -> lab-layout params, for the weight picture

    def on_iteration(self, solver) -> None:
        if self.writer is None:
            self.writer = self.open(solver.iteration)
        self.writer.add_scalar("train/loss", solver.loss_history[-1], solver.iteration)
        self.writer.add_scalar("train/learning_rate", solver.lr_history[-1], solver.iteration)

    def on_epoch(self, solver) -> None:
        if self.writer is None:
            self.writer = self.open(solver.iteration)
        self.writer.add_scalar("accuracy/train", solver.train_acc_history[-1], solver.iteration)
        self.writer.add_scalar("accuracy/val", solver.val_acc_history[-1], solver.iteration)
        W1 = np.asarray(self.params_of(solver.model)["W1"])
        if W1.shape[0] == 3 * 32 * 32:
            tiles = W1[:, :100].T.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
            picture = visualize_grid(tiles, ubound=1.0, padding=2)
            self.writer.add_image("weights/W1", picture, solver.iteration, dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
