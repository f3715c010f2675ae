"""Input preprocessing fitted on the training split: mean image, per-channel standardization, ZCA whitening.

A preprocessing is a plain dict of arrays that maps raw 0-255 images x (N, 3, 32, 32) to

    x' = ((x - mean_image) * scale) @ whitening        (each factor only when present)

so it is saved next to the weights in model.npz and a saved model classifies raw images
by itself. The three kinds fill in different keys:

    mean_image    mean_image (3, 32, 32): the lab's mean-image subtraction
    standardize   mean_image and scale (3, 32, 32): per channel, (x - mean_c) / std_c
    zca           mean_image and whitening (D, D): ZCA whitening, fitted on pixels scaled to [0, 1]
"""

from __future__ import annotations

import numpy as np

from common.dtypes import check_float_dtype

PREPROCESSINGS = ("mean_image", "standardize", "zca")
PREPROCESSING_KEYS = ("mean_image", "scale", "whitening")
CHUNK_ROWS = 4096  # images transformed at a time: bounded float64 temporaries


def check_preprocessing_kind(kind: str) -> str:
    """Return kind if it names a preprocessing, else raise ValueError listing them."""
    if kind not in PREPROCESSINGS:
        raise ValueError(f"unknown preprocessing {kind!r}; expected one of {', '.join(PREPROCESSINGS)}")
    return kind


def zca_whitening_matrix(X: np.ndarray, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and ZCA matrix W (D, D) of the rows of X (N, D), computed in float64.

    With covariance C = U diag(S) U^T of the centred rows, W = U diag(1 / sqrt(S + epsilon)) U^T.
    The whitened rows (x - mean) W then have covariance U diag(S / (S + epsilon)) U^T: the identity
    along directions whose variance is much larger than epsilon, damped below that (noise is not
    blown up). W is symmetric, so the result stays as close as possible to the input images.
    """
    if not (np.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"ZCA epsilon must be a positive number; got {epsilon!r}")
    mean, variances, basis = covariance_eigen(np.asarray(X, dtype=np.float64))
    return mean, (basis / np.sqrt(variances + epsilon)) @ basis.T


def covariance_eigen(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean (D,), variances (D,) ascending and basis (D, D) (eigenvectors as columns) of the rows of X (N, D).

    The centred chunks are multiplied in X's dtype and summed in float64: C = sum_chunks c^T c / N.
    """
    X = X.reshape(len(X), -1)
    mean = X.mean(axis=0, dtype=np.float64)
    covariance = np.zeros((X.shape[1], X.shape[1]))
    for start in range(0, len(X), CHUNK_ROWS):  # centred chunk by chunk: no second (N, D) copy
        chunk = X[start : start + CHUNK_ROWS] - mean.astype(X.dtype)
        covariance += chunk.T @ chunk
    covariance /= len(X)
    variances, basis = np.linalg.eigh(covariance)
    return mean, np.maximum(variances, 0.0), basis  # round-off can leave tiny negative eigenvalues


def principal_directions(X: np.ndarray, k: int) -> np.ndarray:
    """The top-k principal directions of the rows of X (N, D): P (D, k) float64, orthonormal columns, largest
    variance first, each column's largest-magnitude entry positive (so the answer does not depend on the BLAS).

    With preprocessed (centred) images, x P are their coordinates along the k directions of largest
    variance, and (x P) W1' = x (P W1'): a first layer trained on them folds into W1 = P W1' (D, H).
    """
    X = np.asarray(X)
    d = int(np.prod(X.shape[1:]))
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= d:
        raise ValueError(f"principal_directions: k must be an integer in [1, {d}] (the input size); got {k!r}")
    _, _, basis = covariance_eigen(X)
    directions = basis[:, ::-1][:, :k]
    signs = np.sign(directions[np.argmax(np.abs(directions), axis=0), np.arange(k)])
    return np.ascontiguousarray(directions * signs)


def fit_preprocessing(kind: str, images: np.ndarray, zca_epsilon: float = 0.1) -> dict[str, np.ndarray]:
    """Fit a preprocessing on training images (N, 3, H, W) in 0-255 units -> its dict of float64 arrays."""
    check_preprocessing_kind(kind)
    images = np.asarray(images)
    if images.ndim != 4 or len(images) < 2:
        raise ValueError(f"fit_preprocessing: expected at least 2 images of shape (N, C, H, W); got {images.shape}")
    if kind == "mean_image":
        return {"mean_image": images.mean(axis=0, dtype=np.float64)}
    if kind == "standardize":
        channel_mean = images.mean(axis=(0, 2, 3), dtype=np.float64)
        channel_std = np.array([images[:, k].std(dtype=np.float64) for k in range(images.shape[1])])
        shape = images.shape[1:]
        return {
            "mean_image": np.broadcast_to(channel_mean[:, None, None], shape).copy(),
            "scale": np.broadcast_to(1.0 / channel_std[:, None, None], shape).copy(),
        }
    # ZCA is fitted on [0, 1] pixels, where epsilon is defined; stored for 0-255 inputs:
    # (x/255 - m) W = (x - 255 m) (W / 255).
    mean, whitening = zca_whitening_matrix(images.reshape(len(images), -1) / 255.0, zca_epsilon)
    return {"mean_image": (255.0 * mean).reshape(images.shape[1:]), "whitening": whitening / 255.0}


def check_preprocessing(preprocessing: dict[str, np.ndarray], image_shape: tuple) -> dict[str, np.ndarray]:
    """Return the preprocessing if its arrays fit images of image_shape (C, H, W), else raise ValueError."""
    unknown = sorted(set(preprocessing) - set(PREPROCESSING_KEYS))
    if "mean_image" not in preprocessing or unknown:
        raise ValueError(
            f"a preprocessing holds mean_image and optionally scale, whitening; got "
            f"{', '.join(sorted(preprocessing)) or 'nothing'}"
        )
    size = int(np.prod(image_shape))
    shapes_ok = all(np.size(preprocessing[key]) == size for key in ("mean_image", "scale") if key in preprocessing)
    if "whitening" in preprocessing:
        shapes_ok &= np.shape(preprocessing["whitening"]) == (size, size)
    if not shapes_ok:
        shapes = ", ".join(f"{key} {np.shape(value)}" for key, value in preprocessing.items())
        raise ValueError(
            f"preprocessing arrays ({shapes}) do not fit images of shape {tuple(image_shape)}: "
            f"mean_image and scale need {size} elements, whitening ({size}, {size})"
        )
    return preprocessing


def preprocess(images: np.ndarray, preprocessing: dict[str, np.ndarray], dtype=np.float32) -> np.ndarray:
    """Apply a fitted preprocessing to raw images (N, C, H, W) -> (N, C, H, W) of dtype.

    Subtraction and scaling happen in float64 chunk by chunk; the whitening product runs in
    dtype (float32 is 2x faster and its rounding is far below the epsilon).
    """
    dtype = check_float_dtype(dtype)
    images = np.asarray(images)
    check_preprocessing(preprocessing, images.shape[1:])
    mean = np.asarray(preprocessing["mean_image"], dtype=np.float64).reshape(images.shape[1:])
    scale = preprocessing.get("scale")
    scale = None if scale is None else np.asarray(scale, dtype=np.float64).reshape(images.shape[1:])
    whitening = preprocessing.get("whitening")
    whitening = None if whitening is None else np.asarray(whitening, dtype=dtype)
    out = np.empty(images.shape, dtype=dtype)
    flat_out = out.reshape(len(out), int(np.prod(images.shape[1:])))  # -1 fails for 0 images
    for start in range(0, len(images), CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        centred = images[rows] - mean
        if scale is not None:
            centred *= scale
        if whitening is None:
            out[rows] = centred
        else:
            np.matmul(centred.reshape(len(centred), -1).astype(dtype), whitening, out=flat_out[rows])
    return out
