"""The CIFAR-10 data layer on small synthetic copies in every official format."""

import os
import pickle
import urllib.error

import numpy as np
import pytest

from common import cifar10
from common.cifar10 import CIFAR10NotFoundError, get_CIFAR10_data, load_CIFAR10, locate_cifar10
from tests.cifar_fixtures import BATCHES, synthetic_batches, write_archive, write_folder

N = 4  # images per batch in the synthetic copies


@pytest.fixture(autouse=True)
def small_batches(monkeypatch, tmp_path):
    """Shrink the batches and isolate the environment: no CIFAR10_DIR, a private cache."""
    monkeypatch.setattr(cifar10, "IMAGES_PER_BATCH", N)
    monkeypatch.delenv("CIFAR10_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def batches():
    return synthetic_batches(N)


def expected_arrays(batches):
    x_train = np.concatenate([batches[name][0] for name in BATCHES[:5]])
    y_train = np.concatenate([batches[name][1] for name in BATCHES[:5]])
    return x_train, y_train, batches["test_batch"][0], batches["test_batch"][1]


def write(kind, layout, root, batches):
    return write_folder(root, batches, kind) if layout == "folder" else write_archive(root, batches, kind)


@pytest.mark.parametrize("kind", ["binary", "python"])
@pytest.mark.parametrize("layout", ["folder", "archive"])
def test_every_official_format_parses_identically(tmp_path, batches, kind, layout):
    write(kind, layout, tmp_path / "data", batches)
    X_train, y_train, X_test, y_test = load_CIFAR10(tmp_path / "data")
    x_train, labels_train, x_test, labels_test = expected_arrays(batches)
    assert X_train.shape == (5 * N, 32, 32, 3) and X_test.shape == (N, 32, 32, 3)
    assert X_train.dtype == np.float64 and y_train.dtype == np.int64
    np.testing.assert_array_equal(X_train, x_train.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(X_test, x_test.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_train, labels_train)
    np.testing.assert_array_equal(y_test, labels_test)


def test_channel_order_is_r_g_b_planes_row_major(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar10, "IMAGES_PER_BATCH", 1)
    batches = {name: (np.zeros((1, 3, 32, 32), np.uint8), np.array([0])) for name in BATCHES}
    image = batches["data_batch_1"][0]
    image[0, 0, 0, 1] = 11  # red, row 0, column 1: byte 1 of the pixel block
    image[0, 1, 2, 0] = 22  # green, row 2, column 0: byte 1024 + 64
    image[0, 2, 31, 31] = 33  # blue, last pixel: the last byte
    write_folder(tmp_path, batches, "binary")
    raw = (tmp_path / "cifar-10-batches-bin" / "data_batch_1.bin").read_bytes()
    assert raw[1 + 1] == 11 and raw[1 + 1024 + 64] == 22 and raw[-1] == 33
    X_train, *_ = load_CIFAR10(tmp_path, dtype=np.uint8)
    assert X_train[0, 0, 1, 0] == 11 and X_train[0, 2, 0, 1] == 22 and X_train[0, 31, 31, 2] == 33
    data = get_CIFAR10_data(num_training=1, num_validation=0, num_test=1, subtract_mean=False, root=tmp_path)
    assert data["X_train"][0, 0, 0, 1] == 11 and data["X_train"][0, 1, 2, 0] == 22
    assert data["X_train"][0, 2, 31, 31] == 33


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_splits_and_mean_subtraction(tmp_path, batches, dtype):
    write_archive(tmp_path, batches, "binary")
    data = get_CIFAR10_data(
        num_training=13, num_validation=5, num_test=3, dtype=dtype, root=tmp_path, with_mean_image=True
    )
    x_train, y_train, x_test, y_test = expected_arrays(batches)
    mean = x_train[:13].astype(np.float64).mean(axis=0)
    assert set(data) == {"X_train", "y_train", "X_val", "y_val", "X_test", "y_test", "mean_image"}
    for key, shape in (("X_train", 13), ("X_val", 5), ("X_test", 3)):
        assert data[key].shape == (shape, 3, 32, 32) and data[key].dtype == dtype
        assert data[key].flags.c_contiguous
    tol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(data["X_train"], x_train[:13] - mean, atol=tol)
    np.testing.assert_allclose(data["X_val"], x_train[13:18] - mean, atol=tol)
    np.testing.assert_allclose(data["X_test"], x_test[:3] - mean, atol=tol)
    np.testing.assert_allclose(data["mean_image"], mean, atol=tol)
    np.testing.assert_array_equal(data["y_val"], y_train[13:18])
    np.testing.assert_array_equal(data["y_test"], y_test[:3])
    assert abs(data["X_train"].astype(np.float64).mean(axis=0)).max() < 1e-3


def test_without_mean_subtraction_keeps_pixels(tmp_path, batches):
    write_folder(tmp_path, batches, "python")
    data = get_CIFAR10_data(num_training=5, num_validation=2, num_test=2, subtract_mean=False, root=tmp_path)
    np.testing.assert_array_equal(data["X_train"], expected_arrays(batches)[0][:5])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_training": 18, "num_validation": 3}, "exceeds the 20 CIFAR-10 training images"),
        ({"num_test": 5}, "exceeds the 4 CIFAR-10 test images"),
        ({"num_training": 0}, "num_training must be an integer >= 1"),
        ({"num_validation": -1}, "num_validation must be an integer >= 0"),
        ({"num_training": 2.5}, "num_training must be an integer"),
    ],
)
def test_invalid_sizes_raise(tmp_path, batches, kwargs, message):
    write_folder(tmp_path, batches, "binary")
    with pytest.raises(ValueError, match=message):
        get_CIFAR10_data(**{"num_training": 10, "num_validation": 2, "num_test": 2, **kwargs}, root=tmp_path)


def test_truncated_binary_file_is_named(tmp_path, batches):
    folder = write_folder(tmp_path, batches, "binary")
    path = folder / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"data_batch_3\.bin: 12,192 bytes, expected 12,292"):
        load_CIFAR10(tmp_path)


def test_oversized_binary_file_is_named(tmp_path, batches):
    folder = write_folder(tmp_path, batches, "binary")
    path = folder / "test_batch.bin"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ValueError, match=r"test_batch\.bin: 12,293 bytes, expected 12,292"):
        load_CIFAR10(tmp_path)


def test_truncated_archive_says_download_again(tmp_path, batches):
    archive = write_archive(tmp_path, batches, "binary")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated or corrupt archive.*download it again"):
        load_CIFAR10(tmp_path)


def test_archive_missing_a_batch_is_named(tmp_path, batches):
    write_archive(tmp_path, batches, "binary", {"cifar-10-batches-bin/data_batch_4.bin": None})
    with pytest.raises(ValueError, match="lacks data_batch_4.bin"):
        load_CIFAR10(tmp_path)


def test_bad_label_value_is_named(tmp_path, batches):
    images, labels = batches["data_batch_2"]
    batches["data_batch_2"] = (images, np.array([1, 2, 12, 3]))
    write_folder(tmp_path, batches, "binary")
    with pytest.raises(ValueError, match=r"data_batch_2\.bin: labels must be 0-9"):
        load_CIFAR10(tmp_path)


@pytest.mark.parametrize("kind", ["binary", "python"])
def test_verify_checks_the_official_md5s(tmp_path, batches, kind):
    write_folder(tmp_path, batches, kind)
    load_CIFAR10(tmp_path)  # sizes are right, so without verify it loads
    with pytest.raises(ValueError, match="data_batch_1(.bin)?: md5 is [0-9a-f]{32}, expected the official"):
        load_CIFAR10(tmp_path, verify=True)


class RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("layout", ["folder", "archive"])
def test_malicious_pickle_is_refused_without_running(tmp_path, batches, layout):
    marker = tmp_path / "PWNED"
    evil = pickle.dumps({b"data": RunsACommand(marker), b"labels": [0] * N}, protocol=2)
    if layout == "folder":
        write_folder(tmp_path / "data", batches, "python")
        (tmp_path / "data" / "cifar-10-batches-py" / "data_batch_2").write_bytes(evil)
    else:
        write_archive(tmp_path / "data", batches, "python", {"cifar-10-batches-py/data_batch_2": evil})
    with pytest.raises(ValueError, match=r"data_batch_2: refused to load (posix|os|nt)\.system"):
        load_CIFAR10(tmp_path / "data")
    assert not marker.exists()


def test_archive_member_escaping_its_folder_is_refused(tmp_path, batches):
    write_archive(tmp_path, batches, "binary", {"cifar-10-batches-bin/../../evil.sh": b"echo hi"})
    with pytest.raises(ValueError, match="refused, archive member .*evil.sh.* points outside"):
        load_CIFAR10(tmp_path)
    assert not (tmp_path.parent / "evil.sh").exists()


def test_read_only_archive_is_read_in_place(tmp_path, batches):
    archive = write_archive(tmp_path / "ro", batches, "binary")
    os.chmod(tmp_path / "ro", 0o555)
    try:
        before = sorted(os.listdir(tmp_path / "ro"))
        X_train, *_ = load_CIFAR10(archive)  # the archive path itself is accepted too
        assert X_train.shape[0] == 5 * N
        assert sorted(os.listdir(tmp_path / "ro")) == before
    finally:
        os.chmod(tmp_path / "ro", 0o755)


def test_search_order_root_then_env_then_cache(tmp_path, batches, monkeypatch):
    for name in ("root", "env", "cache/two-layer-net/cifar10"):
        write_archive(tmp_path / name, batches, "binary")
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "env"))
    assert locate_cifar10(tmp_path / "root").path.parent == tmp_path / "root"
    assert locate_cifar10().path.parent == tmp_path / "env"
    monkeypatch.delenv("CIFAR10_DIR")
    assert locate_cifar10().path.parent == tmp_path / "cache/two-layer-net/cifar10"


def test_offline_gives_one_clear_paragraph(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(cifar10, "fetch", offline)
    monkeypatch.setenv("CIFAR10_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(CIFAR10NotFoundError) as info:
        load_CIFAR10()
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    for expected in (
        "nowhere (CIFAR10_DIR)",
        "(cache)",
        "URLError",
        "set CIFAR10_DIR",
        "cifar-10-binary.tar.gz",
    ):
        assert expected in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_partial_download_never_looks_complete(tmp_path, monkeypatch):
    def corrupt_download(url, path):
        path.write_bytes(b"half an archive")
        raise ConnectionResetError("File not found or corrupted.")

    monkeypatch.setattr(cifar10, "fetch", corrupt_download)
    with pytest.raises(CIFAR10NotFoundError, match="File not found or corrupted"):
        locate_cifar10()
    cache = cifar10.cache_dir()
    assert list(cache.iterdir()) == []  # neither the partial file nor its temp folder is left


def test_download_lands_in_the_cache_and_is_used(tmp_path, batches, monkeypatch):
    good = write_archive(tmp_path / "server", batches, "binary").read_bytes()
    import hashlib

    monkeypatch.setattr(cifar10, "DOWNLOAD_MD5", hashlib.md5(good).hexdigest())
    calls = []

    def fake_download(url, path):
        calls.append(url)
        path.write_bytes(good)
        return hashlib.md5(good).hexdigest()

    monkeypatch.setattr(cifar10, "fetch", fake_download)
    X_train, *_ = load_CIFAR10()
    assert calls == [cifar10.DOWNLOAD_URL] and X_train.shape == (5 * N, 32, 32, 3)
    assert sorted(p.name for p in cifar10.cache_dir().iterdir()) == ["cifar-10-binary.tar.gz"]
    load_CIFAR10()
    assert len(calls) == 1  # the cached copy is found the second time


def test_the_labs_data_utils_is_common_cifar10():
    """numpy_impl.data_utils, the module the notebook imports, holds common.cifar10's loaders themselves."""
    import numpy_impl.data_utils

    assert numpy_impl.data_utils.get_CIFAR10_data is get_CIFAR10_data
    assert numpy_impl.data_utils.load_CIFAR10 is load_CIFAR10 and numpy_impl.data_utils.locate_cifar10 is locate_cifar10
