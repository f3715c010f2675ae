"""Files this project writes: always atomically (temp file + rename), never as pickle.

Arrays go to ``.npz`` (read back with ``allow_pickle=False``), everything else to JSON.
"""

from __future__ import annotations

import json
import math
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

from common.preprocess import check_preprocessing
from common.runtime import check_memory, current_umask


class ArtifactWriteError(OSError):
    """A file could not be written (disk full, no permission, ...): names the file and the cause, one line."""

    def __init__(self, path: Path, cause: OSError):
        super().__init__(cause.errno, f"cannot write {path}: {cause.strerror or cause}")
        self.path = path

    def __str__(self) -> str:
        return self.strerror


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temp file beside ``path`` for writing; rename it over ``path`` only if the block succeeds.

    Any OSError (a full disk, a read-only folder) becomes ArtifactWriteError naming ``path``;
    the previous file at ``path``, if any, is left as it was.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes 0600; a written file gets the usual permissions
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, ArtifactWriteError):
            raise ArtifactWriteError(path, err) from None
        raise


def writable_folder(path: str | os.PathLike, flag: str = "--out") -> bool:
    """Create folder ``path`` if needed and check that files can be written in it; -> whether it was created.

    Raises ValueError naming ``flag`` for a file in the way, a read-only place, a full disk.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{flag} {path}: is a file; give a folder (it is created if missing)")
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path) as probe:
            probe.write(b"probe")
            probe.flush()
    except OSError as err:
        raise ValueError(f"{flag} {path}: cannot write there ({err.strerror or err})") from None
    return created


def _jsonable(value):
    """Turn NumPy scalars/arrays and non-finite floats into plain JSON values (NaN/inf become strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    return value


def save_json(path: str | os.PathLike, obj) -> Path:
    """Write obj as indented JSON, atomically; returns the path."""
    with atomic_open(path, "w") as f:
        json.dump(_jsonable(obj), f, indent=2, sort_keys=False)
        f.write("\n")
    return Path(path)


def load_json(path: str | os.PathLike):
    """Read a JSON file, raising ValueError that names the file when it is missing or malformed."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a valid JSON file ({err})") from None


def save_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """Write a dict of arrays as an uncompressed .npz, atomically; returns the path."""
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)
    return Path(path)


KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a stat st_mode says a path is, for messages: 'a regular file', 'a folder', 'a FIFO (named pipe)', ..."""
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


def open_regular_file(path: str | os.PathLike) -> IO[bytes]:
    """Open ``path`` for reading in binary only if it is (or links to) a regular file; ValueError naming it if not.

    The kind is checked before the file is opened (a FIFO would block, /dev/zero never ends), and again on
    the open file, so a file swapped in meanwhile is refused too.
    """
    try:
        before = os.stat(path)  # follows symlinks: what would be read
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except OSError as err:
        raise ValueError(f"{path}: cannot read it ({err.strerror or err})") from None
    if not stat.S_ISREG(before.st_mode):
        kind = file_kind(before.st_mode)
        resolved = os.path.realpath(path)
        target = f" (it leads to {resolved})" if resolved != os.path.abspath(path) else ""
        raise ValueError(f"{path}: is {kind}{target}; only a regular file is read") from None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise ValueError(f"{path}: cannot read it ({err.strerror or err})") from None
    try:
        after = os.fstat(fd)
        if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            raise ValueError(
                f"{path}: changed while it was opened (now {file_kind(after.st_mode)}); only a regular file is read"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def npz_headers(path: str | os.PathLike, file: IO[bytes] | None = None) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """{name: (shape, dtype)} of every array in an .npz, from the zip directory and .npy headers: no data read.

    Reads ``file`` (opened from ``path``) if given, else opens ``path``, which must be a regular file.
    Raises ValueError naming the file for anything that is not a zip of .npy arrays.
    """
    if file is None:
        with open_regular_file(path) as opened:
            return npz_headers(path, opened)
    headers = {}
    try:
        with zipfile.ZipFile(file) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise ValueError(f"member {info.filename!r} is not an .npy array")
                with archive.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    if version not in ((1, 0), (2, 0)):
                        raise ValueError(f"member {info.filename!r} has .npy format {version}, expected 1.0 or 2.0")
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else (np.lib.format.read_array_header_2_0)
                    )
                    shape, _, dtype = read_header(f)
                headers[info.filename[: -len(".npy")]] = (shape, dtype)
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, expected an .npz file") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not a readable .npz of plain arrays ({err})") from None
    return headers


def load_npz(path: str | os.PathLike, check=None) -> dict[str, np.ndarray]:
    """Read every array of an .npz into a dict, refusing pickled objects; ValueError names the file.

    The headers are read first: ``check(headers)`` (see npz_headers) may refuse the file before any
    data is, and arrays that would not fit in the available memory are refused.
    """
    with open_regular_file(path) as file:  # only a regular file, opened once: what is checked is what is read
        headers = npz_headers(path, file)
        if any(dtype.hasobject for _, dtype in headers.values()):
            raise ValueError(f"{path}: refused, it holds Python objects (a pickle), not plain arrays")
        if check is not None:
            check(headers)
        try:
            check_memory(sum(math.prod(shape) * dtype.itemsize for shape, dtype in headers.values()), str(path))
            file.seek(0)
            with np.load(file, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"{path}: not a readable .npz of plain arrays ({err})") from None


MODEL_KEYS = ("W1", "b1", "W2", "b2", "mean_image")
OPTIONAL_MODEL_KEYS = ("scale", "whitening")  # the rest of a preprocessing (common.preprocess)


def save_model(path: str | os.PathLike, params: dict[str, np.ndarray], preprocessing) -> Path:
    """Write a classifier as .npz: W1 (D, H), b1 (H,), W2 (H, C), b2 (C,) and the preprocessing of its inputs
    (a dict with mean_image (3, 32, 32) and optionally scale, whitening; or just the mean_image array),
    so it classifies raw 0-255 images by itself."""
    if not isinstance(preprocessing, dict):
        preprocessing = {"mean_image": preprocessing}
    return save_npz(path, {**{name: params[name] for name in MODEL_KEYS[:4]}, **preprocessing})


def load_model(
    path: str | os.PathLike, input_size: int | None = None, num_classes: int | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Read a model.npz written by save_model -> (params, preprocessing), checking names, shapes, dtypes and
    values; ``input_size`` (D) and ``num_classes`` (C), when given, must match. Refuses before reading the
    arrays whatever the headers already show to be wrong."""

    def check_headers(headers: dict) -> None:
        missing = [key for key in MODEL_KEYS if key not in headers]
        unknown = sorted(set(headers) - set(MODEL_KEYS) - set(OPTIONAL_MODEL_KEYS))
        if missing or unknown:
            problem = f"missing {', '.join(missing)}" if missing else f"unexpected arrays {', '.join(unknown)}"
            raise ValueError(
                f"{path}: not a two-layer-net model: {problem} "
                f"(a model.npz holds {', '.join(MODEL_KEYS)}, optionally {', '.join(OPTIONAL_MODEL_KEYS)})"
            )
        shapes = {key: shape for key, (shape, _) in headers.items()}
        W1, W2 = shapes["W1"], shapes["W2"]
        consistent = (
            len(W1) == 2
            and len(W2) == 2
            and shapes["b1"] == (W1[1],)
            and W2[0] == W1[1]
            and shapes["b2"] == (W2[1],)
            and math.prod(shapes["mean_image"]) == W1[0]
        )
        floats = all(dtype in (np.float32, np.float64) for _, dtype in headers.values())
        if not consistent or not floats:
            listed = ", ".join(f"{key} {shape} {dtype}" for key, (shape, dtype) in headers.items())
            raise ValueError(
                f"{path}: inconsistent model arrays ({listed}); expected W1 (D, H), b1 (H,), "
                "W2 (H, C), b2 (C,), mean_image with D elements, all float32 or float64"
            )
        for size, expected, meaning in ((W1[0], input_size, "inputs"), (W2[1], num_classes, "classes")):
            if expected is not None and size != expected:
                raise ValueError(f"{path}: the model has {size} {meaning}; CIFAR-10 needs {expected}")

    arrays = load_npz(path, check_headers)
    not_finite = [key for key, value in arrays.items() if not np.all(np.isfinite(value))]
    if not_finite:
        raise ValueError(f"{path}: {', '.join(not_finite)} hold NaN or infinite values; the model is broken")
    preprocessing = {key: arrays[key] for key in ("mean_image", *OPTIONAL_MODEL_KEYS) if key in arrays}
    try:
        check_preprocessing(preprocessing, arrays["mean_image"].shape)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return {key: arrays[key] for key in MODEL_KEYS[:4]}, preprocessing
