"""CIFAR-10 loading shared by both implementations: official formats, safe parsing, download, the lab's splits.

Where the data is looked for, in order: the ``root`` argument, the ``CIFAR10_DIR``
environment variable, then the per-user cache ``$XDG_CACHE_HOME/two-layer-net/cifar10``
(``~/.cache/...``). In each folder any official distribution is accepted: the binary
version (``cifar-10-batches-bin/``) or the Python version (``cifar-10-batches-py/``),
extracted or as the downloaded ``.tar.gz`` (read in place, never extracted). When no
folder has it, the official binary archive is downloaded into the cache.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import pickle
import shutil
import stat
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from common.artifacts import file_kind, open_regular_file
from common.dtypes import check_float_dtype
from common.preprocess import fit_preprocessing, preprocess

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
IMAGES_PER_BATCH = 10_000  # five training batches and one test batch of this many; tests shrink it
IMAGE_SHAPE = (3, 32, 32)  # channels first, as stored: the R plane, then G, then B, each row-major
RECORD_BYTES = 1 + 3 * 32 * 32  # a label byte, then the pixels: a .bin batch is 30,730,000 bytes

BINARY_FOLDER, PYTHON_FOLDER = "cifar-10-batches-bin", "cifar-10-batches-py"
BINARY_ARCHIVE, PYTHON_ARCHIVE = "cifar-10-binary.tar.gz", "cifar-10-python.tar.gz"
DOWNLOAD_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
DOWNLOAD_MD5 = "c32a1d4ab5d03f1284b67883e8d87530"

# The official per-file MD5s of both distributions.
BINARY_MD5 = {
    "data_batch_1.bin": "5dd7e06a14cb22eb9f671a540d1b7c25",
    "data_batch_2.bin": "5ea93a67294ea407fff1d09f752e9692",
    "data_batch_3.bin": "942cd6a4bcdd0dd3c604fbe906cb4421",
    "data_batch_4.bin": "ae636b3ba5c66a11e91e8cb52e771fcb",
    "data_batch_5.bin": "53f37980c15c3d472c316c40844f3f0d",
    "test_batch.bin": "803d5f7f4d78ea53de84dbe85f74fb6d",
}
PYTHON_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}


# What an official archive holds besides the six batches: not read, and not a reason to warn.
METADATA_MEMBERS = ("batches.meta.txt", "batches.meta", "readme.html")


class CIFAR10NotFoundError(FileNotFoundError):
    """No copy of CIFAR-10 was found and none could be downloaded."""


@dataclass(frozen=True)
class Source:
    """One place that holds CIFAR-10: ``kind`` is "binary" or "python", ``path`` a folder or a .tar.gz."""

    kind: str
    path: Path

    @property
    def is_archive(self) -> bool:
        return self.path.is_file()

    def member_names(self) -> list[str]:
        """File names of the six batches, in the official order (train 1-5, then test)."""
        suffix = ".bin" if self.kind == "binary" else ""
        return [name + suffix for name in (*TRAIN_BATCHES, TEST_BATCH)]


@dataclass
class RawCIFAR10:
    """The whole data set as stored: uint8 images (N, 3, 32, 32) and int64 labels (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str = ""  # where it was read from: a folder or an archive
    md5: dict = field(default_factory=dict)  # {batch file name: md5 of its bytes}

    def provenance(self) -> dict:
        """Where the data was read from and the md5 of each batch, for a run's config.json."""
        official = all(BINARY_MD5.get(name, PYTHON_MD5.get(name)) == md5 for name, md5 in self.md5.items())
        return {"path": self.source, "md5": self.md5, "official": official}


# ----------------------------------------------------------------------------- where the data is


def cache_dir() -> Path:
    """The per-user cache folder for the downloaded archive."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "two-layer-net" / "cifar10"


def find_source(folder: str | os.PathLike) -> Source | None:
    """The CIFAR-10 copy in ``folder`` (or ``folder`` itself, if it is an archive or a batches folder), or None."""
    folder = Path(folder).expanduser()
    _refuse_special(folder)
    if folder.is_file():  # an archive named directly, perhaps renamed
        if not folder.name.endswith((".tar.gz", ".tgz")):
            return None
        return Source("python" if "python" in folder.name else "binary", folder)
    candidates = [
        (folder / BINARY_FOLDER, "binary", "data_batch_1.bin"),
        (folder, "binary", "data_batch_1.bin"),
        (folder / PYTHON_FOLDER, "python", "data_batch_1"),
        (folder, "python", "data_batch_1"),
    ]
    for path, kind, first in candidates:
        _refuse_special(path / first)
        if (path / first).is_file():
            return Source(kind, path)
    for name, kind in ((BINARY_ARCHIVE, "binary"), (PYTHON_ARCHIVE, "python")):
        _refuse_special(folder / name)
        if (folder / name).is_file():
            return Source(kind, folder / name)
    return None


def _refuse_special(path: Path) -> None:
    """ValueError when path exists but is neither a folder nor a regular file (a FIFO, a device such as
    /dev/zero, a socket, or a link to one): checked with stat, so it is never opened."""
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):  # absent, a dangling link, unreadable: the callers say what is missing
        return
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise ValueError(
            f"{path}: is {file_kind(mode)}; refused without opening it: "
            "CIFAR-10 is read only from regular files and folders"
        )


def locate_cifar10(root: str | os.PathLike | None = None, download: bool = True) -> Source:
    """Find CIFAR-10 in root if given (and only there), else in $CIFAR10_DIR or the cache, else download it.

    A root that was asked for by name and does not hold CIFAR-10 is an error, never a reason
    to train silently on some other copy.
    """
    if root is not None:
        source = find_source(root)
        if source is None:
            raise CIFAR10NotFoundError(_not_found_message([f"{root} (given)"], None, given=True))
        return source
    searched = []
    for label, folder in (("CIFAR10_DIR", os.environ.get("CIFAR10_DIR") or None), ("cache", cache_dir())):
        if folder is None:
            continue
        searched.append(f"{folder} ({label})")
        source = find_source(folder)
        if source is not None:
            return source
    if download:
        try:
            return Source("binary", download_cifar10(cache_dir()))
        except Exception as err:  # any network or disk failure ends in the same advice
            raise CIFAR10NotFoundError(_not_found_message(searched, err)) from None
    raise CIFAR10NotFoundError(_not_found_message(searched, None))


def _not_found_message(searched: list[str], download_error: Exception | None, given: bool = False) -> str:
    tried = "; ".join(searched)
    failed = (
        f" Downloading {DOWNLOAD_URL} into {cache_dir()} failed too ({type(download_error).__name__}: "
        f"{download_error})."
        if download_error is not None
        else ""
    )
    fix = "point --data-dir (or CIFAR10_DIR)" if given else "set CIFAR10_DIR (or pass --data-dir)"
    return (
        f"CIFAR-10 was not found. Looked in: {tried}.{failed} To provide it, {fix} to a folder holding "
        f"{BINARY_ARCHIVE} or {PYTHON_ARCHIVE} (as downloaded from "
        f"https://www.cs.toronto.edu/~kriz/cifar.html) or their extracted {BINARY_FOLDER}/ or "
        f"{PYTHON_FOLDER}/ folder, or place the archive in {cache_dir()}."
    )


def fetch(url: str, path: Path) -> str:
    """Stream url into path with a progress bar on stderr; returns the md5 of what was written."""
    import urllib.request

    from tqdm import tqdm

    digest = hashlib.md5(usedforsecurity=False)
    with urllib.request.urlopen(url, timeout=60) as response, open(path, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {path.name}", disable=None) as bar:
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    return digest.hexdigest()


def download_cifar10(folder: str | os.PathLike) -> Path:
    """Download the official binary archive into folder (progress bar, md5 check); returns its path.

    It lands in a temporary folder first and is renamed into place only once its md5
    matches, so an interrupted or corrupt download never looks complete.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / BINARY_ARCHIVE
    partial = Path(tempfile.mkdtemp(dir=folder, prefix=".download-"))
    try:
        md5 = fetch(DOWNLOAD_URL, partial / BINARY_ARCHIVE)
        if md5 != DOWNLOAD_MD5:
            raise ValueError(f"the download of {DOWNLOAD_URL} has md5 {md5}, not the official {DOWNLOAD_MD5}")
        os.replace(partial / BINARY_ARCHIVE, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


# ----------------------------------------------------------------------------- reading the files


def member_size_limit(kind: str) -> int:
    """The most bytes one batch file of this kind may have, checked from the file's size or the archive's
    header before reading: a .bin batch exactly; a pickled one room for its pixels twice (a Python 3 pickle
    at protocol 2 stores bytes as latin-1 text, up to 2 bytes per pixel), its labels and file names."""
    if kind == "binary":
        return IMAGES_PER_BATCH * RECORD_BYTES
    return IMAGES_PER_BATCH * (2 * (RECORD_BYTES - 1) + 128) + 4096


def _check_size(where: str, size: int, kind: str) -> None:
    limit = member_size_limit(kind)
    if kind == "binary" and size != limit:
        expected = f"expected {limit:,} ({IMAGES_PER_BATCH} records of {RECORD_BYTES} bytes)"
    elif size > limit:
        expected = f"expected at most {limit:,} for a pickled batch of {IMAGES_PER_BATCH} images"
    else:
        return
    raise ValueError(f"{where}: {size:,} bytes, {expected}; refused before reading: truncated, padded or not CIFAR-10")


def _iter_members(source: Source) -> Iterator[tuple[str, bytes]]:
    """Yield (file name, bytes) of the six batches, in whatever order they are stored; sizes checked first."""
    wanted = set(source.member_names())
    if not source.is_archive:
        for name in source.member_names():
            path = source.path / name
            _refuse_special(path)
            if not path.is_file():
                raise ValueError(f"{path}: missing; a CIFAR-10 {source.kind} folder holds {', '.join(wanted)}")
            _check_size(str(path), path.stat().st_size, source.kind)
            with open_regular_file(path) as f:
                data = f.read(member_size_limit(source.kind) + 1)  # a file growing meanwhile is still bounded
            _check_size(str(path), len(data), source.kind)
            yield name, data
        return
    folder = BINARY_FOLDER if source.kind == "binary" else PYTHON_FOLDER
    found, extra = set(), []
    raw = open_regular_file(source.path)
    try:
        with raw, tarfile.open(fileobj=raw, mode="r:gz") as archive:
            for member in archive:
                parts = PurePosixPath(member.name).parts
                if member.name.startswith(("/", "\\")) or ".." in parts:
                    raise ValueError(
                        f"{source.path}: refused, archive member {member.name!r} points outside the archive's folder"
                    )
                if len(parts) != 2 or parts[0] != folder or parts[1] not in wanted:
                    known = parts == (folder,) or (
                        len(parts) == 2 and parts[0] == folder and parts[1] in METADATA_MEMBERS
                    )
                    if not known:
                        extra.append(member.name)
                    continue
                if not member.isfile():
                    raise ValueError(f"{source.path}: refused, member {member.name!r} is not a regular file")
                if parts[1] in found:  # tarfile would let the second copy silently replace the first
                    raise ValueError(
                        f"{source.path}: refused, {parts[1]} appears twice in the archive; an official archive "
                        "holds each batch once, so this one was altered or built wrongly"
                    )
                _check_size(f"{source.path}:{parts[1]}", member.size, source.kind)
                found.add(parts[1])
                yield parts[1], archive.extractfile(member).read()
            # tarfile stops at the end-of-archive block; reading the gzip stream to its end checks its CRC
            # and length, so a flipped bit anywhere in the file is caught, not only in the batches' bytes.
            while archive.fileobj.read(1 << 20):
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise ValueError(
            f"{source.path}: truncated or corrupt archive ({type(err).__name__}: {err}); download it again"
        ) from None
    missing = wanted - found
    if missing:
        raise ValueError(f"{source.path}: archive lacks {', '.join(sorted(missing))} under {folder}/")
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        _warn(f"{source.path}: not the official archive: it also holds {shown} (ignored)")


_warned: set[str] = set()


def _warn(message: str) -> None:
    """One line on stderr, once per process for the same message: the data is not what the lab expects."""
    if message not in _warned:
        _warned.add(message)
        print(f"warning: {message}", file=sys.stderr, flush=True)


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def parse_binary_batch(where: str, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """One .bin batch -> images uint8 (10000, 3, 32, 32), labels int64 (10000,)."""
    if len(data) != IMAGES_PER_BATCH * RECORD_BYTES:
        raise ValueError(
            f"{where}: {len(data):,} bytes, expected {IMAGES_PER_BATCH * RECORD_BYTES:,} "
            f"({IMAGES_PER_BATCH} records of {RECORD_BYTES} bytes); the file is truncated or not CIFAR-10"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(IMAGES_PER_BATCH, RECORD_BYTES)
    images = records[:, 1:].reshape(IMAGES_PER_BATCH, *IMAGE_SHAPE)
    return images, _check_label_values(where, records[:, 0].astype(np.int64))


def _check_label_values(where: str, labels: np.ndarray) -> np.ndarray:
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{where}: labels must be 0-9, found values from {labels.min()} to {labels.max()}")
    return labels


class _BatchUnpickler(pickle.Unpickler):
    """Admits only what a CIFAR-10 Python batch holds: dicts, lists, strings, bytes, ints and plain arrays.

    Safe by construction: the only globals it resolves are stand-ins of our own for NumPy's
    array and dtype reconstructors. They accept exactly the arguments and pickled states a
    uint8/integer array has, and the arrays are then built here from their raw bytes
    (``np.frombuffer``), so no NumPy code ever sees a pickled state. Anything else
    (os.system, builtins.eval, an object dtype, flags switched on after the fact) is refused.
    """

    def find_class(self, module: str, name: str):
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return _PickledArray
        if module == "numpy" and name == "ndarray":
            return _PickledArray
        if module == "numpy" and name == "dtype":
            return _PickledDtype
        if module == "_codecs" and name == "encode":  # how Python 3 writes bytes at protocol 2
            return _latin1_bytes
        raise pickle.UnpicklingError(
            f"refused to load {module}.{name}: a CIFAR-10 batch holds only arrays, "
            "lists and strings, so this pickle is not one (and may be malicious)"
        )


# The dtypes a CIFAR-10 batch may hold, by their pickled code, and the byte order each is pickled with.
_PICKLED_DTYPES = {"u1": "|", "i1": "|", "i2": "<", "i4": "<", "i8": "<", "u2": "<", "u4": "<", "u8": "<"}


class _PickledDtype:
    """Stands in for ``numpy.dtype(code, False, True)`` plus its pickled state; ``.dtype`` once complete."""

    def __init__(self, code=None, align=False, copy=True):
        if not (isinstance(code, str) and code in _PICKLED_DTYPES and align is False and copy is True):
            raise pickle.UnpicklingError(f"refused dtype arguments {code!r}, {align!r}, {copy!r} in a CIFAR-10 batch")
        self.code, self.dtype = code, None

    def __setstate__(self, state) -> None:
        # (version, byte order, subarray, names, fields, elsize, alignment, flags): only a plain number
        if state != (3, _PICKLED_DTYPES[self.code], None, None, None, -1, -1, 0):
            raise pickle.UnpicklingError(f"refused dtype state {state!r} in a CIFAR-10 batch")
        self.dtype = np.dtype(self.code)


class _PickledArray:
    """Stands in for ``numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')`` plus its state; ``.array``."""

    def __init__(self, cls=None, shape=(0,), typecode=b"b"):
        if cls is not _PickledArray or shape != (0,) or typecode != b"b":
            raise pickle.UnpicklingError("refused an array reconstructor call that NumPy does not write")
        self.array = None

    def __setstate__(self, state) -> None:
        # (version, shape, dtype, Fortran order, raw bytes)
        if not (isinstance(state, tuple) and len(state) == 5):
            raise pickle.UnpicklingError("refused an array state that is not (version, shape, dtype, order, bytes)")
        version, shape, dtype, fortran, raw = state
        ok = (
            version == 1
            and isinstance(shape, tuple)
            and len(shape) <= 2
            and all(type(n) is int and 0 <= n <= RECORD_BYTES * IMAGES_PER_BATCH for n in shape)
            and isinstance(dtype, _PickledDtype)
            and dtype.dtype is not None
            and isinstance(fortran, bool)
            and type(raw) is bytes
        )
        if not ok or len(raw) != math.prod(shape) * dtype.dtype.itemsize:
            raise pickle.UnpicklingError("refused an array whose state does not describe a plain array of its bytes")
        array = np.frombuffer(raw, dtype=dtype.dtype)
        self.array = array.reshape(shape, order="F" if fortran else "C")


def _built(value):
    """The unpickled batch with each _PickledArray replaced by its array (refusing one never completed)."""
    if isinstance(value, _PickledArray):
        if value.array is None:
            raise pickle.UnpicklingError("refused an array without its data")
        return value.array
    if isinstance(value, dict):
        return {key: _built(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_built(item) for item in value]
    if isinstance(value, _PickledDtype):
        raise pickle.UnpicklingError("refused a bare dtype in a CIFAR-10 batch")
    return value


def _latin1_bytes(text: str, encoding: str = "utf-8") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("refused _codecs.encode with anything but a string and latin-1")
    return text.encode("latin-1")


def parse_python_batch(where: str, data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """One pickled Python-version batch -> images uint8 (10000, 3, 32, 32), labels int64 (10000,)."""
    try:
        batch = _built(_BatchUnpickler(io.BytesIO(data), encoding="bytes").load())
    except pickle.UnpicklingError as err:
        raise ValueError(f"{where}: {err}") from None
    except Exception as err:
        raise ValueError(f"{where}: not a readable CIFAR-10 Python batch ({type(err).__name__}: {err})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{where}: expected a pickled dict with 'data' and 'labels', got {type(batch).__name__}")
    images = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.shape != (IMAGES_PER_BATCH, 3072):
        shape = getattr(images, "shape", None)
        raise ValueError(f"{where}: 'data' must be a uint8 array of shape ({IMAGES_PER_BATCH}, 3072); got {shape}")
    labels = np.asarray(labels)
    if labels.shape != (IMAGES_PER_BATCH,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{where}: 'labels' must be {IMAGES_PER_BATCH} integers; got shape {labels.shape}")
    return images.reshape(IMAGES_PER_BATCH, *IMAGE_SHAPE), _check_label_values(where, labels.astype(np.int64))


def load_raw_cifar10(root: str | os.PathLike | None = None, verify: bool = False) -> RawCIFAR10:
    """All 60,000 images as stored (uint8, channels first) with int64 labels, in the official order."""
    source = locate_cifar10(root)
    parse, md5s = (parse_binary_batch, BINARY_MD5) if source.kind == "binary" else (parse_python_batch, PYTHON_MD5)
    num_train = len(TRAIN_BATCHES) * IMAGES_PER_BATCH
    x_train = np.empty((num_train, *IMAGE_SHAPE), dtype=np.uint8)
    y_train = np.empty(num_train, dtype=np.int64)
    x_test, y_test = None, None
    md5 = {}
    for name, data in _iter_members(source):
        where = f"{source.path}:{name}" if source.is_archive else str(source.path / name)
        md5[name] = _md5(data)
        if verify and md5[name] != md5s[name]:
            raise ValueError(f"{where}: md5 is {md5[name]}, expected the official {md5s[name]}; the file is corrupt")
        images, labels = parse(where, data)
        if name.startswith(TEST_BATCH):
            x_test, y_test = images.copy(), labels
        else:
            start = (int(name.split("_")[2].split(".")[0]) - 1) * IMAGES_PER_BATCH
            x_train[start : start + IMAGES_PER_BATCH] = images
            y_train[start : start + IMAGES_PER_BATCH] = labels
    _check_official(source, md5, md5s)
    return RawCIFAR10(x_train, y_train, x_test, y_test, str(source.path.resolve()), dict(sorted(md5.items())))


def _check_official(source: Source, md5: dict[str, str], official: dict[str, str]) -> None:
    """Compare every batch with its official md5, once the whole archive has been read and checked.

    Some batches official and others not is a corrupt or altered copy of CIFAR-10 (a flipped bit in an
    extracted file, a replaced batch): refused, since it would train and grade on wrong data unnoticed.
    None official is a data set of the user's own in CIFAR-10's format (a subset, a synthetic copy), which
    the loader supports: used, with a warning on stderr so that it is never only in config.json.
    """
    differ = [name for name in source.member_names() if md5[name] != official[name]]
    if not differ:
        return
    if len(differ) < len(md5):
        name = differ[0]
        where = f"{source.path}:{name}" if source.is_archive else str(source.path / name)
        others = f" (and {', '.join(differ[1:])})" if len(differ) > 1 else ""
        raise ValueError(
            f"{where}{others}: md5 is {md5[name]}, not the official {official[name]}, while the other batches "
            "are official: a corrupt or altered copy of CIFAR-10; refused, download it again"
        )
    _warn(
        f"{source.path}: not the official CIFAR-10 (no batch has its official md5): a subset, a synthetic or an "
        "altered copy; accuracies will not compare with the lab's"
    )


# ----------------------------------------------------------------------------- the lab's API


def load_CIFAR10(root: str | os.PathLike | None = None, dtype=np.float64, verify: bool = False):
    """-> X_train (50000, 32, 32, 3), y_train (50000,), X_test (10000, 32, 32, 3), y_test (10000,), as the lab.

    Pixels are 0-255 in ``dtype`` (float64 by default, as in the lab; uint8 keeps the bytes),
    labels int64 0-9 (see CLASS_NAMES). ``verify=True`` also checks the official md5s.
    """
    raw = load_raw_cifar10(root, verify=verify)
    X_train = raw.x_train.transpose(0, 2, 3, 1).astype(dtype)
    X_test = raw.x_test.transpose(0, 2, 3, 1).astype(dtype)
    return X_train, raw.y_train, X_test, raw.y_test


def get_CIFAR10_data(
    num_training: int = 49000,
    num_validation: int = 1000,
    num_test: int = 1000,
    subtract_mean: bool = True,
    dtype=np.float64,
    root: str | os.PathLike | None = None,
    with_mean_image: bool = False,
    verify: bool = False,
    preprocessing: str | None = None,
    zca_epsilon: float = 0.1,
    with_source: bool = False,
) -> dict:
    """The lab's splits -> dict X_train, y_train, X_val, y_val, X_test, y_test; images (N, 3, 32, 32).

    Validation is training rows [num_training, num_training + num_validation), test the
    first num_test test images. The mean image of the training split (in float64) is
    subtracted from every split when subtract_mean; ``with_mean_image`` adds it as
    ``mean_image`` (3, 32, 32). Each split is written once, straight from the stored bytes.

    ``preprocessing`` ("mean_image", "standardize" or "zca", see common.preprocess) replaces
    subtract_mean: it is fitted on the training split, applied to every split, and returned
    as ``preprocessing`` (its dict of arrays) beside ``mean_image``. ``with_source`` adds ``source``:
    where the data was read from and its md5s (RawCIFAR10.provenance).
    """
    for name, value, low in (
        ("num_training", num_training, 1),
        ("num_validation", num_validation, 0),
        ("num_test", num_test, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    num_train, num_test_images = len(TRAIN_BATCHES) * IMAGES_PER_BATCH, IMAGES_PER_BATCH
    if num_training + num_validation > num_train:
        raise ValueError(
            f"num_training + num_validation = {num_training + num_validation} exceeds the "
            f"{num_train} CIFAR-10 training images"
        )
    if num_test > num_test_images:
        raise ValueError(f"num_test = {num_test} exceeds the {num_test_images} CIFAR-10 test images")

    dtype = check_float_dtype(dtype)
    raw = load_raw_cifar10(root, verify=verify)
    train = raw.x_train[:num_training]
    val_rows = slice(num_training, num_training + num_validation)
    if preprocessing is not None:
        fitted = fit_preprocessing(preprocessing, train, zca_epsilon)
    else:  # the lab's: the training mean image, or nothing (computed in float64, stored as dtype)
        fitted = {"mean_image": train.mean(axis=0, dtype=np.float64) if subtract_mean else np.zeros(IMAGE_SHAPE)}
    data = {
        "X_train": preprocess(train, fitted, dtype),
        "y_train": raw.y_train[:num_training].copy(),
        "X_val": preprocess(raw.x_train[val_rows], fitted, dtype),
        "y_val": raw.y_train[val_rows].copy(),
        "X_test": preprocess(raw.x_test[:num_test], fitted, dtype),
        "y_test": raw.y_test[:num_test].copy(),
    }
    if with_mean_image or preprocessing is not None:
        data["mean_image"] = fitted["mean_image"].astype(dtype)
    if preprocessing is not None:
        data["preprocessing"] = fitted
    if with_source:
        data["source"] = raw.provenance()
    return data
