"""What a training run prints: a tqdm bar per epoch with the running loss, one line per accuracy check."""

from __future__ import annotations

import sys
import time

import numpy as np


class Progress:
    """Solver hooks (on_iteration, on_epoch) for either implementation; silent when quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bar = None
        self.epoch_started = time.perf_counter()

    def on_iteration(self, solver) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=solver.iterations_per_epoch,
                desc=f"epoch {solver.epoch + 1}/{solver.num_epochs}",
                unit="it",
                leave=False,
                file=sys.stderr,
                dynamic_ncols=True,
                disable=None,
            )  # no bars when stderr is not a terminal
        self.bar.update(1)
        if solver.iteration % 10 == 1:
            running = float(np.mean(solver.loss_history[solver.epoch * solver.iterations_per_epoch :]))
            self.bar.set_postfix(loss=f"{running:.4f}", refresh=False)

    def on_epoch(self, solver) -> None:
        """After each accuracy check: after the first update (epoch 0, 'start') and after each epoch."""
        epoch_end = solver.epoch > 0
        seconds = time.perf_counter() - self.epoch_started
        if epoch_end:
            self.epoch_started = time.perf_counter()
        if self.quiet:
            return
        if self.bar is not None and epoch_end:
            self.bar.close()
            self.bar = None
        first = (solver.epoch - 1) * solver.iterations_per_epoch if epoch_end else 0
        loss = float(np.mean(solver.loss_history[first : solver.iteration]))
        label = f"epoch {solver.epoch:>3}/{solver.num_epochs}" if epoch_end else "start      "
        line = (
            f"{label}  loss {loss:.4f}  train acc {solver.train_acc_history[-1]:.3f}  "
            f"val acc {solver.val_acc_history[-1]:.3f}  lr {solver.lr_history[-1]:.3g}"
            + (f"  {seconds:.1f}s" if epoch_end else "")
        )
        if self.bar is not None:
            self.bar.clear()
        print(line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
