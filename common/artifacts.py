"""Files this project writes: always atomically (temp file + rename), never as pickle.

Arrays go to ``.npz`` (read back with ``allow_pickle=False``), everything else to JSON.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

from common.preprocess import check_preprocessing


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temp file beside ``path`` for writing; rename it over ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read every array of an .npz into a dict, refusing pickled objects; ValueError names the file."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, expected an .npz file") from None
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


def load_model(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Read a model.npz written by save_model -> (params, preprocessing), checking names and shapes."""
    arrays = load_npz(path)
    missing = [key for key in MODEL_KEYS if key not in arrays]
    unknown = sorted(set(arrays) - set(MODEL_KEYS) - set(OPTIONAL_MODEL_KEYS))
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"unexpected arrays {', '.join(unknown)}"
        raise ValueError(
            f"{path}: not a two-layer-net model: {problem} "
            f"(a model.npz holds {', '.join(MODEL_KEYS)}, optionally {', '.join(OPTIONAL_MODEL_KEYS)})"
        )
    W1, b1, W2, b2, mean_image = (arrays[key] for key in MODEL_KEYS)
    consistent = (
        W1.ndim == 2
        and W2.ndim == 2
        and b1.shape == (W1.shape[1],)
        and W2.shape[0] == W1.shape[1]
        and b2.shape == (W2.shape[1],)
        and mean_image.size == W1.shape[0]
    )
    if not consistent or not all(np.issubdtype(a.dtype, np.floating) for a in arrays.values()):
        shapes = ", ".join(f"{key} {value.shape} {value.dtype}" for key, value in arrays.items())
        raise ValueError(
            f"{path}: inconsistent model arrays ({shapes}); expected W1 (D, H), b1 (H,), "
            "W2 (H, C), b2 (C,), mean_image with D elements, all floating point"
        )
    preprocessing = {key: arrays[key] for key in ("mean_image", *OPTIONAL_MODEL_KEYS) if key in arrays}
    try:
        check_preprocessing(preprocessing, mean_image.shape)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, preprocessing
