"""Hyperparameter search for the two-layer net (tune.py): search space, the lab's greedy search, reports."""
