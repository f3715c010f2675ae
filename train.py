#!/usr/bin/env python
"""Train the two-layer net on CIFAR-10 with either implementation, and save everything about the run.

    python train.py --impl numpy                 # the defaults: >= 52% on the full test set in under a minute
    python train.py --impl torch --num-train 5000 --num-epochs 3
    python train.py --recipe best                # v4: v3 for 150 epochs: 69.1% test (70.2% with flip TTA)
    python train.py --recipe v3                  # AdamW (lr 1e-3, weight decay 0.05), 195 epochs: 69.6% test
                                                 # (70.8% with flip TTA)
    python train.py --recipe v2                  # ZCA, top-512 projection, H=8192, Nesterov, 210 epochs: 69.7%
    python train.py --recipe v1                  # the first recipe: no projection, H=4096, 80 epochs: 66.6%
    python train.py --eval runs/numpy-20261130-120000 [--impl torch] [--tta]
    python train.py --resume runs/numpy-20261130-120000   # continue a killed or interrupted run
    python train.py --impl my-lab/lab --num-epochs 5      # your own lab (python -m exercises make my-lab), solved

A run folder (--out, default runs/<impl>-<timestamp>; an existing one only with --overwrite, and
never one that another live run has claimed)
receives config.json, history.csv, metrics.json (status: running, completed, interrupted or
failed), model.npz and the plots loss.png, accuracy.png, weights.png and confusion.png
(experiment/runs.py). Ctrl-C and SIGTERM keep the best model so far; so does a kill -9. Until
the run completes, RUN_DIR/checkpoint/ holds the Solver's newest checkpoint, and --resume RUN_DIR
continues from it with the run's own settings, to exactly the numbers of an uninterrupted run.

--impl FOLDER trains a student's own lab (a kit's lab/, or the kit folder itself): its fc_net.TwoLayerNet,
its optim and its solver.Solver, imported and run in this process (experiment/student.py), with the lab's
settings only; config.json records the folder's absolute path, which --resume uses.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from common.cifar10 import CIFAR10NotFoundError
from common.config import NAMES, NUM_TEST, NUM_VALIDATION, OneLineParser, add_arguments, config_from_args, flag
from common.lab_folder import is_student_impl
from common.plots import LANGS
from common.runtime import check_memory, retain_freed_memory
from common.signals import exit_code, raising
from experiment.models import check_device, training_memory
from experiment.runs import (
    claim_folder,
    claim_out,
    default_out,
    evaluate,
    library_versions,
    load_splits,
    release_claim,
    resume_point,
    train_run,
)
from experiment.student import StudentCodeError, load_lab


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        description="Train (or --eval) the two-layer net on CIFAR-10 with the NumPy or the PyTorch implementation, "
        "or with your own lab: --impl FOLDER (e.g. my-lab/lab) imports and runs the folder's code in this process, "
        "as your own code on your own machine; only the lab's settings apply to it."
    )
    add_arguments(parser)
    run = parser.add_argument_group("the run")
    run.add_argument(
        "--data-dir",
        default=None,
        help="CIFAR-10 folder or archive (default: $CIFAR10_DIR, else the cache, else download)",
    )
    run.add_argument("--out", default=None, help="run folder, new or empty (default: runs/<impl>-<timestamp>)")
    run.add_argument(
        "--overwrite", action="store_true", help="let --out be a previous run's folder: its files are replaced"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bars or per-epoch lines")
    run.add_argument("--lang", choices=LANGS, default="en", help="language of the plots' labels (default: en)")
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
    run.add_argument(
        "--resume",
        metavar="RUN_DIR",
        default=None,
        help="continue a killed or interrupted run from its newest checkpoint, with its own settings, in its folder",
    )
    return parser


def resume_conflicts(args) -> list[str]:
    """The flags given beside --resume that would change the run's settings or its folder."""
    given = [flag(name) for name in NAMES if hasattr(args, name)]
    given += [f"--{name}" for name in ("recipe", "out", "eval") if getattr(args, name) is not None]
    return given + (["--overwrite"] if args.overwrite else [])


def error(message: str, code: int = 2) -> int:
    print(f"train.py: error: {message}", file=sys.stderr, flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    retain_freed_memory()  # both implementations allocate the same big arrays every step: reuse, don't refault
    args = build_parser().parse_args(argv)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    if args.resume is not None and resume_conflicts(args):
        return error(
            f"--resume continues a run with the settings in its config.json and writes to its folder; "
            f"it takes no {', '.join(resume_conflicts(args))}"
        )
    resume = record = claim = None
    try:
        try:
            with raising():  # SIGTERM while loading stops as Ctrl-C does
                if args.resume is not None:
                    out = Path(args.resume)
                    if out.is_dir():  # claimed first: two --resume of one run never both continue it
                        claim = claim_folder(out, "--resume")
                    config, record, resume = resume_point(out)  # before the data: a bad folder fails in a second
                    created = False
                else:
                    config = config_from_args(args)
                check_device(config)
                if is_student_impl(config.impl):  # the student's files import before anything is written
                    load_lab(config.impl)
                if args.eval is not None:
                    print(evaluate(args.eval, config.impl, config.device, args.data_dir, config.tta))
                    return 0
                check_memory(training_memory(config), f"training with --hidden-size {config.hidden_size}")
                if resume is None:
                    out = Path(args.out) if args.out else default_out(config.impl)
                    created, claim = claim_out(out, args.overwrite)  # before the data: a bad --out fails in a second
                try:
                    started = time.perf_counter()
                    data = load_splits(config, args.data_dir)
                    data_seconds = time.perf_counter() - started
                except BaseException:
                    release_claim(claim)
                    claim = None
                    if created and not any(out.iterdir()):
                        out.rmdir()
                    raise
                recorded_md5 = (record or {}).get("data", {}).get("md5")
                if resume is not None and recorded_md5 and recorded_md5 != data["source"].get("md5"):
                    raise ValueError(
                        f"--resume {out}: the CIFAR-10 read from {data['source'].get('path')} is not the copy the "
                        "run trained on (their md5s differ); give the run's with --data-dir"
                    )
        except (CIFAR10NotFoundError, ValueError) as err:  # ConfigError, unreadable files and data, --out, memory
            eval_error = args.eval is not None and "CIFAR-10" not in str(err)
            return error(f"--eval: {err}" if eval_error else str(err))
        except StudentCodeError as err:  # the student's own code raised: one line naming file:line
            return error(f"your lab: {err}", 1)
        except KeyboardInterrupt as interrupt:
            doing = "evaluating" if args.eval is not None else "loading CIFAR-10; nothing was written"
            return error(f"interrupted while {doing}", exit_code(interrupt))
        with raising():  # from the data to the training, SIGTERM stops as Ctrl-C does: one line, the claim freed
            say(
                f"loaded CIFAR-10 in {data_seconds:.1f}s: {config.num_train} train, {NUM_VALIDATION} val, "
                f"{NUM_TEST} test images ({config.dtype}, preprocessing {config.preprocessing})"
            )
            if resume is None:
                record = {
                    **config.to_dict(),
                    "recipe": args.recipe,
                    "data": data["source"],
                    "num_validation": NUM_VALIDATION,
                    "num_test": NUM_TEST,
                    "command": sys.argv,
                    "versions": library_versions(),
                }
            if is_student_impl(config.impl):
                say(f"your lab: {config.impl} (its own code, run in this process)")
            say(f"run folder: {out}" + (f" (resuming from {resume.name})" if resume else ""))
            return train_run(config, data, out, record, args.quiet, args.tensorboard, data_seconds, args.lang, resume)
    except KeyboardInterrupt as interrupt:  # Ctrl-C or SIGTERM between loading and training: nothing was trained
        return error("interrupted before training began; nothing was written", exit_code(interrupt))
    finally:
        release_claim(claim)  # the folder is free again, however the run ended (not after a kill -9: taken over)


if __name__ == "__main__":
    sys.exit(main())
