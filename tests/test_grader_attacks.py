"""Attacks on the grader, one promise each: a submission that cheats gets no credit for what it does not
implement and changes nothing outside its scratch copy; an honest one gets every part, wherever it lives.

Each cheat is the oracle (numpy_impl) copied into tmp_path with one function replaced (most often
optim.sgd_momentum: its part is fast and has honest neighbours in the same file), graded with
``grade(..., only=...)`` on the parts concerned. Where a trick reads something the sandbox hides,
the same code is first run outside the grader to show that the trick itself works.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path
from string import Template

import numpy as np
import pytest

from compare.grade import PARTS, format_grades, grade
from compare.sandbox import detect_isolation

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "numpy_impl"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

MOMENTUM = "update rule sgd_momentum"
NEIGHBOURS = ("update rule sgd", "update rule rmsprop")  # honest parts in the cheat's own file
ELSEWHERE = "affine forward"  # an honest part in another file
BROKEN_MOMENTUM = "def sgd_momentum(w, dw, config=None):\n    return 0 / 0\n"  # an honest mistake: one part wrong


# ----------------------------------------------------------------------------- helpers


def require_bwrap() -> None:
    """Skip (fail in CI) where bubblewrap does not work: the promise rests on what it hides."""
    if detect_isolation().bwrap is None:
        if IN_CI:
            pytest.fail("CI=true but bubblewrap is not usable: the sandbox's file, network and process checks must run")
        pytest.skip("bubblewrap is not usable here: a submission can read and write what its user can")


def require_contained_processes() -> None:
    """Skip (fail in CI) where a child's processes are not contained: neither bubblewrap's process namespace nor a
    uid of its own (whose process limit stops fork), i.e. the mode the command line refuses without --no-sandbox."""
    isolation = detect_isolation()
    if isolation.bwrap is None and not isolation.drop_user:
        if IN_CI:
            pytest.fail("CI=true but the grader's children run with neither bubblewrap nor a uid of their own")
        pytest.skip("neither bubblewrap nor a uid of its own: the child's processes are not contained (--no-sandbox)")


def code(text: str, **values) -> str:
    """Dedented source with each $NAME replaced by repr(values[NAME]) (paths as strings)."""
    return Template(textwrap.dedent(text)).substitute(
        {k: repr(str(v) if isinstance(v, Path) else v) for k, v in values.items()}
    )


def _replace(source: str, qualname: str, new: str) -> str:
    """source with the function or method qualname ("Solver.train") replaced by new (dedented source)."""
    body, node = ast.parse(source).body, None
    for name in qualname.split("."):
        node = next(n for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == name)
        body = node.body
    lines = source.splitlines(keepends=True)
    start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    new = textwrap.indent(textwrap.dedent(new).strip("\n") + "\n", " " * node.col_offset)
    return "".join(lines[:start]) + new + "".join(lines[node.end_lineno :])


def honest(folder: Path) -> Path:
    """A correct solution (the oracle's files) in folder."""
    shutil.copytree(ORACLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def submission(folder: Path, cheats: dict[str, str]) -> Path:
    """The oracle in folder with cheats: {"optim.sgd_momentum": source} replaces a function or method,
    {"optim": source} runs source at the end of the module's import."""
    honest(folder)
    for where, new in cheats.items():
        module, _, qualname = where.partition(".")
        path = folder / f"{module}.py"
        source = path.read_text()
        path.write_text(_replace(source, qualname, new) if qualname else source + "\n" + textwrap.dedent(new))
    return folder


def graded(folder: Path, *parts: str, time_limit: float = 10) -> dict:
    """{part: PartResult} for the parts named, graded on folder."""
    assert set(parts) <= {p.name for p in PARTS}, parts
    return {r.part: r for r in grade(str(folder), time_limit=time_limit, only=parts)}


def said(result) -> str:
    return f"{result.part}: {result.status}: {result.message} {result.notes}"


def assert_no_credit(results: dict, cheated: tuple[str, ...], honest_parts: tuple[str, ...] = ()) -> None:
    """The cheated parts fail; the honest ones pass (the cheat costs its own parts only)."""
    for part in cheated:
        assert not results[part].passed, said(results[part])
    for part in honest_parts:
        assert results[part].passed, said(results[part])


def snapshot(*paths: Path) -> dict[str, tuple | None]:
    """Every file and folder at or below paths: mode, size, mtime, contents; None for a path that is not there."""
    state: dict[str, tuple | None] = {}
    for top in paths:
        if not os.path.lexists(top):
            state[str(top)] = None
            continue
        for path in [top, *(sorted(top.rglob("*")) if top.is_dir() and not top.is_symlink() else [])]:
            info = path.lstat()
            data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
            state[str(path)] = (info.st_mode, info.st_size, info.st_mtime_ns, data)
    return state


def changes(before: dict, after: dict) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


def processes_named(comm: str) -> list[int]:
    """Live processes whose name (/proc/PID/comm) is comm."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == comm:
                found.append(int(pid))
        except OSError:
            pass
    return found


class Peak:
    """The largest growth of a measure (sampled in a thread) while the with-block runs, in bytes."""

    def __init__(self, measure):
        self.measure, self.growth, self._stop = measure, 0, threading.Event()

    def __enter__(self):
        base = self.measure()

        def sample():
            while not self._stop.wait(0.02):
                self.growth = max(self.growth, self.measure() - base)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def resident_bytes() -> int:
    """This process's resident memory."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


def run_compare(*args: str, cwd: Path, isolated: bool = True) -> subprocess.CompletedProcess:
    """python [-I] -m compare ARGS in cwd (the project found through its installation, never through cwd)."""
    command = [sys.executable, *(["-I"] if isolated else []), "-m", "compare", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, encoding="utf-8", errors="replace", timeout=600)


def score_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"\d+/\d+ parts correct", line)]


def score(own: int, given: int = 3) -> str:
    """The score line of a submission with own of its 13 parts and given of the kit's 3 correct."""
    return f"{own}/13 parts correct (the parts you write; the parts the kit gives: {given}/3)"


@pytest.fixture
def world(tmp_path):
    """What a cheat must not change: a sentinel and a classmate beside the submission, a file in the teacher's
    home, the answer key; and places where it must not create anything. Cleaned up afterwards."""
    token = uuid.uuid4().hex[:8]
    (tmp_path / "sentinel.txt").write_text("untouched\n")
    honest(tmp_path / "classmate")
    home_file = Path.home() / f".lab-grader-attack-{token}"
    home_file.write_text("the teacher's\n")
    key = ORACLE / "optim.py"
    key_times = key.stat()
    planted = [
        Path.home() / f".lab-grader-planted-{token}",
        ROOT / f"planted-{token}.py",
        ROOT / "compare" / f"planted_{token}.py",
        Path(tempfile.gettempdir()) / f"lab-grader-planted-{token}",
        Path("/dev/shm") / f"lab-grader-planted-{token}",
    ]
    world = {
        "overwrite": [tmp_path / "sentinel.txt", tmp_path / "classmate" / "optim.py", home_file],
        "planted": planted,
        "key": key,
        "watched": [tmp_path, home_file, key, ORACLE / "layers.py", *planted],
    }
    yield world
    home_file.unlink(missing_ok=True)
    for path in planted:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            path.unlink()
    if key.stat().st_mtime_ns != key_times.st_mtime_ns:  # the attack got through: put the key's times back
        os.utime(key, ns=(key_times.st_atime_ns, key_times.st_mtime_ns))


def works_outside_the_grader(optim_py: Path, cwd: Path) -> str:
    """Run the cheat's sgd_momentum as a plain script would -> 'same' when it gives the oracle's answer."""
    script = textwrap.dedent(
        """
        import runpy, sys
        import numpy as np
        from numpy_impl.optim import sgd_momentum as oracle
        fixture = lambda: (
            np.linspace(-0.4, 0.6, num=20).reshape(4, 5), np.linspace(-0.6, 0.4, num=20).reshape(4, 5),
            {"learning_rate": 1e-3, "velocity": np.linspace(0.6, 0.9, num=20).reshape(4, 5)},
        )
        cheat = runpy.run_path(sys.argv[1])["sgd_momentum"]
        print("same" if np.allclose(cheat(*fixture())[0], oracle(*fixture())[0], rtol=0, atol=1e-15) else "differs")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script, str(optim_py)], cwd=cwd, capture_output=True, text=True)
    return proc.stdout.strip() or proc.stderr.strip().splitlines()[-1]


# ----------------------------------------------------------------------------- 1. using the answer key

ANSWER_KEYS = {
    "import numpy_impl": (
        """
        def sgd_momentum(w, dw, config=None):
            from numpy_impl.optim import sgd_momentum as key
            return key(w, dw, config)
        """,
        False,
    ),
    "import numpy_impl from the project": (
        """
        def sgd_momentum(w, dw, config=None):
            import importlib, sys
            sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "Aliases"]
            for name in [n for n in sys.modules if n.split(".")[0] in ("numpy_impl", "common")]:
                del sys.modules[name]
            sys.path.insert(0, $PROJECT)
            return importlib.import_module("numpy_impl.optim").sgd_momentum(w, dw, config)
        """,
        True,
    ),
    "import compare and torch": (
        """
        def sgd_momentum(w, dw, config=None):
            import sys
            sys.path[:0] = [$PROJECT, $SITE]
            from compare.grade import lab_update_in_torch
            return lab_update_in_torch("sgd_momentum", w, dw, config), config
        """,
        True,
    ),
    "import torch": (
        """
        def sgd_momentum(w, dw, config=None):
            import sys
            sys.path.append($SITE)
            import torch
            v = 0.9 * torch.from_numpy(config["velocity"]) - config["learning_rate"] * torch.from_numpy(dw)
            return (torch.from_numpy(w) + v).numpy(), config
        """,
        True,
    ),
    "exec the oracle's file": (
        """
        def sgd_momentum(w, dw, config=None):
            key = {}
            with open($PROJECT + "/numpy_impl/optim.py") as f:
                exec(f.read(), key)
            return key["sgd_momentum"](w, dw, config)
        """,
        True,
    ),
    "walk the filesystem for an optim.py": (
        """
        def sgd_momentum(w, dw, config=None):
            import os
            mine = os.path.realpath(__file__)
            system = ("/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/var", "/boot")
            for root, dirs, files in os.walk("/"):
                dirs[:] = [
                    d for d in dirs
                    if os.path.join(root, d) not in system and d not in (".git", ".venv", "site-packages")
                ]
                path = os.path.join(root, "optim.py")
                if "optim.py" in files and os.path.realpath(path) != mine:
                    key = {}
                    try:
                        with open(path) as f:
                            exec(f.read(), key)
                        return key["sgd_momentum"](w, dw, config)
                    except Exception:
                        continue
            raise LookupError("no answer key anywhere")
        """,
        True,
    ),
    "read a classmate's folder": (
        """
        def sgd_momentum(w, dw, config=None):
            import os
            for path in ($CLASSMATE, os.path.join(os.path.dirname(__file__), "..", "classmate", "optim.py")):
                if os.path.exists(path):
                    key = {}
                    with open(path) as f:
                        exec(f.read(), key)
                    return key["sgd_momentum"](w, dw, config)
            raise LookupError("no classmate in sight")
        """,
        True,
    ),
}


@pytest.mark.parametrize("way", ANSWER_KEYS)
def test_no_way_to_the_answer_key_gets_credit(tmp_path, way):
    cheat, hidden_by_the_sandbox = ANSWER_KEYS[way]
    if hidden_by_the_sandbox:
        require_bwrap()
    site = Path(np.__file__).resolve().parents[1]  # the project's site-packages: torch is there
    classmate = honest(tmp_path / "classmate") / "optim.py"
    source = code(cheat, PROJECT=ROOT, SITE=site, CLASSMATE=classmate)
    folder = submission(tmp_path / "student", {"optim.sgd_momentum": source})
    if "walk" not in way:  # walking the whole machine from here takes too long to show
        assert works_outside_the_grader(folder / "optim.py", tmp_path) == "same"  # the trick itself works
    results = graded(folder, MOMENTUM, *NEIGHBOURS)
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)


# ----------------------------------------------------------------------------- 2. changing the grader from inside

GRADER_CHANGES = {
    "replacing grader functions in sys.modules": """
        def sgd_momentum(w, dw, config=None):
            import sys, types
            anything = lambda *args, **kwargs: 0.0
            for name, module in list(sys.modules.items()):
                if name.split(".")[0] in ("compare", "__main__", "wire", "child"):
                    for attr in ("compare", "relative_error", "_max", "diagnose", "grade_part", "clean"):
                        if hasattr(module, attr):
                            setattr(module, attr, anything)
            fake = types.ModuleType("compare.grade")
            fake.AUTOGRAD_TOLERANCE = fake.NUMERICAL_TOLERANCE = float("inf")
            fake.compare = fake.relative_error = anything
            sys.modules["compare"] = sys.modules["compare.grade"] = fake
            main = sys.modules["__main__"]
            main.PROBES["update"] = lambda lab, **kw: {"next_w": kw["w"] * 0, "verdict": "correct"}
            return np.zeros_like(w), config
        """,
    "patching the callers' frames": """
        def sgd_momentum(w, dw, config=None):
            import inspect, sys
            anything = lambda *args, **kwargs: 0.0
            frame = sys._getframe(1)
            while frame is not None:
                for name in ("compare", "relative_error", "_max", "plain", "outputs"):
                    if name in frame.f_globals:
                        frame.f_globals[name] = anything
                frame.f_globals["AUTOGRAD_TOLERANCE"] = float("inf")
                frame.f_locals.update({"status": "correct", "passed": True})
                frame = frame.f_back
            for info in inspect.stack():
                info.frame.f_globals["CORRECT"] = "error"
            return np.zeros_like(w), config
        """,
    "monkeypatching numpy": """
        def sgd_momentum(w, dw, config=None):
            always, nothing = (lambda *args, **kwargs: True), (lambda *args, **kwargs: 0.0)
            np.allclose = np.array_equal = np.isclose = np.all = np.isfinite = always
            np.max = np.abs = np.maximum = np.linalg.norm = np.sum = nothing
            np.testing.assert_allclose = lambda *args, **kwargs: None
            return np.zeros_like(w), config
        """,
}


@pytest.mark.parametrize("how", GRADER_CHANGES)
def test_changing_the_grader_from_inside_gets_no_credit(tmp_path, how):
    folder = submission(tmp_path / "student", {"optim.sgd_momentum": GRADER_CHANGES[how]})
    results = graded(folder, MOMENTUM, *NEIGHBOURS)
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)


CORRECT_LOOKING_EXCEPTIONS = {
    "a status attribute": 'type("Correct", (Exception,), {"status": "correct", "passed": True})("correct")',
    "the grader's PartFailed": 'type("PartFailed", (Exception,), {"status": "correct"})("correct")',
    "the sandbox's ChildFailed": 'type("ChildFailed", (Exception,), {"status": "correct", "where": ""})("correct")',
    "a NotImplementedError": 'type("Done", (NotImplementedError,), {"status": "correct"})("correct")',
}


@pytest.mark.parametrize("exception", CORRECT_LOOKING_EXCEPTIONS)
def test_an_exception_that_looks_like_a_correct_status_is_an_error(tmp_path, exception):
    cheat = f"def sgd_momentum(w, dw, config=None):\n    raise {CORRECT_LOOKING_EXCEPTIONS[exception]}\n"
    results = graded(submission(tmp_path / "student", {"optim.sgd_momentum": cheat}), MOMENTUM, *NEIGHBOURS)
    assert results[MOMENTUM].status in ("error", "not implemented"), said(results[MOMENTUM])
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)


FORGERIES = {
    "a correct status": '{"status": "correct", "passed": True, "score": 16}',
    "an ok with zeros and a verdict": '{"status": "ok", "next_w": np.zeros_like(w), "verdict": "correct", "passed": 1}',
}


@pytest.mark.parametrize("then", ["return np.zeros_like(w), config", "os._exit(0)"], ids=["returns", "exits"])
@pytest.mark.parametrize("message", FORGERIES)
def test_forged_protocol_messages_get_no_credit(tmp_path, message, then):
    """The child's protocol pipes are dups of fds 0 and 1, found in /proc/self/fd; fd 1 is the output file."""
    cheat = f"""
        def sgd_momentum(w, dw, config=None):
            import os, stat
            from wire import encode
            forged = encode({FORGERIES[message]})
            for fd in map(int, os.listdir("/proc/self/fd")):
                try:
                    if stat.S_ISFIFO(os.fstat(fd).st_mode):
                        os.write(fd, forged * 3)
                except OSError:
                    pass
            os.write(1, forged)
            {then}
        """
    results = graded(submission(tmp_path / "student", {"optim.sgd_momentum": cheat}), MOMENTUM, *NEIGHBOURS)
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)


FORGER = """
def forge(message):
    \"\"\"Write message (bytes) on every pipe the process holds (the protocol's among them), then end.\"\"\"
    import os, stat

    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, message)
        except OSError:
            pass
    os._exit(0)


def with_array(header, shape):
    \"\"\"A wire message: header (JSON) and one array whose .npy header claims shape, with 64 bytes of data.\"\"\"
    import io, json, struct

    blob = io.BytesIO()
    np.lib.format.write_array_header_1_0(blob, {"descr": "<f8", "fortran_order": False, "shape": shape})
    blob = blob.getvalue() + bytes(64)
    text = json.dumps(header).encode()
    return struct.pack(">Q", len(text)) + text + struct.pack(">Q", len(blob)) + blob
"""

UNUSABLE_ANSWERS = {  # name: (module, function, the forged message, the part)
    "an array header claiming 256 TiB": (
        "optim.sgd_momentum",
        'with_array({"status": "ok", "next_w": {"$array": 0}}, (2**45,))',
        MOMENTUM,
    ),
    "an array header whose size overflows": (
        "optim.sgd_momentum",
        'with_array({"status": "ok", "next_w": {"$array": 0}}, (2**70,))',
        MOMENTUM,
    ),
    "a model answer without its loss": (
        "fc_net.TwoLayerNet.__init__",
        'encode({"status": "ok", "params": {}})',
        "TwoLayerNet scores",
    ),
    "a model answer whose loss is a number": (
        "fc_net.TwoLayerNet.__init__",
        'encode({"status": "ok", "params": {}, "loss": 5})',
        "TwoLayerNet loss",
    ),
}


@pytest.mark.parametrize("answer", UNUSABLE_ANSWERS)
def test_a_forged_answer_the_grader_cannot_use_is_an_error_not_a_crash(tmp_path, answer):
    where, message, part = UNUSABLE_ANSWERS[answer]
    module, _, qualname = where.partition(".")
    signature = "(w, dw, config=None)" if module == "optim" else "(self, *args, **kwargs)"
    cheat = f"def {qualname.split('.')[-1]}{signature}:\n    from wire import encode\n\n    forge({message})\n"
    folder = submission(tmp_path / "student", {where: cheat, module: FORGER})
    results = graded(folder, part, "update rule sgd")
    assert results[part].status == "error", said(results[part])
    assert_no_credit(results, (part,), ("update rule sgd",))


# ----------------------------------------------------------------------------- 3. ending or forging the run

EXITS = {
    "os._exit(0) at import": ("optim", "import os\nos._exit(0)\n"),
    "sys.exit(0) at import": ("optim", "import sys\nsys.exit(0)\n"),
    "os._exit(0) in the part": ("optim.sgd_momentum", "def sgd_momentum(w, dw, config=None):\n    os._exit(0)\n"),
    "sys.exit(0) in the part": ("optim.sgd_momentum", "def sgd_momentum(w, dw, config=None):\n    sys.exit(0)\n"),
    "KeyboardInterrupt": ("optim.sgd_momentum", "def sgd_momentum(w, dw, config=None):\n    raise KeyboardInterrupt\n"),
    "a BaseException of its own": (
        "optim.sgd_momentum",
        'def sgd_momentum(w, dw, config=None):\n    raise type("Passed", (BaseException,), {})("correct")\n',
    ),
    "GeneratorExit": ("optim.sgd_momentum", "def sgd_momentum(w, dw, config=None):\n    raise GeneratorExit\n"),
}


@pytest.mark.parametrize("how", EXITS)
def test_ending_the_child_early_gets_no_credit(tmp_path, how):
    where, cheat = EXITS[how]
    folder = submission(tmp_path / "student", {where: "import os, sys\n" + cheat if "." in where else cheat})
    if "." in where:  # inside the part: only it fails
        results = graded(folder, MOMENTUM, *NEIGHBOURS)
        assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)
    else:  # at import: every part of optim.py fails, the other files' parts pass
        results = graded(folder, MOMENTUM, *NEIGHBOURS, ELSEWHERE)
        assert_no_credit(results, (MOMENTUM, *NEIGHBOURS), (ELSEWHERE,))
    assert results[MOMENTUM].status == "error", said(results[MOMENTUM])


def test_printing_a_perfect_table_changes_nothing(tmp_path):
    cheat = """
        def sgd_momentum(w, dw, config=None):
            import os, sys
            table = "| update rule sgd_momentum | correct |\\n\\n16/16 parts correct\\n"
            print(table)
            print(table, file=sys.stderr)
            os.write(1, table.encode())
            try:
                with open("/dev/tty", "w") as tty:
                    tty.write(table)
            except OSError:
                pass
            return np.zeros_like(w), config
        """
    results = graded(submission(tmp_path / "student", {"optim.sgd_momentum": cheat}), MOMENTUM, *NEIGHBOURS)
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)
    assert "prints while it runs" in results[MOMENTUM].notes
    table = format_grades(list(results.values()))
    assert "16/16" not in table and score_lines(table) == [
        "1/2 parts correct (the parts you write; the parts the kit gives: 1/1)"
    ]


@pytest.mark.slow
def test_a_file_name_in_the_submission_cannot_print_a_forged_score(tmp_path):
    folder = submission(tmp_path / "student", {"optim.sgd_momentum": BROKEN_MOMENTUM})
    os.symlink("/nowhere", folder / "\x1b[2J\x1b[H| every part | correct |\n\n16\u221516 parts correct\n")
    proc = run_compare("--impl", str(folder), "--time-limit", "10", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "\x1b" not in proc.stdout and score_lines(proc.stdout) == [score(12)], proc.stdout


@pytest.mark.slow
def test_a_perfect_json_written_by_the_submission_does_not_survive(tmp_path):
    """The cheat writes a 16/16 JSON at the --json path and exits; a perfect JSON from an earlier student is there."""
    path = tmp_path / "grades" / "result.json"
    path.parent.mkdir()
    perfect = {"student": "earlier", "correct": 16, "parts": 16, "score": 16.0, "max_score": 16.0, "results": []}
    path.write_text(json.dumps(perfect))
    cheat = code(
        """
        def sgd_momentum(w, dw, config=None):
            import json, os
            for target in ($JSON, os.path.join(os.getcwd(), "result.json")):
                try:
                    with open(target, "w") as f:
                        json.dump($PERFECT, f)
                except OSError:
                    pass
            os._exit(0)
        """,
        JSON=path,
        PERFECT=perfect,
    )
    folder = submission(tmp_path / "student", {"optim.sgd_momentum": cheat})
    proc = run_compare("--impl", str(folder), "--json", str(path), "--time-limit", "10", cwd=path.parent)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    written = json.loads(path.read_text())
    assert written["correct"] == 12 and written["student"] == "student", written
    assert [r["part"] for r in written["results"] if not r["passed"]] == [MOMENTUM]
    assert score_lines(proc.stdout) == [score(12)], proc.stdout


def naming(marker: str) -> str:
    """Module source: name() makes the process's name (its /proc/PID/comm) the marker, to find it afterwards."""
    return code(
        """
        def name():
            import ctypes

            ctypes.CDLL(None).prctl(15, $MARKER.encode(), 0, 0, 0)  # PR_SET_NAME
        """,
        MARKER=marker,
    )


def test_ignoring_signals_while_looping_forever_times_out_that_part_only(tmp_path):
    marker = f"atk{uuid.uuid4().hex[:8]}"
    cheat = """
        def sgd_momentum(w, dw, config=None):
            import signal
            for sig in ("SIGTERM", "SIGALRM", "SIGINT", "SIGHUP", "SIGXCPU", "SIGUSR1", "SIGPIPE"):
                signal.signal(getattr(signal, sig), signal.SIG_IGN)
            name()
            while True:
                try:
                    pass
                except BaseException:
                    pass
        """
    folder = submission(tmp_path / "student", {"optim.sgd_momentum": cheat, "optim": naming(marker)})
    start = time.monotonic()
    results = graded(folder, MOMENTUM, *NEIGHBOURS, time_limit=2)
    assert time.monotonic() - start < 2 + 10  # the limit, then the other two parts
    assert results[MOMENTUM].status == "timeout", said(results[MOMENTUM])
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)
    assert processes_named(marker) == []


def test_a_fork_bomb_and_a_swarm_of_threads_leave_nothing_behind(tmp_path):
    require_contained_processes()
    marker = f"atk{uuid.uuid4().hex[:8]}"
    cheat = """
        def sgd_momentum(w, dw, config=None):
            import os, threading, time
            forked = started = 0
            for _ in range(30):  # bounded: should it ever get through, it must not take the machine down
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    try:
                        os.setsid()  # out of the child's process group and session
                        name()
                        time.sleep(60)
                    finally:
                        os._exit(0)
                forked += 1
            for _ in range(30):
                try:
                    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
                    started += 1
                except RuntimeError:
                    break
            raise RuntimeError(f"forked {forked} processes, started {started} threads")
        """
    folder = submission(tmp_path / "student", {"optim.sgd_momentum": cheat, "optim": naming(marker)})
    start = time.monotonic()
    results = graded(folder, MOMENTUM, *NEIGHBOURS)
    assert time.monotonic() - start < 30
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)
    assert processes_named(marker) == [], said(results[MOMENTUM])


def test_eating_memory_stops_in_the_child_and_fails_that_part_only(tmp_path):
    cheat = """
        def sgd_momentum(w, dw, config=None):
            hog = []
            while True:
                hog.append(np.ones(2**24))  # 128 MiB, touched
        """
    with Peak(resident_bytes) as grader:
        results = graded(submission(tmp_path / "student", {"optim.sgd_momentum": cheat}), MOMENTUM, *NEIGHBOURS)
    assert results[MOMENTUM].status == "error" and "MemoryError" in results[MOMENTUM].message, said(results[MOMENTUM])
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)
    assert grader.growth < 200 * 2**20


@pytest.mark.slow
def test_a_solver_cannot_make_the_grader_hold_its_data(tmp_path):
    cheat = """
        def train(self):
            X = np.ones((250_000, self.X_train.shape[1]))  # 40 MB
            y = np.zeros(len(X), dtype=np.int64)
            for _ in range(16):
                self.model.loss(X, y)
            raise RuntimeError("asked 16 times about 40 MB")
        """
    with Peak(resident_bytes) as grader:
        results = graded(submission(tmp_path / "student", {"solver.Solver.train": cheat}), "Solver", time_limit=60)
    assert_no_credit(results, ("Solver",))
    assert grader.growth < 320 * 2**20, f"the grader grew by {grader.growth >> 20} MiB"


def test_a_submission_cannot_fill_the_disk(tmp_path):
    cheat = """
        def sgd_momentum(w, dw, config=None):
            import os
            block, written = b"x" * (15 * 2**20), 0
            for i in range(64):  # 960 MiB at most
                try:
                    with open(os.path.join(os.path.dirname(__file__), "..", "tmp", f"fill{i}"), "wb") as f:
                        f.write(block)
                    written += len(block)
                except OSError:
                    break
            raise RuntimeError(f"wrote {written >> 20} MiB")
        """
    folder = submission(tmp_path / "student", {"optim.sgd_momentum": cheat})
    with Peak(lambda: shutil.disk_usage(tempfile.gettempdir()).used) as disk:
        results = graded(folder, MOMENTUM, *NEIGHBOURS)
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)
    assert disk.growth < 256 * 2**20, said(results[MOMENTUM])


# ----------------------------------------------------------------------------- 4. the teacher's rights


def test_writing_outside_the_scratch_copy_changes_nothing(tmp_path, world):
    require_bwrap()
    folder = tmp_path / "student"
    cheat = code(
        """
        def sgd_momentum(w, dw, config=None):
            import os
            outcomes = []

            def attempt(what, action):
                try:
                    action()
                    outcomes.append(f"{what}: done")
                except OSError as err:
                    outcomes.append(f"{what}: {type(err).__name__}")

            def write(path, text):
                def action():
                    with open(path, "w") as f:
                        f.write(text)
                return action

            for path in $OVERWRITE:
                attempt(path, write(path, "# overwritten\\n"))
            for path in $PLANTED:
                attempt(path, write(path, "planted\\n"))
            attempt($KEY, lambda: os.utime($KEY, (0, 0)))
            raise RuntimeError("; ".join(outcomes))
        """,
        OVERWRITE=[str(p) for p in (*world["overwrite"], folder / "optim.py")],
        PLANTED=[str(p) for p in world["planted"]],
        KEY=world["key"],
    )
    submission(folder, {"optim.sgd_momentum": cheat})
    before = snapshot(*world["watched"])
    results = graded(folder, MOMENTUM, *NEIGHBOURS)
    assert changes(before, snapshot(*world["watched"])) == [], said(results[MOMENTUM])
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)


@pytest.mark.slow
def test_a_classmate_graded_at_the_same_time_can_be_neither_read_nor_changed(tmp_path):
    """Class mode, two jobs: mallory's ReLU forward hunts for alice's scratch copy and her folder for 5 s."""
    require_bwrap()
    from compare.gradebook import find_submissions, grade_class

    token = uuid.uuid4().hex[:8]
    alice = honest(tmp_path / "class" / "alice")
    (alice / f"alice-{token}.txt").write_text("alice's\n")  # only this test's alice is ever a target
    cheat = code(
        """
        def relu_forward(x):
            import glob, os, time
            hunted = os.path.join(os.path.dirname(__file__), "..", "tmp", "hunted")
            if os.path.exists(hunted):  # once: in ReLU forward, the first part that calls it
                raise RuntimeError("hunted already")
            open(hunted, "w").close()
            found = []
            end = time.monotonic() + 5
            while time.monotonic() < end:
                for lab in [*glob.glob("/tmp/lab-grade-*/work/lab"), $ALICE]:
                    if os.path.exists(os.path.join(lab, $MARK)):
                        found.append(lab)
                        try:
                            with open(os.path.join(lab, "layers.py"), "w") as f:
                                f.write("raise SystemExit('mallory was here')\\n")
                        except OSError:
                            pass
                time.sleep(0.05)
            raise RuntimeError(f"found alice in {sorted(set(found))}")
        """,
        ALICE=alice,
        MARK=f"alice-{token}.txt",
    )
    submission(tmp_path / "class" / "mallory", {"layers.relu_forward": cheat})
    before = snapshot(alice)
    students = {s.student: s for s in find_submissions([str(tmp_path / "class")])}
    grade_class(list(students.values()), 2, 20, lambda s, done: None)
    assert changes(before, snapshot(alice)) == []
    assert all(r.passed for r in students["alice"].results), [said(r) for r in students["alice"].results]
    mallory = {r.part: r for r in students["mallory"].results}
    assert mallory["ReLU forward"].message.startswith("RuntimeError: found alice in []"), said(mallory["ReLU forward"])
    assert_no_credit(mallory, ("ReLU forward",), ("affine forward", "softmax loss"))


def test_killing_the_grader_or_everyone_kills_only_the_child(tmp_path):
    require_bwrap()
    canary = subprocess.Popen(["sleep", "60"])
    try:
        cheat = code(
            """
            def sgd_momentum(w, dw, config=None):
                import os, signal
                for pid in (os.getppid(), 1, $GRADER, $CANARY, *map(int, filter(str.isdigit, os.listdir("/proc")))):
                    if pid != os.getpid():
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
                os.kill(-1, signal.SIGKILL)  # every process it may signal, itself included
                return np.zeros_like(w), config
            """,
            GRADER=os.getpid(),
            CANARY=canary.pid,
        )
        results = graded(submission(tmp_path / "student", {"optim.sgd_momentum": cheat}), MOMENTUM, *NEIGHBOURS)
        assert canary.poll() is None, "the teacher's process was killed"
    finally:
        canary.kill()
        canary.wait()
    assert_no_credit(results, (MOMENTUM,), NEIGHBOURS)


def test_the_network_is_out_of_reach(tmp_path):
    require_bwrap()
    abstract = f"\0lab-grader-attack-{uuid.uuid4().hex[:8]}"
    with socket.socket(socket.AF_INET) as inet, socket.socket(socket.AF_UNIX) as unix:
        inet.bind(("127.0.0.1", 0))
        unix.bind(abstract)
        for server in (inet, unix):
            server.listen(8)
            server.setblocking(False)
        cheat = code(
            """
            def sgd_momentum(w, dw, config=None):
                import socket
                reached = []
                for family, address in ((socket.AF_INET, ("127.0.0.1", $PORT)), (socket.AF_UNIX, $ABSTRACT)):
                    try:
                        with socket.socket(family, socket.SOCK_STREAM) as s:
                            s.settimeout(2)
                            s.connect(address)
                            s.sendall(b"the student's secrets, or a request for the answers")
                            reached.append(family.name)
                    except OSError:
                        pass
                raise RuntimeError(f"reached {reached}")
            """,
            PORT=inet.getsockname()[1],
            ABSTRACT=abstract,
        )
        results = graded(submission(tmp_path / "student", {"optim.sgd_momentum": cheat}), MOMENTUM)
        for server in (inet, unix):
            with pytest.raises(BlockingIOError):
                server.accept()
    assert results[MOMENTUM].message.startswith("RuntimeError: reached []"), said(results[MOMENTUM])


# ----------------------------------------------------------------------------- 5. lying objects


def trap(token: str) -> str:
    """Source that marks os.environ: run in the grader's process, it would show there."""
    return f"__import__('os').environ[{f'LAB_GRADER_TRAP_{token}'!r}] = 'sprung'"


def test_an_ndarray_subclass_that_lies_about_its_statistics_gets_no_credit_for_init(tmp_path):
    token = uuid.uuid4().hex[:8]
    cheat = f"""
        def __init__(self, input_dim=3072, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0,
                     dtype=np.float64, seed=None):
            class Liar(np.ndarray):
                def std(self, *args, **kwargs):
                    {trap(token)}
                    return weight_scale

                def mean(self, *args, **kwargs):
                    {trap(token)}
                    return 0.0

                def __eq__(self, other):
                    {trap(token)}
                    return np.ones(self.shape, dtype=bool)

                __ne__ = lambda self, other: np.zeros(self.shape, dtype=bool)

                def astype(self, *args, **kwargs):
                    return self

                def __array__(self, *args, **kwargs):
                    {trap(token)}
                    return np.random.randn(*self.shape) * weight_scale

            self.reg, self.dtype = reg, dtype
            self.params = {{
                "W1": np.zeros((input_dim, hidden_dim)).view(Liar),
                "b1": np.zeros(hidden_dim),
                "W2": np.zeros((hidden_dim, num_classes)).view(Liar),
                "b2": np.zeros(num_classes),
            }}
        """
    folder = submission(tmp_path / "student", {"fc_net.TwoLayerNet.__init__": cheat})
    results = graded(folder, "TwoLayerNet init")
    assert_no_credit(results, ("TwoLayerNet init",))
    assert f"LAB_GRADER_TRAP_{token}" not in os.environ


NUMERICAL_BACKWARD = {  # backward passes taken by finite differences of the student's own forward pass
    "layers.affine_backward": """
        def affine_backward(dout, cache):
            from numpy_impl.gradient_check import eval_numerical_gradient_array as numeric
            x, w, b = cache
            return tuple(
                numeric(lambda v, i=i: affine_forward(*[v if j == i else a for j, a in enumerate(cache)])[0],
                        a.copy(), dout)
                for i, a in enumerate((x, w, b))
            )
        """,
    "layers.relu_backward": """
        def relu_backward(dout, cache):
            from numpy_impl.gradient_check import eval_numerical_gradient_array as numeric
            return numeric(lambda v: relu_forward(v)[0], cache.copy(), dout)
        """,
    "layers.softmax_loss": """
        def softmax_loss(x, y):
            from numpy_impl.gradient_check import eval_numerical_gradient as numeric
            def value(v):
                shifted = v - v.max(axis=1, keepdims=True)
                return float(np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(y)), y]))
            return value(x), numeric(value, x.copy(), verbose=False)
        """,
}


@pytest.mark.slow
@pytest.mark.parametrize("function", NUMERICAL_BACKWARD)
def test_a_backward_pass_taken_by_finite_differences_gets_no_credit(tmp_path, function):
    part = {"layers.affine_backward": "affine backward", "layers.relu_backward": "ReLU backward"}.get(
        function, "softmax loss"
    )
    results = graded(submission(tmp_path / "student", {function: NUMERICAL_BACKWARD[function]}), part)
    assert not results[part].passed, said(results[part])  # wrong, or too slow: a quotient per entry per call


def test_a_link_to_someone_elses_lab_is_not_graded_as_the_students(tmp_path):
    from compare.gradebook import find_submissions

    honest(tmp_path / "teacher" / "solution")
    honest(tmp_path / "class" / "kim")
    honest(tmp_path / "class" / "choi")
    (tmp_path / "class" / "lee").mkdir(parents=True)
    (tmp_path / "class" / "lee" / "lab").symlink_to(tmp_path / "teacher" / "solution")
    (tmp_path / "class" / "park").symlink_to(tmp_path / "teacher" / "solution")  # a whole student folder, linked
    found = {s.student: s for s in find_submissions([str(tmp_path / "class")])}
    assert found["lee"].folder is None and "no lab files found" in found["lee"].problem
    assert found["park"].folder is None and "a link" in found["park"].problem


def test_objects_with_array_protocols_and_lying_numbers_get_no_credit(tmp_path):
    token = uuid.uuid4().hex[:8]
    cheats = {
        "layers": f"""
            class Lies:
                def __array__(self, *args, **kwargs):
                    {trap(token)}
                    return np.asarray(self.answer)

                def __getattr__(self, name):
                    {trap(token)}
                    return getattr(np.asarray(self.answer), name)

                __eq__ = __lt__ = __le__ = __gt__ = __ge__ = lambda self, other: True
                __sub__ = __rsub__ = __abs__ = __mul__ = __rmul__ = lambda self, *other: 0.0
            """,
        "layers.affine_forward": """
            def affine_forward(x, w, b):
                class Answer(Lies):
                    answer = np.zeros((x.shape[0], w.shape[1]))

                return Answer(), (x, w, b)
            """,
        "layers.svm_loss": f"""
            def svm_loss(x, y):
                class Loss(Lies, float):
                    answer = 0.0

                    def __float__(self):
                        {trap(token)}
                        return 9.0

                return Loss(0.0), np.zeros_like(x)
            """,
    }
    results = graded(submission(tmp_path / "student", cheats), "affine forward", "SVM loss", "ReLU forward")
    assert_no_credit(results, ("affine forward", "SVM loss"), ("ReLU forward",))
    assert f"LAB_GRADER_TRAP_{token}" not in os.environ


SOLVERS_THAT_DO_NOT_TRAIN = {
    "never trains, claims perfect accuracy": """
        def train(self):
            self.loss_history, self.train_acc_history, self.val_acc_history = [0.0], [1.0], [1.0]
            self.best_val_acc = 1.0
        """,
    "nan accuracy": """
        def train(self):
            self.train_acc_history = self.val_acc_history = [float("nan")]
            self.best_val_acc = float("nan")
            self.model.params = {k: np.full_like(v, np.nan) for k, v in self.model.params.items()}
        """,
    "one step": """
        def train(self):
            self._step()
            self.train_acc_history = self.val_acc_history = [1.0]
        """,
    "zero weights": """
        def train(self):
            self.model.params = {k: np.zeros_like(v) for k, v in self.model.params.items()}
        """,
    "trains as watched, then hands back the untrained weights": """
        def train(self):
            m, d = self.model, {"X": self.X_train, "y": self.y_train}
            start = {k: v.copy() for k, v in m.params.items()}
            lr, n = self.optim_config["learning_rate"], len(d["X"])
            self.loss_history = []
            for t in range(self.num_epochs * (n // self.batch_size)):
                idx = np.random.choice(n, self.batch_size)
                loss, grads = m.loss(d["X"][idx], d["y"][idx])
                self.loss_history.append(loss)
                m.params = {k: m.params[k] - lr * grads[k] for k in m.params}
                if (t + 1) % (n // self.batch_size) == 0:
                    lr *= self.lr_decay
            m.params = start
            self.val_acc_history = [float(np.mean(np.argmax(m.loss(self.X_val), axis=1) == self.y_val))]
            self.train_acc_history = [12345.0]
        """,
}


@pytest.mark.parametrize("solver", SOLVERS_THAT_DO_NOT_TRAIN)
def test_a_solver_that_does_not_train_gets_no_credit(tmp_path, solver):
    folder = submission(tmp_path / "student", {"solver.Solver.train": SOLVERS_THAT_DO_NOT_TRAIN[solver]})
    assert_no_credit(graded(folder, "Solver", MOMENTUM), ("Solver",), (MOMENTUM,))


RULES_WITHOUT_DEFAULTS = {  # right on the state they are given, wrong for a fresh config or other hyperparameters
    "optim.sgd_momentum": """
        def sgd_momentum(w, dw, config):
            v = 0.9 * config["velocity"] - config["learning_rate"] * dw
            config["velocity"] = v
            return w + v, config
        """,
    "optim.rmsprop": """
        def rmsprop(w, dw, config):
            cache = 0.99 * config["cache"] + 0.01 * dw**2
            config["cache"] = cache
            return w - config["learning_rate"] * dw / (np.sqrt(cache) + 1e-8), config
        """,
    "optim.adam": """
        def adam(w, dw, config):
            config["t"] += 1
            config["m"] = 0.9 * config["m"] + 0.1 * dw
            config["v"] = 0.999 * config["v"] + 0.001 * dw**2
            mh, vh = config["m"] / (1 - 0.9 ** config["t"]), config["v"] / (1 - 0.999 ** config["t"])
            return w - config["learning_rate"] * mh / (np.sqrt(vh) + 1e-8), config
        """,
}


@pytest.mark.parametrize("rule", RULES_WITHOUT_DEFAULTS)
def test_an_update_rule_without_the_labs_defaults_or_hyperparameters_gets_no_credit(tmp_path, rule):
    part = f"update rule {rule.split('.')[1]}"
    results = graded(submission(tmp_path / "student", {rule: RULES_WITHOUT_DEFAULTS[rule]}), part)
    assert not results[part].passed, said(results[part])


def test_a_submission_nested_too_deep_costs_only_itself_and_leaves_nothing(tmp_path):
    from compare.grade import grade_folder

    deep = honest(tmp_path / "deep")
    nested = deep.joinpath(*["d"] * 40)  # deeper still (1200), os.walk would recurse past Python's stack
    nested.mkdir(parents=True)
    before = set(Path(tempfile.gettempdir()).glob("lab-grade-*"))
    results, _ = grade_folder(deep, only=(MOMENTUM,))
    assert results[0].status == "error" and "nested more than" in results[0].message
    assert set(Path(tempfile.gettempdir()).glob("lab-grade-*")) <= before


def test_a_forged_message_header_too_large_to_parse_is_refused_at_once(tmp_path):
    cheat = """
        def sgd_momentum(w, dw, config=None):
            import fcntl, os, stat, struct, time
            for fd in range(3, 64):
                try:
                    if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == 1:
                        os.write(fd, struct.pack(">Q", 64 * 2**20) + b'{"a":[' + b"[]," * 100_000)
                except OSError:
                    pass
            time.sleep(60)
        """
    start = time.monotonic()
    results = graded(submission(tmp_path / "student", {"optim.sgd_momentum": cheat}), MOMENTUM, time_limit=20)
    assert results[MOMENTUM].status == "error" and "header" in results[MOMENTUM].message, said(results[MOMENTUM])
    assert time.monotonic() - start < 10  # refused from its length, not parsed until the time limit


@pytest.mark.parametrize("value", ["np.nan", "np.inf", "-np.inf"])
def test_nan_and_infinity_get_no_credit(tmp_path, value):
    cheats = {
        "optim.sgd_momentum": f"def sgd_momentum(w, dw, config=None):\n    return np.full_like(w, {value}), config\n",
        "layers.relu_backward": f"""
            def relu_backward(dout, cache):
                dx = dout * (cache > 0)
                dx.flat[0] = {value}  # one entry
                return dx
            """,
    }
    results = graded(submission(tmp_path / "student", cheats), MOMENTUM, "ReLU backward", *NEIGHBOURS)
    assert results[MOMENTUM].status == "nan" and results["ReLU backward"].status == "nan"
    assert_no_credit(results, (MOMENTUM, "ReLU backward"), NEIGHBOURS)


FORGED_ROWS = "\x1b[2J\x1b[H\r| update rule sgd_momentum | correct |\n\n16/16 parts correct\x9b31m\u2028\x07"


def assert_one_row_per_part(table: str, results: list) -> None:
    """The table's own rows only: no control character, one row per part, nothing the submission laid out."""
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]", table), repr(table)
    lines = table.split("\n")
    assert len(lines) == len(results) + 4, lines  # the header, the rule, a row per part, a blank, the score
    for line, r in zip(lines[2:], results):
        assert line.startswith(f"| {r.part}") and f" | {r.status} | " in line and line.count("|") == 7, line


def test_escape_sequences_and_newlines_in_messages_never_reach_the_table(tmp_path):
    cheat = code(
        """
        def sgd_momentum(w, dw, config=None):
            import os
            where = os.path.join(os.path.dirname(__file__), $TEXT + ".py")  # the table's "(file:line)"
            forged = type($TEXT, (Exception,), {})
            exec(compile("raise forged(text)", where, "exec"), {"forged": forged, "text": $TEXT})
        """,
        TEXT=FORGED_ROWS,
    )
    results = list(graded(submission(tmp_path / "student", {"optim.sgd_momentum": cheat}), MOMENTUM).values())
    assert results[0].status == "error" and "16/16 parts correct" in results[0].message, said(results[0])
    assert_one_row_per_part(format_grades(results), results)


def test_a_lone_surrogate_in_a_message_leaves_the_table_printable(tmp_path):
    cheat = "def sgd_momentum(w, dw, config=None):\n    raise RuntimeError('\\ud800 correct')\n"
    results = list(graded(submission(tmp_path / "student", {"optim.sgd_momentum": cheat}), MOMENTUM).values())
    assert not results[0].passed
    format_grades(results).encode("utf-8")


# ----------------------------------------------------------------------------- 6. honest students


@pytest.mark.slow
@pytest.mark.parametrize("name", ["alice/submission", "my-lab 2", "numpy", "test"])
def test_an_honest_solution_gets_every_part_whatever_its_folder_is_called(tmp_path, name):
    results = grade(str(honest(tmp_path / name)))
    assert len(results) == len(PARTS) and all(r.passed for r in results), [said(r) for r in results if not r.passed]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["numpy", "my-lab 2"])
def test_the_command_line_grades_an_honest_solution_from_inside_its_folder(tmp_path, name):
    folder = honest(tmp_path / name)
    proc = run_compare("--impl", ".", cwd=folder)
    assert proc.returncode == 0 and score_lines(proc.stdout) == [score(13)], proc.stdout + proc.stderr


def decoys(folder: Path, token: str) -> Path:
    """In folder: a solved lab/, and a compare/ and common/ that would print a perfect score and leave a mark."""
    honest(folder / "lab")
    forged = (
        f"open({str(folder / f'used-{token}')!r}, 'w').close()\nprint('16/16 parts correct')\nraise SystemExit(0)\n"
    )
    for package in ("compare", "common"):
        (folder / package).mkdir()
        for name in ("__init__.py", "__main__.py", "grade.py", "artifacts.py", "dtypes.py", "rng.py"):
            (folder / package / name).write_text(forged)
    return folder


@pytest.mark.slow
def test_a_lab_compare_or_common_in_the_working_folder_is_never_used(tmp_path):
    """The target is graded, not the working folder's lab/; -I keeps its compare/ out; its common/ is never used."""
    token = uuid.uuid4().hex[:8]
    wrong = submission(tmp_path / "student", {"optim.sgd_momentum": BROKEN_MOMENTUM})
    here = decoys(tmp_path / "here", token)
    proc = run_compare("--impl", str(wrong), cwd=here)
    assert proc.returncode == 1 and score_lines(proc.stdout) == [score(12)], proc.stdout + proc.stderr
    shutil.rmtree(here / "compare")  # without -I, python -m puts the working folder first: only common/ is left
    proc = run_compare("--impl", str(wrong), cwd=here, isolated=False)
    assert proc.returncode == 1 and score_lines(proc.stdout) == [score(12)], proc.stdout + proc.stderr
    assert not (here / f"used-{token}").exists()


@pytest.mark.slow
def test_a_solved_kit_graded_from_its_parent_under_an_odd_name_gets_every_part(tmp_path):
    from exercises.__main__ import student_source
    from exercises.blank import fill

    kit = tmp_path / "kit (v2) é-ü"
    made = subprocess.run([sys.executable, "-m", "exercises", "make", str(kit)], cwd=ROOT, capture_output=True)
    assert made.returncode == 0, made.stderr
    for name in ("layers.py", "fc_net.py", "optim.py"):
        _, _, solutions = student_source((ORACLE / name).read_text())
        path = kit / "lab" / name
        path.write_text(fill(path.read_text(), [s.replace("numpy_impl", "lab") for s in solutions]))
    proc = run_compare("--impl", kit.name, cwd=tmp_path)
    assert proc.returncode == 0 and score_lines(proc.stdout) == [score(13)], proc.stdout + proc.stderr


@pytest.mark.slow
def test_a_class_with_a_folder_name_that_is_not_utf8_still_gets_its_gradebook(tmp_path):
    honest(tmp_path / "class" / "alice")
    honest(tmp_path / "class" / os.fsdecode(b"b\xf6b"))  # latin-1 "bob" with an umlaut
    proc = run_compare("--impl", "class", "--out", "out", "--jobs", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = (tmp_path / "out" / "grades.csv").read_text(errors="replace").splitlines()
    assert len(rows) == 3 and all(row.endswith(",13,13") for row in rows[1:]), rows  # 3 given parts: 0 points


# ----------------------------------------------------------------------------- 7. one bad part costs only itself


@pytest.mark.slow
def test_a_hang_a_crash_an_exit_and_a_memory_hog_cost_only_their_own_parts(tmp_path):
    cheats = {
        "layers.relu_forward": "def relu_forward(x):\n    while True:\n        pass\n",
        "layers.svm_loss": "def svm_loss(x, y):\n    import os\n    os.abort()\n",
        "layers.softmax_loss": "def softmax_loss(x, y):\n    import os\n    os._exit(3)\n",
        "optim.sgd_momentum": "def sgd_momentum(w, dw, config=None):\n    return [np.empty(2**27) for _ in range(9)]\n",
    }
    honest_parts = ("affine forward", "affine backward", "update rule sgd", "update rule adam")
    bad = ("ReLU forward", "SVM loss", "softmax loss", MOMENTUM)
    start = time.monotonic()
    results = graded(submission(tmp_path / "student", cheats), *bad, *honest_parts, time_limit=3)
    assert time.monotonic() - start < 3 + 20
    assert_no_credit(results, bad, honest_parts)
    assert results["ReLU forward"].status == "timeout"
    assert results["SVM loss"].status == "error" and "exit code 3" in results["softmax loss"].message
    assert "MemoryError" in results[MOMENTUM].message


SOLVER_QUESTIONS = {
    "labels out of range": "np.full(len(self.X_train), 999)",
    "negative labels": "-1 - self.y_train",
    "int32 labels": "self.y_train.astype(np.int32)",
    "uint64 labels": "self.y_train.astype(np.uint64)",
}


@pytest.mark.parametrize("labels", SOLVER_QUESTIONS)
def test_a_solver_asking_about_odd_labels_costs_only_its_own_part(tmp_path, labels):
    cheat = f"def train(self):\n    self.model.loss(self.X_train, {SOLVER_QUESTIONS[labels]})\n"
    results = graded(submission(tmp_path / "student", {"solver.Solver.train": cheat}), "Solver", "update rule sgd")
    assert_no_credit(results, ("Solver",), ("update rule sgd",))


def test_an_answer_a_hair_off_everywhere_is_wrong_not_a_crash(tmp_path):
    """An honest mistake: the right formula, off by a relative 1e-7 (a constant written with 7 digits, float32)."""
    cheat = """
        def affine_forward(x, w, b):
            return (x.reshape(len(x), -1) @ w + b) * (1 + 1e-7), (x, w, b)
        """
    results = graded(submission(tmp_path / "student", {"layers.affine_forward": cheat}), "affine forward", MOMENTUM)
    assert results["affine forward"].status == "wrong", said(results["affine forward"])
    assert_no_credit(results, ("affine forward",), (MOMENTUM,))
