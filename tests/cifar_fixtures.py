"""Small synthetic CIFAR-10 copies written in each official format (IMAGES_PER_BATCH records per batch)."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def synthetic_batches(images_per_batch: int, seed: int = 0):
    """{batch name: (images uint8 (n, 3, 32, 32), labels (n,))} with known, distinct contents."""
    rng = np.random.default_rng(seed)
    batches = {}
    for b, name in enumerate(BATCHES):
        images = rng.integers(0, 256, size=(images_per_batch, 3, 32, 32), dtype=np.uint8)
        labels = (np.arange(images_per_batch) + 3 * b) % 10
        batches[name] = (images, labels)
    return batches


def binary_bytes(images, labels) -> bytes:
    records = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(len(images), -1)], axis=1)
    return records.tobytes()


def python_bytes(images, labels, name) -> bytes:
    batch = {
        b"batch_label": name.encode(),
        b"labels": [int(v) for v in labels],
        b"data": images.reshape(len(images), -1),
        b"filenames": [b"x.png"] * len(labels),
    }
    return pickle.dumps(batch, protocol=2)


def member_files(batches, kind: str) -> dict[str, bytes]:
    if kind == "binary":
        return {f"{name}.bin": binary_bytes(*batches[name]) for name in BATCHES}
    return {name: python_bytes(*batches[name], name) for name in BATCHES}


def write_folder(root: Path, batches, kind: str) -> Path:
    folder = root / ("cifar-10-batches-bin" if kind == "binary" else "cifar-10-batches-py")
    folder.mkdir(parents=True)
    for name, data in member_files(batches, kind).items():
        (folder / name).write_bytes(data)
    return folder


def write_archive(root: Path, batches, kind: str, changes: dict[str, bytes | None] | None = None) -> Path:
    """Write the .tar.gz as downloaded; ``changes`` adds or replaces members by path (None drops one)."""
    folder = "cifar-10-batches-bin" if kind == "binary" else "cifar-10-batches-py"
    path = root / ("cifar-10-binary.tar.gz" if kind == "binary" else "cifar-10-python.tar.gz")
    root.mkdir(parents=True, exist_ok=True)
    members = {f"{folder}/{name}": data for name, data in member_files(batches, kind).items()}
    members.update(changes or {})
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            if data is None:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path
