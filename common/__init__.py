"""The framework-free layer both implementations share: data, not code that trains.

CIFAR-10 loading (cifar10), input preprocessing (preprocess), the seeded batch stream with its
augmentation draws (batches), initial weights as data (init), RNG streams (rng), the
configuration of a run (config), atomic pickle-free files (artifacts), plots (plots) and
process settings (runtime). Nothing here imports numpy_impl, torch_impl or torch.
"""
