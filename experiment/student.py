"""A student's own lab, trained by train.py and tune.py: ``--impl my-lab/lab`` (common/lab_folder.py).

The folder's files are imported in this process (it is the student's own code, on their machine) the
way the lab expects: as a package whose files may import each other as ``lab``, ``cs231n`` or
``numpy_impl`` (or the folder's own name), all of which point into the folder while it loads; after
that, those names are as before, so the project's numpy_impl is never mixed into the student's code.

The run uses the folder's ``fc_net.TwoLayerNet``, its ``optim`` update rules, and its ``solver.Solver``
(numpy_impl's, with the folder's ``optim``, when it has no solver.py), wrapped by ``run_solver`` in the
hooks, histories and exact-resume checkpoints that train.py's run folders need.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import itertools
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from common.choices import RULE_DEFAULTS
from common.training import check_finite

LAB_MODULES = ("layers", "layer_utils", "fc_net", "optim", "solver")
ALIASES = ("lab", "cs231n", "numpy_impl")  # the package names a lab's files import each other by
_loaded = itertools.count()
_labs: dict[str, SimpleNamespace] = {}  # folder -> its modules, loaded once per process


class StudentCodeError(Exception):
    """The student's code raised (or is not the lab's shape); the message is one line naming file:line."""


def where_raised(err: BaseException, folder: str | Path) -> str:
    """'FILE:LINE' of the innermost frame of err's traceback inside folder (for a SyntaxError, its own place),
    else of the innermost frame; '' when there is no traceback."""
    folder = str(Path(folder))
    if isinstance(err, SyntaxError) and err.filename:
        return f"{err.filename}:{err.lineno}"
    frames = traceback.extract_tb(err.__traceback__)
    inside = [frame for frame in frames if frame.filename.startswith(folder + "/")]
    frame = (inside or frames or [None])[-1]
    return f"{frame.filename}:{frame.lineno}" if frame is not None else ""


def describe_error(err: BaseException, folder: str | Path) -> str:
    """One line: where in the student's folder err was raised, its type and its message's first line."""
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    where = where_raised(err, folder)
    return f"{where}: {type(err).__name__}" + (f": {message}" if message else "") if where else type(err).__name__


class _FolderPackages(importlib.abc.MetaPathFinder):
    """Resolves the given package names to namespace packages over one folder."""

    def __init__(self, names: tuple[str, ...], folder: Path):
        self.names, self.folder = names, str(folder)

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
        spec.submodule_search_locations = [self.folder]
        return spec


@contextmanager
def _imports_point_into(folder: Path, package: str):
    """While loading, ``package``, the lab's package names and the folder's own name resolve to ``folder``;
    afterwards every module under those names is as it was before."""
    own = folder.name.isidentifier() and folder.name not in ALIASES and not _importable(folder.name)
    aliases = (*ALIASES, folder.name) if own else ALIASES  # never a name that is already a module (numpy, common)
    hidden = {name: module for name, module in sys.modules.items() if name.split(".")[0] in aliases}
    for name in hidden:
        del sys.modules[name]
    finder = _FolderPackages((package, *aliases), folder)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for name in [name for name in sys.modules if name.split(".")[0] in aliases]:
            del sys.modules[name]
        sys.modules.update(hidden)


def _importable(name: str) -> bool:
    try:
        return name in sys.modules or importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return True


def load_lab(folder: str) -> SimpleNamespace:
    """The folder's modules (layers, layer_utils, fc_net, optim; solver or None), imported once per process.

    Raises StudentCodeError, naming file:line, when one of them cannot be imported or lacks what training needs.
    """
    if folder in _labs:
        return _labs[folder]
    path = Path(folder)
    package = f"student_lab_{next(_loaded)}"
    modules = {}
    with _imports_point_into(path, package):
        for name in LAB_MODULES:
            if not (path / f"{name}.py").is_file():
                modules[name] = None
                continue
            try:
                modules[name] = importlib.import_module(f"{package}.{name}")
            except Exception as err:  # a syntax error, a failing import, an import-time crash
                raise StudentCodeError(f"importing {name}.py: {describe_error(err, path)}") from None
    lab = SimpleNamespace(folder=path, **modules)
    needs = [("fc_net", "TwoLayerNet"), ("optim", None)] + ([("solver", "Solver")] if lab.solver else [])
    for module, attribute in needs:
        if attribute and not callable(getattr(getattr(lab, module), attribute, None)):
            raise StudentCodeError(f"{path / module}.py: has no {attribute}; train.py trains the lab's {attribute}")
    _labs[folder] = lab
    return lab


def make_student_model(folder: str, input_dim: int, hidden_dim: int, num_classes: int, **options):
    """The folder's TwoLayerNet(input_dim, hidden_dim, num_classes, weight_scale, reg), with ``dtype`` and ``seed``
    when its constructor takes them; params cast to dtype when it does not. options: weight_scale, reg, dtype, seed."""
    model_class = load_lab(folder).fc_net.TwoLayerNet
    try:
        accepted = inspect.signature(model_class).parameters
    except (TypeError, ValueError):
        accepted = {}
    dtype, seed = options.pop("dtype"), options.pop("seed", None)
    extra = {name: value for name, value in (("dtype", np.dtype(dtype)), ("seed", seed)) if name in accepted}
    if "seed" not in accepted and seed is not None:
        np.random.seed(seed)  # a constructor without seed draws from np.random, as the lab's notebook seeds it
    model = student_call(
        folder, model_class, input_dim=input_dim, hidden_dim=hidden_dim, num_classes=num_classes, **options, **extra
    )
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or not all(isinstance(v, np.ndarray) for v in params.values()):
        raise StudentCodeError(f"{folder}/fc_net.py: TwoLayerNet's params is not a dict of NumPy arrays")
    if "dtype" not in accepted:
        model.params = {name: value.astype(dtype, copy=False) for name, value in params.items()}
    return model


def student_model_from_params(folder: str, params: dict[str, np.ndarray], reg: float = 0.0):
    """The folder's TwoLayerNet holding lab-layout params (W1 (D, H), b1, W2 (H, C), b2), in their dtype."""
    (input_dim, hidden_dim), num_classes = params["W1"].shape, params["W2"].shape[1]
    model = make_student_model(
        folder, input_dim, hidden_dim, num_classes, weight_scale=1e-3, reg=reg, dtype=params["W1"].dtype
    )
    model.params = {name: np.array(value) for name, value in params.items()}
    return model


def student_call(folder: str, function, *args, **kwargs):
    """function(*args, **kwargs); an exception it raises becomes StudentCodeError naming where."""
    try:
        return function(*args, **kwargs)
    except Exception as err:
        raise StudentCodeError(describe_error(err, folder)) from err


class _RunHooks:
    """What a train.py run needs from a Solver, around the lab's loop (train, _step, _save_checkpoint): hooks
    on_iteration and on_epoch, lr_history and accuracy_iterations, divergence stops, and checkpoints that
    resume exactly (numpy_recipe.Solver's format: params, best params, optimizer state, batch stream)."""

    lr_schedule, warmup_epochs = "step", 0.0  # the lab's schedule: lr *= lr_decay after each epoch

    def __init__(self, model, data, **kwargs):
        self.on_iteration = kwargs.pop("on_iteration", None)
        self.on_epoch = kwargs.pop("on_epoch", None)
        checkpoint_name = kwargs.pop("checkpoint_name", None)
        super().__init__(model, data, **kwargs)
        self.checkpoint_name = checkpoint_name  # written here, in the recipes' format (the lab's own is not resumable)
        self.lr_history: list[float] = []
        self.accuracy_iterations: list[int] = []
        self._checkpoint_written = None

    def _step(self) -> None:
        config = next(iter(self.optim_configs.values()), {})
        rate = float(config.get("learning_rate", RULE_DEFAULTS[self.update_rule_name]["learning_rate"]))
        super()._step()
        check_finite(self.loss_history[-1], self.iteration, self.epoch, rate)
        self.lr_history.append(rate)
        self.iteration += 1  # the lab's train() sets it after _step; the hooks see it counted
        if self.on_iteration is not None:
            self.on_iteration(self)

    def settings(self) -> dict:
        from common.training import run_settings

        return run_settings(self, self.update_rule_name, self.model.params["W1"].dtype.name)


def run_solver(folder: str, model, data: dict, **options):
    """The folder's Solver (numpy_impl's with the folder's optim when it has no solver.py), made to drive a
    train.py run; options: the Solvers' keyword arguments, on_iteration, on_epoch, checkpoint_name."""
    import numpy_recipe

    lab = load_lab(folder)
    if lab.solver is not None:
        base = lab.solver.Solver
    else:
        import numpy_impl

        base = type("Solver", (numpy_impl.Solver,), {"optim": lab.optim})
    missing = [name for name in ("train", "_step", "_save_checkpoint") if not callable(getattr(base, name, None))]
    if missing:
        raise StudentCodeError(
            f"{folder}/solver.py: its Solver has no {', '.join(missing)}; train.py drives the lab's Solver loop"
        )
    recipe = numpy_recipe.Solver
    solver_class = type(
        "StudentSolver",
        (_RunHooks, base),
        {
            "_save_checkpoint": recipe._save_checkpoint,
            "load_checkpoint": recipe.load_checkpoint,
            "restore_best_params": recipe.restore_best_params,
        },
    )
    return student_call(folder, solver_class, model, data, **options)
