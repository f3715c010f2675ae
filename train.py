#!/usr/bin/env python
"""Train the two-layer net on CIFAR-10 with either implementation, and save everything about the run.

    python train.py --impl numpy                 # the defaults: >= 52% on the full test set in under a minute
    python train.py --impl torch --num-train 5000 --num-epochs 3
    python train.py --recipe best                # ZCA, flips + crops, H=4096, Nesterov + cosine: >= 66% test
    python train.py --eval runs/numpy-20261130-120000 [--impl torch] [--tta]

A run folder (--out, default runs/<impl>-<timestamp>) receives config.json, history.csv,
metrics.json (status: running, completed, interrupted or failed), model.npz and the plots
loss.png, accuracy.png, weights.png and confusion.png (experiment/runs.py).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from common.cifar10 import CIFAR10NotFoundError
from common.config import NUM_TEST, NUM_VALIDATION, OneLineParser, add_arguments, config_from_args
from common.runtime import retain_freed_memory
from experiment.models import check_device
from experiment.runs import default_out, evaluate, library_versions, load_splits, train_run


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        description="Train (or --eval) the two-layer net on CIFAR-10 with the NumPy or the PyTorch implementation."
    )
    add_arguments(parser)
    run = parser.add_argument_group("the run")
    run.add_argument(
        "--data-dir",
        default=None,
        help="CIFAR-10 folder or archive (default: $CIFAR10_DIR, else the cache, else download)",
    )
    run.add_argument("--out", default=None, help="run folder (default: runs/<impl>-<timestamp>)")
    run.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    run.add_argument(
        "--tensorboard",
        action="store_true",
        help="also stream loss, learning rate, accuracies and weights to OUT/tensorboard "
        "(needs: pip install tensorboard)",
    )
    run.add_argument(
        "--eval",
        metavar="RUN_DIR_OR_MODEL_NPZ",
        default=None,
        help="evaluate a saved model on validation and test instead of training",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    retain_freed_memory()  # both implementations allocate the same big arrays every step: reuse, don't refault
    args = build_parser().parse_args(argv)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    try:
        config = config_from_args(args)
        check_device(config)
        if args.eval is not None:
            print(evaluate(args.eval, config.impl, config.device, args.data_dir, config.tta))
            return 0
        started = time.perf_counter()
        data = load_splits(config, args.data_dir)
        data_seconds = time.perf_counter() - started
    except (CIFAR10NotFoundError, ValueError) as err:  # ConfigError, unreadable files and data
        message = f"--eval: {err}" if args.eval is not None and "CIFAR-10" not in str(err) else str(err)
        print(f"train.py: error: {message}", file=sys.stderr)
        return 2
    say(
        f"loaded CIFAR-10 in {data_seconds:.1f}s: {config.num_train} train, {NUM_VALIDATION} val, {NUM_TEST} test "
        f"images ({config.dtype}, preprocessing {config.preprocessing})"
    )
    out = Path(args.out) if args.out else default_out(config.impl)
    record = {
        **config.to_dict(),
        "recipe": args.recipe,
        "data_dir": args.data_dir or os.environ.get("CIFAR10_DIR") or "(cache)",
        "num_validation": NUM_VALIDATION,
        "num_test": NUM_TEST,
        "command": sys.argv,
        "versions": library_versions(),
    }
    say(f"run folder: {out}")
    return train_run(config, data, out, record, args.quiet, args.tensorboard, data_seconds)


if __name__ == "__main__":
    sys.exit(main())
