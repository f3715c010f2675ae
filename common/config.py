"""The settings of a training run, in one place: every setting with its default, its meaning and its check.

``Config`` is what train.py's flags, tune.py's ``[fixed]`` table, a run folder's config.json and
the benchmarks all speak. ``RECIPES`` are named sets of settings (``--recipe``): a recipe replaces
the defaults it names, and explicit flags still win.

``Config.check`` validates settings where they enter from outside (train.py's flags, tune.py's space,
a config.json), with messages that name the flag. The Solvers and the lab's functions check their own
arguments too, for callers that build them directly without a Config.

Settings the project measured as losing and removed (REMOVED_SETTINGS) are still read from old run
folders while they are off; on, they are refused with the commit that last had them.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from dataclasses import dataclass, field, fields

from common.batches import Augmentation
from common.choices import DTYPES, IMPLS, LAB_UPDATE_RULES, LR_SCHEDULES, UPDATE_RULES
from common.lab_folder import is_student_impl, lab_folder_problem, resolve_impl
from common.preprocess import PREPROCESSINGS

NUM_VALIDATION = 1000  # the lab's validation split: the 1,000 training images after the first num_train
NUM_TEST = 10_000  # train.py scores the full test set ...
LAB_TEST_SIZE = 1000  # ... and, separately, the lab's test split: its first 1,000 images
NUM_TRAIN_IMAGES = 50_000
INPUT_DIM = 3 * 32 * 32  # a CIFAR-10 image's values


class ConfigError(ValueError):
    """A setting that cannot work; the message names it and says what is expected."""


def setting(default, help: str, beyond_lab: bool = False):
    """A Config field: its default and its one-line meaning (shown by --help)."""
    return field(default=default, metadata={"help": help, "beyond_lab": beyond_lab})


@dataclass(frozen=True)
class Config:
    """One training run. Defaults: chosen by measurement on the reference machine (docs/training.md, 'The defaults')."""

    impl: str = setting(
        "numpy",
        "implementation: numpy, torch, or the folder of your own lab's files (e.g. my-lab/lab: its fc_net, optim "
        "and solver train, in this process, with the lab's settings only)",
    )
    hidden_size: int = setting(500, "hidden units H")
    learning_rate: float = setting(1e-4, "learning rate (the peak rate under the cosine schedule)")
    lr_decay: float = setting(0.95, "step schedule: learning-rate factor after each epoch")
    num_epochs: int = setting(10, "epochs of num_train // batch_size steps")
    batch_size: int = setting(200, "images per step, drawn with replacement")
    reg: float = setting(0.0, "L2 strength: loss += 0.5 * reg * (|W1|^2 + |W2|^2)")
    update_rule: str = setting("sgd_momentum", f"one of {', '.join(UPDATE_RULES)}")
    weight_scale: float = setting(1e-3, "standard deviation of the initial weights")
    seed: int = setting(0, "initial weights, minibatches and augmentation draws")
    dtype: str = setting("float32", "float32 or float64")
    num_train: int = setting(49_000, "training images: the first N (validation is the 1,000 after them)")
    device: str = setting("cpu", "torch device: cpu, cuda or cuda:N")
    preprocessing: str = setting("mean_image", f"one of {', '.join(PREPROCESSINGS)}", True)
    zca_epsilon: float = setting(0.1, "ZCA regularizer, in units of [0, 1] pixel variance", True)
    pca_components: int = setting(
        0,
        "first project the preprocessed images onto their top K principal directions (K·H first-layer weights "
        "instead of 3072·H); folded into W1 when saved (0: no projection)",
        True,
    )
    flip: bool = setting(False, "random horizontal flips of training images", True)
    crop_padding: int = setting(0, "random crops from this many zero pixels of padding (0: no crops)", True)
    lr_schedule: str = setting("step", "step (x lr_decay per epoch) or cosine (warm-up, then cosine decay)", True)
    warmup_epochs: float = setting(0.0, "cosine schedule: epochs of linear warm-up", True)
    weight_decay: float = setting(
        0.0, "with adam: decoupled weight decay, w -= lr * wd * w each step (AdamW; reg is L2)", True
    )
    label_smoothing: float = setting(0.0, "cross-entropy target (1 - e) onehot + e / C", True)
    tta: bool = setting(False, "also report accuracy averaged over each image and its mirror", True)

    # ------------------------------------------------------------------------- conversion

    @classmethod
    def from_dict(cls, values: dict, where: str = "settings") -> Config:
        """A checked Config from {name: value} (missing names take the defaults); ConfigError names what is wrong.

        A removed setting (REMOVED_SETTINGS) at its off value is dropped, so every config.json this
        project wrote is read; at any other value it is refused, naming the commit that last had it.
        """
        values = _without_removed(values, where)
        unknown = sorted(set(values) - set(NAMES))
        if unknown:
            verb = "is not a setting" if len(unknown) == 1 else "are not settings"
            raise ConfigError(f"{where}: {', '.join(unknown)} {verb}; the settings are {', '.join(NAMES)}")
        typed = {name: _typed(name, value, where) for name, value in values.items()}
        if "impl" in typed:  # a student's folder: recorded as the absolute path of its lab files
            try:
                typed["impl"] = resolve_impl(typed["impl"])
            except ValueError as err:
                raise ConfigError(str(err) if where in ("flags", "trial") else f"{where}: {err}") from None
        config = cls(**typed)
        config.check()
        return config

    @classmethod
    def from_run(cls, values: dict) -> Config:
        """The Config recorded in a run folder's config.json (which also holds the command, versions, ...)."""
        return cls.from_dict({k: v for k, v in values.items() if k in NAMES or k in REMOVED_SETTINGS}, "config.json")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    # ------------------------------------------------------------------------- validation

    def check(self) -> Config:
        """Raise ConfigError for the first setting that cannot work, naming its flag and what is expected."""
        choices = (
            ("impl", IMPLS),
            ("dtype", DTYPES),
            ("update_rule", UPDATE_RULES),
            ("preprocessing", PREPROCESSINGS),
            ("lr_schedule", LR_SCHEDULES),
        )
        if is_student_impl(self.impl):
            self._check_student_impl()
        for name, allowed in choices[1:] if is_student_impl(self.impl) else choices:
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{flag(name)} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if not re.fullmatch(r"cpu|cuda(:\d+)?", self.device):
            raise ConfigError(f"{flag('device')} must be cpu, cuda or cuda:N, got {self.device!r}")
        if self.impl != "torch" and self.device != "cpu":
            where = "numpy runs" if self.impl == "numpy" else "a student's lab runs"
            raise ConfigError(f"--device {self.device} applies to --impl torch only; {where} on the CPU")
        for name in ("hidden_size", "num_epochs", "batch_size", "num_train"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{flag(name)} must be a positive integer, got {getattr(self, name)}")
        if self.num_train + NUM_VALIDATION > NUM_TRAIN_IMAGES:
            raise ConfigError(
                f"--num-train must be at most {NUM_TRAIN_IMAGES - NUM_VALIDATION} (the {NUM_VALIDATION} "
                f"training images after them are the validation set), got {self.num_train}"
            )
        for name in ("learning_rate", "weight_scale", "zca_epsilon"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ConfigError(f"{flag(name)} must be a positive number, got {getattr(self, name)}")
        if not 0 < self.lr_decay <= 1:
            raise ConfigError(f"--lr-decay must be in (0, 1], got {self.lr_decay}")
        for name in ("reg", "weight_decay"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ConfigError(f"{flag(name)} must be a finite number >= 0, got {getattr(self, name)}")
        if self.weight_decay and self.update_rule != "adam":
            raise ConfigError(f"--weight-decay goes with --update-rule adam (AdamW), not {self.update_rule}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"--seed must be an integer in [0, 2**32), got {self.seed}")
        if not 0 <= self.pca_components <= INPUT_DIM:
            raise ConfigError(
                f"--pca-components must be an integer in [0, {INPUT_DIM}] (0: no projection; an image has "
                f"{INPUT_DIM} values), got {self.pca_components}"
            )
        if not 0 <= self.crop_padding < 32:
            raise ConfigError(f"--crop-padding must be an integer in [0, 32), got {self.crop_padding}")
        if not 0 <= self.warmup_epochs <= self.num_epochs:
            raise ConfigError(
                f"--warmup-epochs must be in [0, --num-epochs = {self.num_epochs}], got {self.warmup_epochs}"
            )
        if self.warmup_epochs and self.lr_schedule != "cosine":
            raise ConfigError("--warmup-epochs applies to --lr-schedule cosine only")
        if not 0 <= self.label_smoothing <= 1:
            raise ConfigError(f"--label-smoothing must be in [0, 1], got {self.label_smoothing}")
        return self

    def _check_student_impl(self) -> None:
        """A student's folder: a lab folder, trained with the lab's settings alone (the recipe engine's are not
        in the lab's Solver and model)."""
        problem = lab_folder_problem(self.impl)
        if problem:
            raise ConfigError(problem)
        beyond = [
            flag(f.name)
            for f in fields(self)
            if f.metadata["beyond_lab"] and getattr(self, f.name) != getattr(DEFAULTS, f.name)
        ]
        if beyond:
            raise ConfigError(
                f"{', '.join(beyond)}: the recipe engine's settings apply to --impl numpy and torch only; "
                "your lab trains with the lab's settings (hidden size, learning rate, lr decay, epochs, batch size, "
                "reg, update rule, weight scale, seed, dtype, num train)"
            )
        if self.update_rule not in LAB_UPDATE_RULES:
            raise ConfigError(
                f"--update-rule {self.update_rule}: your lab's update rules are {', '.join(LAB_UPDATE_RULES)}"
            )

    # ------------------------------------------------------------------------- what a run derives from it

    @property
    def augment(self) -> dict | None:
        """The Solvers' ``augment`` argument: None, or {"flip": bool, "padding": int}."""
        return Augmentation(self.flip, self.crop_padding).to_dict()

    def solver_options(self) -> dict:
        """The keyword arguments both Solvers take for these settings."""
        optim_config = {"learning_rate": self.learning_rate}
        if self.weight_decay:
            optim_config["weight_decay"] = self.weight_decay
        return {
            "update_rule": self.update_rule,
            "optim_config": optim_config,
            "lr_decay": self.lr_decay,
            "lr_schedule": self.lr_schedule,
            "warmup_epochs": self.warmup_epochs,
            "augment": self.augment,
            "batch_size": self.batch_size,
            "num_epochs": self.num_epochs,
            "seed": self.seed,
        }


NAMES = tuple(f.name for f in fields(Config))
DEFAULTS = Config()

REMOVED_IN = "1da526f"  # the last commit with the removed settings' code
# Removed settings (docs/beyond-the-lab.md measured them as losing): {name: (its off value, what it did)}.
# None as the off value: any value is off (a parameter of a feature that another setting switches on).
REMOVED_SETTINGS = {
    "init": ("normal", "initialization other than the lab's (--init he, images)"),
    "mix": ("none", "MixUp and CutMix (--mix)"),
    "mix_alpha": (None, "MixUp and CutMix (--mix-alpha)"),
    "ema_decay": (0.0, "weight averaging (--ema-decay)"),
    "dropout_keep_ratio": (1.0, "dropout (--dropout-keep-ratio)"),
    "dropout": (0.0, "dropout (--dropout)"),
}


def _without_removed(values: dict, where: str) -> dict:
    """values without the removed settings that are off; ConfigError for one that is on."""
    kept = dict(values)
    for name, (off, feature) in REMOVED_SETTINGS.items():
        if name not in kept:
            continue
        value = kept.pop(name)
        if off is not None and value != off:
            raise ConfigError(
                f"{where}: {name} = {value!r}: {feature} was removed (docs/beyond-the-lab.md measured it as "
                f"losing), so only its off value {off!r} can be read; commit {REMOVED_IN} is the last with it "
                f"(git checkout {REMOVED_IN} to run this configuration)"
            )
    return kept


# Named settings for --recipe (docs/beyond-the-lab.md); flags given on the command line override them.
# v1, v2 and v3 keep the published recipes reproducible; best is the current one (v4).
RECIPES = {
    "v1": {
        "hidden_size": 4096,
        "preprocessing": "zca",
        "zca_epsilon": 0.1,
        "flip": True,
        "crop_padding": 4,
        "update_rule": "sgd_nesterov",
        "batch_size": 512,
        "learning_rate": 0.05,
        "lr_schedule": "cosine",
        "warmup_epochs": 1.0,
        "reg": 5e-4,
        "label_smoothing": 0.1,
        "weight_scale": 1e-2,
        "num_epochs": 80,
        "tta": True,
    },
}
# v2: the first layer sees the top 512 principal directions of the whitened images (3x cheaper per image),
# and the time saved buys a 2x wider hidden layer for 2.6x the epochs (docs/beyond-the-lab.md).
RECIPES["v2"] = {**RECIPES["v1"], "pca_components": 512, "hidden_size": 8192, "num_epochs": 210}
# v3: v2 trained with AdamW (decoupled weight decay instead of the L2 term) for the epochs that fit in
# 25 minutes: level with v2 on plain test accuracy, ahead with flip TTA (docs/beyond-the-lab.md).
RECIPES["v3"] = {
    **RECIPES["v2"],
    "update_rule": "adam",
    "learning_rate": 1e-3,
    "weight_decay": 0.05,
    "reg": 0.0,
    "num_epochs": 195,
}
# v4: v3 for 150 epochs, on the engine with compiled loops: 70% with flip TTA (the mean of 3 seeds) in 0.63 of
# v3's epochs x step time (docs/performance.md, time to 70%).
RECIPES["v4"] = {**RECIPES["v3"], "num_epochs": 150}
RECIPES["best"] = RECIPES["v4"]


def flag(name: str) -> str:
    """The command-line flag of a setting: hidden_size -> --hidden-size."""
    return "--" + name.replace("_", "-")


def _typed(name: str, value, where: str):
    """value as the type of setting ``name`` (an int is a fine float; a bool or a string is not a number)."""
    kind = type(getattr(DEFAULTS, name))
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"{where}: {name} must be {'a' if kind is not int else 'an'} {kind.__name__}, got {value!r}")
    return value


# ----------------------------------------------------------------------------- command-line flags


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2) pointing at --help, and no abbreviated flags
    (--hidden must not silently mean --hidden-size)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting, its help showing the default; a --recipe flag naming RECIPES.

    The flags' own defaults are SUPPRESS, so ``config_from_args`` knows which were given.
    """
    parser.add_argument(
        "--recipe",
        default=None,
        choices=sorted(RECIPES),
        help="start from a named set of settings (docs/beyond-the-lab.md); other flags override it",
    )
    groups = {
        False: parser.add_argument_group("the lab's settings"),
        True: parser.add_argument_group("beyond the lab (all off by default)"),
    }
    for f in fields(Config):
        default = getattr(DEFAULTS, f.name)
        text = f"{f.metadata['help']} (default: {default})"
        group = groups[f.metadata["beyond_lab"]]
        if isinstance(default, bool):
            group.add_argument(
                flag(f.name), action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=text
            )
        else:
            group.add_argument(
                flag(f.name), type=type(default), default=argparse.SUPPRESS, help=text, metavar=f.name.upper()
            )


def config_from_argv(argv: list[str]) -> Config:
    """The Config that train.py's setting flags (and --recipe) give, e.g. ["--recipe", "best", "--no-flip"]."""
    parser = OneLineParser(prog="train.py")
    add_arguments(parser)
    return config_from_args(parser.parse_args(argv))


def config_from_args(args: argparse.Namespace) -> Config:
    """The Config of parsed flags: defaults, then the recipe's settings, then the flags given; checked."""
    given = {name: getattr(args, name) for name in NAMES if hasattr(args, name)}
    if getattr(args, "recipe", None) and is_student_impl(given.get("impl", DEFAULTS.impl)):
        raise ConfigError(
            f"--recipe {args.recipe}: recipes are the recipe engine's (--impl numpy or torch); your lab trains "
            "with the lab's settings only"
        )
    return Config.from_dict({**RECIPES.get(getattr(args, "recipe", None) or "", {}), **given}, "flags")
