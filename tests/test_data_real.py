"""Integration checks on the real CIFAR-10 whenever CIFAR10_DIR is set (required when CI=true)."""

import numpy as np
import pytest

from numpy_impl.data_utils import CLASS_NAMES, get_CIFAR10_data, load_CIFAR10


@pytest.fixture(scope="module")
def raw(real_data_dir):
    return load_CIFAR10(real_data_dir, dtype=np.uint8, verify=True)


def test_official_order_labels_and_pixels(raw):
    X_train, y_train, X_test, y_test = raw
    assert X_train.shape == (50000, 32, 32, 3) and X_test.shape == (10000, 32, 32, 3)
    assert y_train[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    assert y_test[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert X_train[0, 0, :3, 0].tolist() == [59, 43, 50]  # first red pixels of the first training image
    assert X_test[0, 0, :3, 0].tolist() == [158, 159, 165]
    assert np.bincount(y_train).tolist() == [5000] * 10 and np.bincount(y_test).tolist() == [1000] * 10
    assert len(CLASS_NAMES) == 10 and CLASS_NAMES[6] == "frog"


def test_channel_means(raw):
    mean = raw[0].reshape(-1, 3).mean(axis=0, dtype=np.float64) / 255
    np.testing.assert_allclose(mean, [0.4914, 0.4822, 0.4465], atol=1e-4)


def test_lab_splits(real_data_dir, raw):
    data = get_CIFAR10_data(root=real_data_dir, dtype=np.float32, with_mean_image=True)
    shapes = {k: v.shape for k, v in data.items()}
    assert shapes == {
        "X_train": (49000, 3, 32, 32),
        "y_train": (49000,),
        "X_val": (1000, 3, 32, 32),
        "y_val": (1000,),
        "X_test": (1000, 3, 32, 32),
        "y_test": (1000,),
        "mean_image": (3, 32, 32),
    }
    X_train, y_train, _, y_test = raw
    np.testing.assert_array_equal(data["y_val"], y_train[49000:])
    expected_mean = X_train[:49000].mean(axis=0, dtype=np.float64).transpose(2, 0, 1)
    np.testing.assert_allclose(data["mean_image"], expected_mean, rtol=1e-6)
    np.testing.assert_allclose(data["X_val"][0], X_train[49000].transpose(2, 0, 1) - expected_mean, atol=1e-4)
    full = get_CIFAR10_data(root=real_data_dir, num_test=10000, dtype=np.float32)
    assert full["X_test"].shape == (10000, 3, 32, 32)
    np.testing.assert_array_equal(full["y_test"], y_test)
