"""The grader's child: runs one submission's lab functions on the parent's inputs and sends back plain arrays.

compare.sandbox starts it as ``python -I -S child.py SETTINGS`` in a scratch copy of the submission.
Before any student code runs it takes its protocol pipes off fds 0 and 1 (prints go to fd 2, a file
the parent reads), lowers its resource limits, drops to an unprivileged user when told to, and puts
on ``sys.path`` only the standard library, NumPy, the kit's support modules and the submission,
imported as the package ``lab`` (also as ``cs231n``, ``numpy_impl``, its folder's name and, for
``import layers``, the bare module names). Then it answers requests, one probe each, until the pipe
closes. It decides nothing: every verdict is the parent's. Standard library and NumPy only.
"""

from __future__ import annotations

import faulthandler
import importlib
import importlib.abc
import importlib.util
import json
import os
import sys
import traceback

PACKAGE = "lab"
LAB_MODULES = ("layers", "layer_utils", "fc_net", "optim", "solver", "gradient_check", "checks")
ALIASES = ("cs231n", "numpy_impl")


def take_protocol_pipes():
    """-> (read, write) on the parent's pipes; fd 0 becomes /dev/null and fd 1 a copy of fd 2 (the output file)."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    return proto_in, proto_out


def lower_limits(limits: dict) -> None:
    """CPU seconds, address space, file size, open files and processes, as the parent set them."""
    import resource

    names = {
        "cpu_seconds": resource.RLIMIT_CPU,
        "memory_bytes": resource.RLIMIT_AS,
        "file_bytes": resource.RLIMIT_FSIZE,
        "open_files": resource.RLIMIT_NOFILE,
        "processes": resource.RLIMIT_NPROC,
        "core_bytes": resource.RLIMIT_CORE,
    }
    for name, value in limits.items():
        resource.setrlimit(names[name], (value, value))


def drop_privileges(uid: int | None) -> None:
    """Become uid (and gid uid, no supplementary groups), for good; nothing when uid is None."""
    if uid is None:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() != uid or os.getuid() != uid:
        raise SystemExit("could not drop privileges")


class Aliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves other names for the submission (``cs231n.layers``, ``layers``, ...) to the same module objects."""

    def __init__(self, names: tuple[str, ...]):
        self.names = names

    def _canonical(self, fullname: str) -> str | None:
        head, dot, rest = fullname.partition(".")
        if head in self.names:
            return PACKAGE + dot + rest
        if fullname in LAB_MODULES:
            return f"{PACKAGE}.{fullname}"
        return None

    def find_spec(self, fullname, path=None, target=None):
        canonical = self._canonical(fullname)
        if canonical is None or importlib.util.find_spec(canonical) is None:
            return None
        real = importlib.util.find_spec(canonical)
        return importlib.util.spec_from_loader(fullname, self, is_package=real.submodule_search_locations is not None)

    def create_module(self, spec):
        return importlib.import_module(self._canonical(spec.name))

    def exec_module(self, module):
        pass


class ImportFailed(Exception):
    """A module of the submission that raises on import (a syntax error, an import-time crash)."""


class BrokenContract(Exception):
    """A lab function that returns what the lab's signature does not allow (its message says what)."""


def error(err: BaseException, folder: str) -> dict:
    """What went wrong in student code: its type, message and the last line of the submission it ran."""
    try:
        if isinstance(err, (NotImplementedError, BrokenContract)):
            message = str(err)
        elif isinstance(err, SyntaxError):  # its str() repeats the file and line, which `where` gives
            message = f"{type(err).__name__}: {err.msg}"
        else:
            message = f"{type(err).__name__}: {err}"
    except BaseException:  # a __str__ that raises
        message = type(err).__name__
    where = str(getattr(err, "where", "")) if isinstance(err, BrokenContract) else ""
    if isinstance(err, ImportFailed):
        message, err = str(err), err.__cause__ or err
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename.startswith(folder + os.sep):
            where = f"{os.path.relpath(frame.filename, folder)}:{frame.lineno}"
    if isinstance(err, SyntaxError) and str(err.filename).startswith(folder + os.sep):
        where = f"{os.path.relpath(err.filename, folder)}:{err.lineno}"
    kind = "not implemented" if isinstance(err, NotImplementedError) else "error"
    return {"status": kind, "message": message, "where": where}


# ----------------------------------------------------------------------------- probes


def lab_function(lab, dotted: str):
    """The submission's function or class ``module.name`` (NotImplementedError when it has none)."""
    module, _, name = dotted.partition(".")
    if module not in LAB_MODULES:
        raise ValueError(f"not a lab module: {module}")
    found = getattr(lab(module), name, None)
    if found is None:
        raise NotImplementedError(f"{module}.py has no {name}")
    return found


def plain(value):
    """value as a plain ndarray (subclasses and their methods stay here), a dict of them, or None (a cache)."""
    import numpy as np

    if isinstance(value, (np.ndarray, np.generic, int, float)):
        array = np.array(value)
        return array if array.dtype.kind in "biuf" else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return None


def outputs(value) -> list:
    """A function's return value as a list of plain values (a tuple's items; one item otherwise)."""
    return [plain(v) for v in (value if isinstance(value, tuple) else (value,))]


def probe_call(lab, fn: str, args: list) -> dict:
    """fn(*args) -> its outputs, and the arguments as they were afterwards (to see in-place changes)."""
    return {"outputs": outputs(lab_function(lab, fn)(*args)), "args_after": args}


def probe_backward(lab, forward: str, args: list, backward: str, dout) -> dict:
    """backward(dout, cache) with the cache of forward(*args) -> backward's outputs and the forward's outputs."""
    result = lab_function(lab, forward)(*args)
    out, cache = result
    return {"forward": outputs(out), "outputs": outputs(lab_function(lab, backward)(dout, cache)), "dout_after": dout}


def probe_numerical(lab, fn: str, args: list, wrt: int, h: float, output: int = 0) -> dict:
    """fn's output number ``output`` at args[wrt] -/+ h in each entry -> {"minus", "plus"}: (size, *out)."""
    import numpy as np

    f = lab_function(lab, fn)
    x = args[wrt]
    minus, plus = [], []
    for i in range(x.size):
        for sign, into in ((-1, minus), (1, plus)):
            moved = x.copy()
            moved.flat[i] += sign * h
            called = [a.copy() if hasattr(a, "copy") else a for a in args]
            called[wrt] = moved
            result = f(*called)
            into.append(np.array(result[output] if isinstance(result, tuple) else result, dtype=np.float64))
    return {"minus": np.stack(minus), "plus": np.stack(plus)}


def make_model(lab, init: dict, params: dict | None, reg: float | None):
    import numpy as np

    np.random.seed(231)  # the lab's cells seed the global generator before building the model
    model = lab("fc_net").TwoLayerNet(**init)
    if reg is not None:
        model.reg = reg
    if params is not None:
        model.params.update({k: v.copy() for k, v in params.items()})
    return model


def probe_model(lab, init: dict, params: dict | None = None, X=None, y=None, reg: float | None = None) -> dict:
    """A TwoLayerNet(**init) (after np.random.seed(231)) -> its params, and its loss(X, y) when X is given."""
    model = make_model(lab, init, params, reg)
    answer = {"params": plain(dict(model.params))}
    if X is not None:
        answer["loss"] = outputs(model.loss(X, y))
    return answer


def probe_model_numerical(lab, init: dict, params: dict, X, y, reg: float, name: str, h: float) -> dict:
    """The model's loss at params[name] -/+ h in each entry -> {"minus", "plus"}: (size,)."""
    import numpy as np

    model = make_model(lab, init, params, reg)
    base = model.params[name]
    minus, plus = [], []
    for i in range(base.size):
        for sign, into in ((-1, minus), (1, plus)):
            moved = params[name].copy()
            moved.flat[i] += sign * h
            model.params[name] = moved
            into.append(float(model.loss(X, y)[0]))
    return {"minus": np.asarray(minus), "plus": np.asarray(plus)}


def probe_update(lab, rule: str, w, dw, config: dict) -> dict:
    """optim.<rule>(w, dw, config) -> next_w and the config it returned."""
    update = lab_function(lab, f"optim.{rule}")
    returned = update(w, dw, config)
    if not (isinstance(returned, tuple) and len(returned) == 2):
        what = f"a tuple of {len(returned)} values" if isinstance(returned, tuple) else type(returned).__name__
        broken = BrokenContract(f"{rule} returned {what}; it must return the pair (next_w, config)")
        code = getattr(update, "__code__", None)
        broken.where = f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}" if code else ""
        raise broken
    next_w, next_config = returned
    return {"next_w": plain(next_w), "config": plain(dict(next_config or {}))}


class ParentModel:
    """A model whose loss the parent computes: the Solver is graded with a model known to be right."""

    def __init__(self, params: dict, ask):
        self.params, self.ask = params, ask

    def loss(self, X, y=None):
        import numpy as np

        answer = self.ask({"X": np.asarray(X), "y": None if y is None else np.asarray(y), "params": self.params})
        if answer.get("status") == "refused":
            raise ValueError(answer["message"])
        if y is None:
            return answer["scores"]
        return answer["loss"], answer["grads"]


def probe_solver(lab, params: dict, data: dict, settings: dict, ask) -> dict:
    """solver.Solver(ParentModel(params), data, **settings).train() -> the final params and the histories."""
    model = ParentModel(params, ask)
    solver = lab("solver").Solver(model, data, **settings)
    solver.train()
    histories = {}
    for name in ("loss_history", "train_acc_history", "val_acc_history"):
        try:
            histories[name] = [float(v) for v in getattr(solver, name)]
        except Exception:
            histories[name] = None
    return {"params": plain(dict(model.params)), **histories}


PROBES = {
    "call": probe_call,
    "backward": probe_backward,
    "numerical": probe_numerical,
    "model": probe_model,
    "model_numerical": probe_model_numerical,
    "update": probe_update,
    "solver": probe_solver,
}


def main() -> None:
    settings = json.loads(sys.argv[1])
    proto_in, proto_out = take_protocol_pipes()
    faulthandler.dump_traceback_later(settings["show_where_after"])  # to fd 2: where a hanging part is (a thread:
    lower_limits(settings["limits"])  # started before the process limit forbids threads)
    drop_privileges(settings["uid"])
    sys.path += settings["path"]
    import numpy as np
    from wire import encode, read_message

    folder = settings["submission"]
    sys.meta_path.insert(0, Aliases((*ALIASES, *settings["aliases"])))

    def send(message: dict) -> None:
        proto_out.write(encode(message))

    def lab(module: str):
        if not os.path.isfile(os.path.join(folder, f"{module}.py")):
            raise NotImplementedError(f"there is no {module}.py")
        try:
            return importlib.import_module(f"{PACKAGE}.{module}")
        except BaseException as err:
            raise ImportFailed(f"{module}.py does not import: {error(err, folder)['message']}") from err

    def ask(question: dict) -> dict:
        send({"ask": question})
        return read_message(proto_in.read)

    while True:
        try:
            request = read_message(proto_in.read)
        except EOFError:
            return
        probe = PROBES[request["probe"]]
        extra = {"ask": ask} if probe is probe_solver else {}
        np.random.seed(0)
        try:
            answer = {"status": "ok", **probe(lab, **request["args"], **extra)}
        except BaseException as err:  # SystemExit and KeyboardInterrupt too: reported, never obeyed
            answer = error(err, folder)
        try:
            send(answer)
        except Exception as err:
            send({"status": "error", "message": f"the result cannot be sent back: {err}", "where": ""})


if __name__ == "__main__":
    main()
