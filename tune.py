#!/usr/bin/env python
"""Hyperparameter search for the two-layer net, on Optuna: the lab's greedy search, grid, random and TPE.

    python tune.py --strategy greedy                       # the lab's coordinate search, default budget
    python tune.py --strategy tpe --trials 30 --jobs 2 --prune median
    python tune.py --strategy random --storage postgresql+psycopg2://user:pw@host/db --study shared  # many machines
    python tune.py --impl my-lab/lab --lang ko --no-analysis   # your own lab's code (python -m exercises make)

Every strategy runs as an Optuna study stored in a database (default: SQLite in --out), so
re-running the same command resumes an interrupted search. The output folder receives
results.csv, results.md (the lab's experiment table with its analysis), plots, and
best-run/, the best configuration retrained with its seed as a train.py run.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from common.artifacts import save_json, writable_folder
from common.choices import IMPLS
from common.cifar10 import CIFAR10NotFoundError
from common.config import DEFAULTS, OneLineParser
from common.lab_folder import impl_name, is_student_impl, resolve_impl
from common.plots import LANGS
from common.signals import Interrupted, exit_code, raising
from experiment.student import StudentCodeError, load_lab
from tuning.space import TUNED, SpaceError, load_space
from tuning.study import (
    UsageError,
    Workers,
    check_out_files,
    check_same_search,
    check_space,
    fail_dead_trials,
    greedy_order,
    make_study,
    mask_password,
    retrain_best,
    run_greedy,
    run_grid,
    run_sampled,
    trial_data,
    trial_records,
    write_report,
)

STRATEGIES = ("greedy", "grid", "random", "tpe")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        "--impl",
        default=DEFAULTS.impl,
        metavar="{" + ",".join(IMPLS) + ",FOLDER}",
        help="the implementation, or your own lab's folder (e.g. my-lab/lab): its code is imported and run in "
        "this process, as your own code on your own machine, with the lab's settings only",
    )
    parser.add_argument("--strategy", choices=STRATEGIES, default="greedy")
    parser.add_argument(
        "--trials",
        type=int,
        default=None,
        help="trials the study may hold, shared by all workers on it (default: greedy until a "
        "pass improves nothing, capped at 40; grid: the whole grid; random/tpe: 20)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="trials at once, in separate processes")
    parser.add_argument("--storage", default=None, help="Optuna storage URL (default: sqlite:///OUT/study.db)")
    parser.add_argument(
        "--heartbeat",
        type=int,
        default=10,
        help="seconds between a running trial's heartbeats to a database storage; a trial silent for 6 of them "
        "is failed and retried by the other workers",
    )
    parser.add_argument("--study", default=None, help="study name (default: <impl>-<strategy>)")
    parser.add_argument("--space", default=None, help="TOML or JSON file overriding the search space")
    parser.add_argument(
        "--order",
        default=None,
        help=f"greedy: the order of the hyperparameters (default: {','.join(TUNED)}, then any "
        "optional ones the space tunes)",
    )
    parser.add_argument("--out", default=None, help="output folder (default: runs/tune-<impl>-<strategy>)")
    parser.add_argument("--lang", choices=LANGS, default="en", help="language of results.md")
    parser.add_argument(
        "--no-analysis",
        action="store_true",
        help="leave results.md's analysis column (결과 분석 및 고찰) empty, for a student to write",
    )
    parser.add_argument("--prune", choices=["none", "median", "halving"], default="none")
    parser.add_argument(
        "--num-train", type=int, default=DEFAULTS.num_train, help="training images (a subset for quick studies)"
    )
    parser.add_argument("--seed", type=int, default=0, help="initialization, minibatches and the sampler")
    parser.add_argument("--data-dir", default=None, help="CIFAR-10 folder (default: $CIFAR10_DIR or the cache)")
    parser.add_argument("--no-retrain", action="store_true", help="skip retraining the best configuration")
    return parser


# ----------------------------------------------------------------------------- main


def check_args(args: argparse.Namespace) -> None:
    if args.jobs < 1:
        raise UsageError(f"--jobs must be a positive integer, got {args.jobs}")
    if args.heartbeat < 1:
        raise UsageError(f"--heartbeat must be a positive integer, got {args.heartbeat}")
    if args.trials is not None and args.trials < 1:
        raise UsageError(f"--trials must be a positive integer, got {args.trials}")
    try:
        args.impl = resolve_impl(args.impl)  # a student's folder: the absolute path of its lab files
    except ValueError as err:
        raise UsageError(str(err)) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats, fixed parameters
    try:
        check_args(args)
        if is_student_impl(args.impl):  # the student's files import before anything is written
            load_lab(args.impl)
        space = load_space(args.space, args.strategy)
        fixed = check_space(space, args)  # every trial's settings and its memory, before anything is written
        out = Path(args.out or f"runs/tune-{impl_name(args.impl)}-{args.strategy}")
        try:
            writable_folder(out)
        except ValueError as err:
            raise UsageError(str(err)) from None
        if args.strategy == "greedy":
            greedy_order(args, space)  # refused before the study's database is created
        check_out_files(out, retrain=not args.no_retrain)
        args.storage = args.storage or f"sqlite:///{out.resolve() / 'study.db'}"
        args.study = args.study or f"{impl_name(args.impl)}-{args.strategy}"
        study = make_study(args, space)
        check_same_search(study, args, space)
        fail_dead_trials(study)  # trials left running by a killed run of this study on this host
        try:  # fail fast on missing data; forked workers share the data loaded here
            trial_data(fixed, args.data_dir)
        except (CIFAR10NotFoundError, ValueError) as err:
            raise UsageError(str(err)) from None
    except (UsageError, SpaceError) as err:
        print(f"tune.py: error: {err}", file=sys.stderr)
        return 2
    except StudentCodeError as err:
        print(f"tune.py: error: your lab: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tune.py: error: interrupted before the first trial", file=sys.stderr)
        return 130

    try:
        return search(args, space, study, out)
    except OSError as err:  # a full disk, a vanished folder: the trials themselves are safe in the study
        print(f"tune.py: error: {err}; the finished trials are kept in the study's database", file=sys.stderr)
        return 1


def search(args: argparse.Namespace, space, study, out: Path) -> int:
    """Run the study's trials, write the report and retrain the best; -> the exit code."""
    storage = mask_password(args.storage, args.storage)
    save_json(
        out / "search.json",
        {
            "strategy": args.strategy,
            "impl": args.impl,
            "study": args.study,
            "storage": storage,
            "seed": args.seed,
            "num_train": args.num_train,
            "prune": args.prune,
            "space": space.describe(),
        },
    )
    print(f"study {args.study!r} in {storage}: {args.strategy} search, {args.jobs} job(s)", flush=True)
    run = {"greedy": run_greedy, "grid": run_grid}.get(args.strategy, run_sampled)
    workers = Workers(args, space)  # Ctrl-C and SIGTERM stop each worker's trial at its next safe point
    interrupted, ended = None, False
    try:
        workers.run(run, study)
        ended = True
    except KeyboardInterrupt as interrupt:  # Ctrl-C or SIGTERM
        interrupted = interrupt
    except UsageError as err:
        print(f"tune.py: error: {err}", file=sys.stderr)
        return 2
    finally:  # on an error here, the other workers are stopped, not waited for to the search's end
        signum, failed = workers.close(stop=not ended)
    if interrupted is None and signum is not None:  # after this process's last trial, or a worker's own
        interrupted = Interrupted(signum)
    if interrupted is not None:
        print(
            "interrupted: the finished trials are stored, the interrupted ones marked so; "
            "run the same command again to resume",
            file=sys.stderr,
            flush=True,
        )
    elif failed:
        how = f"killed by signal {-failed[0]}" if failed[0] < 0 else f"exit code {failed[0]}"
        print(
            f"tune.py: error: {len(failed)} of the --jobs workers failed ({how}); the finished trials are kept in "
            "the study's database: run the same command again to resume",
            file=sys.stderr,
            flush=True,
        )

    step = "writing the report"
    try:
        with raising():  # from here SIGTERM stops tune.py as Ctrl-C does, with its own exit code
            fail_dead_trials(study)
            records = trial_records(study, space)
            write_report(out, records, space, args.lang, args.strategy, analysis=not args.no_analysis)
            print(f"{len(records)} trials; table in {out / 'results.md'}", flush=True)
            if interrupted is not None or failed:
                return exit_code(interrupted) if interrupted is not None else 1
            step = "retraining the best configuration"
            return finish(args, records, out)
    except KeyboardInterrupt as interrupt:
        print(
            f"tune.py: error: interrupted ({str(interrupt) or 'SIGINT'}) while {step}; the finished trials are "
            f"kept in the study's database{'' if step.startswith('writing') else f', the report in {out}'}; "
            "best.json was not written",
            file=sys.stderr,
            flush=True,
        )
        return exit_code(interrupt)
    except OSError:
        raise  # one line naming the file, from main
    except Exception as err:  # e.g. a plot that cannot be drawn: one line naming the step, not a traceback
        print(
            f"tune.py: error: {step} failed ({type(err).__name__}: {err}); the finished trials are kept in the "
            "study's database",
            file=sys.stderr,
            flush=True,
        )
        return 1


def finish(args: argparse.Namespace, records: list[dict], out: Path) -> int:
    """After the report: exit 1 if every trial failed, else retrain the best and write best.json; -> the exit code."""
    if records and not any(record["state"] in ("complete", "pruned") for record in records):
        first = next((record for record in records if record.get("error")), records[0])
        print(
            f"tune.py: error: every trial failed (trial {first['number']}: {first.get('error')}); "
            f"see {out / 'results.md'}",
            file=sys.stderr,
        )
        return 1
    if args.no_retrain:
        return 0
    (out / "best.json").unlink(missing_ok=True)  # it describes best-run/, which the retrain replaces
    try:
        code, metrics = retrain_best(args, records, out)
    except (OSError, ValueError) as err:  # best-run/ cannot be replaced, its data cannot be read, ...
        print(
            f"tune.py: error: retraining the best configuration failed ({err}); the trials and the report are "
            f"kept in {out}; best.json was not written",
            file=sys.stderr,
            flush=True,
        )
        return 1
    if code != 0:
        what = "was interrupted" if code in (130, 143) else "failed (see the error above)"
        print(
            f"tune.py: error: retraining the best configuration in {out / 'best-run'} {what}; the trials and "
            f"the report are kept in {out}; best.json was not written",
            file=sys.stderr,
            flush=True,
        )
        return code
    if metrics:
        print(
            f"best configuration retrained in {out / 'best-run'}: val acc {metrics['val_acc']:.4f}  "
            f"test-1k {metrics['test_acc_1k']:.4f}  test-10k {metrics['test_acc_10k']:.4f}",
            flush=True,
        )
        save_json(out / "best.json", metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
