"""Run a submission's code apart from the grader: one child process per part, in a scratch copy, with limits.

Layers, each used when it works here (``detect_isolation``; docs/grading.md says what each covers):
- process: ``python -I -S compare/child.py`` in a scratch copy of the submission, a clean environment,
  its own session, only the standard library, NumPy, the kit's support modules and the submission
  on its path; the parent kills its process group at the part's time limit.
- rlimits: CPU seconds, address space, file size, open files, processes (set in the child before
  any student code runs).
- bubblewrap: a read-only view of the system's libraries, Python and NumPy and a writable scratch
  folder, nothing else (not the project, not other submissions, not your home), no network,
  its own process namespace.
- unprivileged user: as root with bubblewrap, the child runs as a uid of its own per job slot.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from common import lab_folder
from common.lab_folder import find_lab_folders
from compare.messages import tr
from compare.wire import WireError, encode, read_message

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KIT_SUPPORT = (
    "__init__",
    "dtypes",
    "rng",
    "artifacts",
    "preprocess",
    "runtime",
    "batches",
)  # common/ as the kit uses it
LAB_FILES = (*lab_folder.LAB_FILES, "solver.py")  # a submission's files: solver.py too, when it has one
UID_BASE = 2_000_000_000  # children as root run as UID_BASE + slot: uids no account on the machine has
MAX_SUBMISSION_BYTES = 20 * 2**20
MAX_SUBMISSION_FILES = 500
MAX_SUBMISSION_DEPTH = 16
OUTPUT_KEPT = 16384  # bytes of a child's printed output the parent reads
TRACE_BEFORE_LIMIT = 0.5  # seconds before its time limit a child writes where it is (faulthandler)
WORK_BYTES = 64 * 2**20  # with bubblewrap: all a child may write (a tmpfs; without it, RLIMIT_FSIZE per file)
LIMITS = {
    "memory_bytes": 2 * 2**30,
    "file_bytes": 16 * 2**20,
    "open_files": 64,
    "processes": 1,  # no fork, no thread: counted per uid, so with a uid of its own it is the only process
    "core_bytes": 0,
}
ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8"}


# What the child says in English of its own (compare/child.py cannot import the catalogue): translated here.
CHILD_MESSAGES = (
    "there is no {module}.py",
    "{module}.py has no {name}",
    "{module}.py does not import: {error}",
    "the result cannot be sent back: {error}",
    "{function}: not implemented yet",  # the kit's stubs (exercises/blank.py)
    "{rule} returned {what}; it must return the pair (next_w, config)",
)


class SubmissionError(ValueError):
    """A submission folder that cannot be copied for grading: too large, too many files, unreadable."""


class ChildFailed(Exception):
    """The child gave no usable answer: ``status`` (error, not implemented, timeout) and a one-line message."""

    def __init__(self, status: str, message: str, where: str = ""):
        super().__init__(message)
        self.status, self.where = status, where


@dataclass(frozen=True)
class Isolation:
    """Which layers this machine gives a child: bubblewrap's path (None: not usable) and whether to change uid."""

    bwrap: str | None
    drop_user: bool

    def describe(self) -> str:
        layers = ["process", "rlimits"] + (["bubblewrap"] if self.bwrap else [])
        layers += ["unprivileged user"] if self.drop_user else []
        return " + ".join(layers)

    def warning(self) -> str:
        """'' when the submission sees nothing of the machine; else what it can still reach, in one line."""
        if self.bwrap:
            return ""
        if self.drop_user:
            return (
                "warning: bubblewrap is not usable here: a submission runs as another user, and can read what is "
                "readable by all (make the project folder private: chmod 700); install bubblewrap to hide it"
            )
        return (
            "warning: bubblewrap is not usable here, so a submission can read, and change, whatever this user can "
            "(install it: apt-get install bubblewrap)"
        )

    def refusal(self) -> str:
        """Why grading must not start without --no-sandbox ('' when it may): as root, with neither layer."""
        if self.bwrap or self.drop_user or os.geteuid() != 0:
            return ""
        return (
            "running as root, and neither bubblewrap nor another user can run Python here: a submission would run "
            "as root with the whole machine open to it; install bubblewrap (apt-get install bubblewrap), grade as "
            "another user, or pass --no-sandbox to accept that"
        )


@cache
def detect_isolation() -> Isolation:
    """The layers that work on this machine, found by starting a trivial child once for each."""
    bwrap = None if os.environ.get("LAB_GRADER_NO_BWRAP") else shutil.which("bwrap")  # the variable: tests
    if bwrap is not None:
        with tempfile.TemporaryDirectory() as work:
            for name in ("lab", "common"):
                Path(work, name).mkdir()
            probe = [*_bwrap_prefix(bwrap, Path(work)), "--", _python(), "-I", "-S", "-c", "pass"]
            bwrap = bwrap if _runs(probe) else None
    if os.geteuid() != 0:
        return Isolation(bwrap, False)
    if bwrap is not None:
        return Isolation(bwrap, True)
    # as root without bubblewrap: another uid helps only if it can still run Python and import NumPy
    ids = ", ".join([str(UID_BASE)] * 3)
    become = f"import os; os.setgroups([]); os.setresgid({ids}); os.setresuid({ids})"
    imports = f"import sys; sys.path.append({str(_numpy_dirs()[0].parent)!r}); import numpy, json, traceback, resource"
    return Isolation(None, _runs([_python(), "-I", "-S", "-c", f"{become}; {imports}"]))


def _runs(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=60, umask=0o022, cwd="/").returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _python() -> str:
    return os.path.realpath(sys.executable)


@cache
def _numpy_dirs() -> tuple[Path, ...]:
    """NumPy's package folder and its bundled libraries' folder (numpy.libs), where there is one."""
    import numpy

    package = Path(numpy.__file__).resolve().parent
    return tuple(p for p in (package, package.with_name("numpy.libs")) if p.is_dir())


def _bwrap_prefix(bwrap: str, work: Path) -> list[str]:
    """bwrap's arguments up to the command: the system's libraries, Python and NumPy, work's lab/ and common/
    read-only in /work, a tmpfs of WORK_BYTES, nothing else."""
    args = [bwrap, "--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net"]
    args += ["--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() != 0:
        args.append("--unshare-user")
    args += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for top in ("/bin", "/lib", "/lib64", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    prefix = Path(sys.base_prefix).resolve()
    for folder in ["/grader", "/grader/site", "/grader/code"] + [str(p) for p in reversed(prefix.parents)][1:]:
        args += ["--perms", "0755", "--dir", folder]  # traversable by the unprivileged user
    if not str(prefix).startswith("/usr/"):
        args += ["--ro-bind", str(prefix), str(prefix)]
    for site in _site_folders():
        args += ["--tmpfs", site]  # another package (torch, the project) must not be readable there
    for folder in _numpy_dirs():
        args += ["--ro-bind", str(folder), f"/grader/site/{folder.name}"]
    args += ["--perms", "01777", "--size", str(WORK_BYTES), "--tmpfs", "/work"]  # what it writes, in memory, bounded
    for name in ("lab", "common"):
        args += ["--ro-bind", str(work / name), f"/work/{name}"]
    args += ["--perms", "01777", "--dir", "/work/tmp", "--chdir", "/work", "--clearenv"]
    for key, value in {**ENV, "HOME": "/work", "TMPDIR": "/work/tmp"}.items():
        args += ["--setenv", key, value]
    return args


@cache
def _site_folders() -> tuple[str, ...]:
    """Every folder of installed packages inside what the sandbox binds (hidden there by a tmpfs): the base
    interpreter's site-packages and the system's dist-packages, where torch or the project could be."""
    import glob
    import sysconfig

    base = {key: sys.base_prefix for key in ("base", "platbase", "installed_base", "installed_platbase")}
    paths = sysconfig.get_paths(vars=base)
    found = {paths["purelib"], paths["platlib"], *glob.glob("/usr/lib/python3*/*-packages")}
    found |= set(glob.glob("/usr/local/lib/python3*/*-packages"))
    bound = (str(Path(sys.base_prefix).resolve()), "/usr")
    real = {os.path.realpath(folder) for folder in found if os.path.isdir(folder)}
    return tuple(sorted(f for f in real if any(f.startswith(b + "/") for b in bound)))


# ----------------------------------------------------------------------------- the scratch copy


def find_lab_folder(folder: Path) -> Path | None:
    """The folder holding a submission's lab files (common.lab_folder.find_lab_folders, any of them): None when
    there is none, SubmissionError when there are several."""
    found = find_lab_folders(folder, complete=False)
    if len(found) > 1:
        shown = ", ".join(str(f.relative_to(folder.resolve())) for f in found[:3])
        raise SubmissionError(
            tr("{count} copies of the lab's files ({shown}): hand in one", count=len(found), shown=shown)
        )
    return found[0] if found else None


def _copy_tree(source: Path, target: Path) -> list[str]:
    """Copy source's regular files and folders into target -> what was left out (links, special files).

    Reads at most MAX_SUBMISSION_BYTES in MAX_SUBMISSION_FILES files; SubmissionError beyond that.
    """
    skipped, budget, count = [], MAX_SUBMISSION_BYTES, 0
    for folder, dirs, files in os.walk(source, followlinks=False):
        rel = Path(folder).relative_to(source)
        if len(rel.parts) >= MAX_SUBMISSION_DEPTH:  # (os.walk recurses: a deep tree would exhaust the stack)
            raise SubmissionError(
                tr("folders nested more than {depth} deep; hand in the lab's folder", depth=MAX_SUBMISSION_DEPTH)
            )
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not os.path.islink(os.path.join(folder, d)))
        (target / rel).mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            path = Path(folder) / name
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                skipped.append(str(rel / name))
                continue
            count += 1
            if count > MAX_SUBMISSION_FILES:
                raise SubmissionError(
                    tr("more than {count} files; hand in the lab's folder alone", count=MAX_SUBMISSION_FILES)
                )
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    skipped.append(str(rel / name))
                    continue
                data = f.read(budget + 1)
            budget -= len(data)
            if budget < 0:
                raise SubmissionError(
                    tr("larger than {size} MiB; hand in the lab's folder alone", size=MAX_SUBMISSION_BYTES // 2**20)
                )
            (target / rel / name).write_bytes(data)
    return skipped


class Scratch:
    """A scratch copy of one submission, laid out for the child: work/lab (the copy), work/common, grader/, site/."""

    def __init__(self, lab_folder: Path, slot: int = 0):
        self.isolation = detect_isolation()
        self.name = lab_folder.name
        self.root = Path(tempfile.mkdtemp(prefix="lab-grade-"))
        try:
            self._lay_out(lab_folder, slot)
        except BaseException:
            self.close()
            raise

    def _lay_out(self, lab_folder: Path, slot: int) -> None:
        self.work = self.root / "work"
        self.skipped = _copy_tree(lab_folder, self.work / "lab")
        (self.work / "lab" / "__init__.py").unlink(
            missing_ok=True
        )  # each module alone: one missing name breaks one part
        (self.work / "common").mkdir()
        for name in KIT_SUPPORT:
            shutil.copyfile(ROOT / "common" / f"{name}.py", self.work / "common" / f"{name}.py")
        (self.work / "tmp").mkdir()
        (self.root / "grader").mkdir()
        for name in ("child.py", "wire.py"):
            shutil.copyfile(HERE / name, self.root / "grader" / name)
        if self.isolation.bwrap is None:
            (self.root / "site").mkdir()
            for folder in _numpy_dirs():
                (self.root / "site" / folder.name).symlink_to(folder)
        self.uid = UID_BASE + slot if self.isolation.drop_user else None
        if self.uid is not None:
            for folder in (self.root, self.root / "grader", self.root / "site"):
                if folder.exists():
                    folder.chmod(0o711 if folder == self.root else 0o755)  # the other uid passes through, no more
            for folder, dirs, files in os.walk(self.work):
                for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                    os.chown(name, self.uid, self.uid)
            self.work.chmod(0o700)  # a classmate's child, under another uid, cannot look in

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def command(self, settings: dict) -> list[str]:
        """The child's command line."""
        if self.isolation.bwrap:
            prefix = _bwrap_prefix(self.isolation.bwrap, self.work)
            prefix += ["--ro-bind", str(self.root / "grader"), "/grader/code", "--"]
            return [*prefix, _python(), "-I", "-S", "/grader/code/child.py", json.dumps(settings)]
        return [_python(), "-I", "-S", str(self.root / "grader" / "child.py"), json.dumps(settings)]

    def settings(self, time_limit: float) -> dict:
        """What the child is told: its paths, its aliases, its limits, its uid, when to show where it is."""
        if self.isolation.bwrap:
            work, path = "/work", ["/work", "/grader/site", "/grader/code"]
        else:
            work = str(self.work)
            path = [work, str(self.root / "site"), str(self.root / "grader")]
        aliases = [self.name] if _free_name(self.name) else []
        limits = {**LIMITS, "cpu_seconds": int(time_limit) + 2}
        if self.uid is None and os.geteuid() == 0:
            del limits["processes"]  # root ignores it anyway; without a uid of its own it would count all of root's
        return {
            "submission": f"{work}/lab",
            "path": path,
            "aliases": aliases,
            "limits": limits,
            "uid": self.uid,
            "show_where_after": max(time_limit - TRACE_BEFORE_LIMIT, 0.05),  # the last line reached, on a timeout
        }


def _free_name(name: str) -> bool:
    """Whether a submission's folder name can also be imported as the submission (not numpy's, not the stdlib's)."""
    taken = {"numpy", "common", "lab", *(f.removesuffix(".py") for f in LAB_FILES), "gradient_check", "checks"}
    return name.isidentifier() and name not in sys.stdlib_module_names and name not in taken


# ----------------------------------------------------------------------------- the child


class Child:
    """One child process for one part: send it probes, answer its questions, kill it at the deadline."""

    def __init__(self, scratch: Scratch, time_limit: float, answer=None):
        self.scratch, self.time_limit, self.answer = scratch, time_limit, answer
        self.deadline = time.monotonic() + time_limit
        self.output = tempfile.TemporaryFile(dir=scratch.root)
        env = {**ENV, "HOME": str(scratch.work), "TMPDIR": str(scratch.work / "tmp")}
        self.settings = scratch.settings(time_limit)
        settings = self.settings
        self.process = subprocess.Popen(
            scratch.command(settings),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.output,
            cwd=scratch.work,
            env=env,
            start_new_session=True,
            umask=0o022,  # the folders bubblewrap creates (/grader, the parents of bound paths) must be traversable
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _read(self, size: int) -> bytes:
        fd = self.process.stdout.fileno()
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise self._timed_out()
        return os.read(fd, size)

    def _write(self, data: bytes) -> None:
        fd = self.process.stdin.fileno()
        os.set_blocking(fd, False)
        view = memoryview(data)
        while view:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                raise self._timed_out()
            try:
                view = view[os.write(fd, view) :]
            except BrokenPipeError:
                raise ChildFailed("error", self._ended()) from None

    def _receive(self) -> dict:
        try:
            message = read_message(self._read)
        except EOFError:
            raise ChildFailed("error", self._ended()) from None
        except (WireError, RecursionError, ValueError) as err:
            self.kill()
            raise ChildFailed(
                "error", tr("the submission's process sent something that is not a result ({error})", error=err)
            ) from None
        return message

    def probe(self, probe: str, **args) -> dict:
        """Run ``probe`` in the child on args -> its answer (plain values); ChildFailed when there is none."""
        self._write(encode({"probe": probe, "args": args}))
        while True:
            message = self._receive()
            if not isinstance(message, dict):
                raise ChildFailed("error", tr("the submission's process sent something that is not a result"))
            if "ask" in message and self.answer is not None:
                self._write(encode(self.answer(message["ask"])))
                continue
            status = message.get("status")
            if status == "ok":
                return message
            if status in ("error", "not implemented"):
                raise ChildFailed(status, str(message.get("message", "")), str(message.get("where", "")))
            raise ChildFailed("error", tr("the submission's process sent something that is not a result"))

    def _timed_out(self) -> ChildFailed:
        """Kill the child that ran past its limit -> the failure, with the last line of the submission it reached."""
        self.kill()
        self.process.wait()
        where = ""
        folder = self.settings["submission"] + "/"
        for line in self.printed().splitlines():  # faulthandler's dump: the most recent call first
            match = re.match(r'\s*File "(.+)", line (\d+) in (\S+)', line)
            if match and match.group(1).startswith(folder):
                file, line, function = match.group(1)[len(folder) :], match.group(2), match.group(3)
                where = tr("still running at {file}:{line} in {function}", file=file, line=line, function=function)
                break
        limit = f"{self.time_limit:g}"
        return ChildFailed(
            "timeout",
            tr("ran past the {limit} s limit", limit=limit),
            where,
        )

    def _ended(self) -> str:
        """Why the child is gone, in words."""
        try:
            code = self.process.wait(timeout=max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.kill()
            return tr("closed its pipe and then hung")
        if code > 128 and self.scratch.isolation.bwrap:  # bubblewrap reports its child's signal as 128 + N
            code = 128 - code
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else f"signal {-code}"
            why = {"SIGXCPU": tr(" (the CPU time limit)"), "SIGXFSZ": tr(" (the file size limit)")}.get(name, "")
            return tr("the submission's process was killed by {signal}{why}", signal=name, why=why)
        return tr("the submission's process ended (exit code {code}) before answering", code=code)

    def printed(self) -> str:
        """The first bytes the child printed (stdout and stderr together), as text."""
        if not self.output.closed:
            self.output.seek(0)
            self._printed = self.output.read(OUTPUT_KEPT).decode("utf-8", "replace")
        return self._printed

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        self.kill()
        self.process.wait()
        self.printed()
        self.output.close()
